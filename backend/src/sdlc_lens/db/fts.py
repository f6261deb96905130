"""The `documents_fts` full-text index: what it holds and how it stays in step with `documents`.

Three columns, equally weighted for bm25:
- `title`;
- `content`, the document's text (its body);
- `metadata`, the doc_id and the front-matter VALUES (status, owner, priority, epic, story,
  depends_on, aliases and every value of metadata_json), never their labels, so that a word
  such as "Status" does not match every document.

Each column holds at most the first INDEXED_CHARS characters of its text. A huge file then
costs a bounded amount to index, to rank and to cut a snippet from; words past that point
are not searchable.

The index is contentless (`content=''`): it stores the words and their positions, never a
second copy of the text (search cuts its snippets from `documents` itself). Triggers keep it
in step inside the sync's own transaction, row by row: an insert indexes the new row, a delete
(including a project delete's cascade) removes the old one, and an update of any column the
index reads swaps them. A sync therefore updates the index only for the rows it changed, and
the index is never ahead of or behind the documents. Removing a row from a contentless index
takes the values it was indexed with, so the triggers and `recreate_fts` compute them with one
expression. (Not an external-content view: FTS5 reads such a view in a mode that refuses
table-valued functions, and the metadata values need `json_each`.)

The migrations hold frozen copies of this DDL; a test checks that they create the same objects.
"""

from sqlalchemy import Connection, bindparam, text

FTS_TABLE = "documents_fts"
FTS_TRIGGERS = ("documents_fts_insert", "documents_fts_delete", "documents_fts_update")
# 1 Mi characters per column: far above any hand-written document (a 300-page spec is about
# 600,000 characters), small enough that indexing, ranking and snippets stay fast.
INDEXED_CHARS = 1_048_576

# The front-matter values that get their own column, in the order they are indexed.
_VALUE_COLUMNS = ("status", "owner", "priority", "epic", "story", "depends_on", "aliases")
# Every column whose change changes what is indexed: the update trigger fires on these.
INDEXED_SOURCE_COLUMNS = ("title", "content", "doc_id", *_VALUE_COLUMNS, "metadata_json")


# The SQL below is built once, at import, from the constant names above; it takes no input.


def _indexed_values(row: str) -> str:
    """The SQL expressions of (title, content, metadata) for the row `row` (`new`, `old`, ...)."""
    metadata_values = f"(SELECT group_concat(value, ' ') FROM json_each({row}.metadata_json))"  # noqa: S608
    values = " || ' ' || ".join(
        [f"{row}.doc_id"]
        + [f"coalesce({row}.{column}, '')" for column in _VALUE_COLUMNS]
        + [f"coalesce({metadata_values}, '')"]
    )
    return (
        f"substr({row}.title, 1, {INDEXED_CHARS}), "
        f"substr({row}.content, 1, {INDEXED_CHARS}), "
        f"substr({values}, 1, {INDEXED_CHARS})"
    )


# `_` is a token character so identifiers such as `sync_status` stay one searchable word.
CREATE_FTS_TABLE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "title, content, metadata, content='', "
    "tokenize=\"unicode61 tokenchars '_'\")"
)

# Persistent FTS5 settings, tuned on bulk syncs of 5,000 and 20,000 generated documents:
# a 64 MiB pending-data buffer (default 1 MiB) flushes a few large segments instead of many
# small ones, and merging 8 segments at a time (default 4) does less rewriting. Together
# they made a cold sync's index writes ~20 % faster and grow closer to linearly with size.
CONFIGURE_FTS = (
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('hashsize', 67108864)",  # noqa: S608
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', 8)",  # noqa: S608
)

_INSERT_NEW = (
    f"INSERT INTO {FTS_TABLE}(rowid, title, content, metadata) "  # noqa: S608
    f"VALUES (new.id, {_indexed_values('new')});"
)
_DELETE_OLD = (
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, content, metadata) "  # noqa: S608
    f"VALUES ('delete', old.id, {_indexed_values('old')});"
)
CREATE_FTS_TRIGGERS = (
    f"CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN {_INSERT_NEW} END",
    f"CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN {_DELETE_OLD} END",
    # Only on the indexed columns: a sync that refreshes a file's stat fingerprint leaves
    # the index alone.
    f"CREATE TRIGGER documents_fts_update AFTER UPDATE OF {', '.join(INDEXED_SOURCE_COLUMNS)} "
    f"ON documents BEGIN {_DELETE_OLD} {_INSERT_NEW} END",
)

DROP_FTS = (
    *(f"DROP TRIGGER IF EXISTS {name}" for name in reversed(FTS_TRIGGERS)),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
# Fills an empty index from every document (contentless tables have no 'rebuild').
REINDEX_ALL = (
    f"INSERT INTO {FTS_TABLE}(rowid, title, content, metadata) "  # noqa: S608
    f"SELECT documents.id, {_indexed_values('documents')} FROM documents"
)

_FTS_OBJECTS = frozenset({FTS_TABLE, *FTS_TRIGGERS})
_PRESENT = text("SELECT name FROM sqlite_master WHERE name IN :names").bindparams(
    bindparam("names", expanding=True)
)


def fts_table_exists(connection: Connection) -> bool:
    """Whether the index table is there (health reports it; it never creates it)."""
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": FTS_TABLE},
    ).first()
    return found is not None


def fts_complete(connection: Connection) -> bool:
    """Whether the index table and all three of its triggers exist."""
    present = connection.execute(_PRESENT, {"names": sorted(_FTS_OBJECTS)}).scalars()
    return set(present) == _FTS_OBJECTS


def recreate_fts(connection: Connection) -> None:
    """Drop whatever is left of the index, create it afresh and fill it from `documents`."""
    for statement in (*DROP_FTS, CREATE_FTS_TABLE, *CONFIGURE_FTS, *CREATE_FTS_TRIGGERS):
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(REINDEX_ALL)
