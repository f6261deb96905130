"""Search index v2: title, body and metadata values; each column capped at 1 Mi characters.

The index now has three columns: `title`, `content` (the body) and `metadata` (the doc_id and
the front-matter values, never their labels). Each holds at most the first 1,048,576
characters of its text. The index is contentless (it keeps no copy of the text; snippets are
cut from `documents`), the triggers compute what they index with one expression, and the
update trigger fires on every column the index reads. Existing documents are re-indexed.

Revision ID: 0003_search_index
Revises: 0002_document_links
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_search_index"
down_revision: str | None = "0002_document_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the DDL (never imported from the application).
CREATE_FTS_TABLE = """
CREATE VIRTUAL TABLE documents_fts USING fts5(
    title, content, metadata, content='', tokenize="unicode61 tokenchars '_'")
"""

CONFIGURE_FTS = (
    "INSERT INTO documents_fts(documents_fts, rank) VALUES ('hashsize', 67108864)",
    "INSERT INTO documents_fts(documents_fts, rank) VALUES ('automerge', 8)",
)

# The SQL below is built at import from constant names only; it takes no input.


def _indexed_values(row: str) -> str:
    """(title, content, metadata) as indexed, for the row `row` (`new`, `old`, `documents`)."""
    metadata = " || ' ' || ".join(
        [f"{row}.doc_id"]
        + [
            f"coalesce({row}.{column}, '')"
            for column in ("status", "owner", "priority", "epic", "story", "depends_on", "aliases")
        ]
        + [f"coalesce((SELECT group_concat(value, ' ') FROM json_each({row}.metadata_json)), '')"]  # noqa: S608
    )
    return (
        f"substr({row}.title, 1, 1048576), substr({row}.content, 1, 1048576), "
        f"substr({metadata}, 1, 1048576)"
    )


_INSERT_NEW = (
    "INSERT INTO documents_fts(rowid, title, content, metadata) "  # noqa: S608
    f"VALUES (new.id, {_indexed_values('new')});"
)
_DELETE_OLD = (
    "INSERT INTO documents_fts(documents_fts, rowid, title, content, metadata) "  # noqa: S608
    f"VALUES ('delete', old.id, {_indexed_values('old')});"
)
CREATE_TRIGGERS = (
    f"CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN {_INSERT_NEW} END",
    f"CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN {_DELETE_OLD} END",
    "CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, content, doc_id, status, owner, "
    "priority, epic, story, depends_on, aliases, metadata_json "
    f"ON documents BEGIN {_DELETE_OLD} {_INSERT_NEW} END",
)

DROP_V2 = (
    "DROP TRIGGER IF EXISTS documents_fts_update",
    "DROP TRIGGER IF EXISTS documents_fts_delete",
    "DROP TRIGGER IF EXISTS documents_fts_insert",
    "DROP TABLE IF EXISTS documents_fts",
)
REINDEX_ALL = (
    "INSERT INTO documents_fts(rowid, title, content, metadata) "  # noqa: S608
    f"SELECT documents.id, {_indexed_values('documents')} FROM documents"
)

# What 0001 created, for the downgrade.
CREATE_V1_TABLE = (
    "CREATE VIRTUAL TABLE documents_fts USING fts5("
    "title, content, content='documents', content_rowid='id', "
    "tokenize=\"unicode61 tokenchars '_'\")"
)
CREATE_V1_TRIGGERS = (
    """CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
    """CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
    END""",
    """CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, content
    ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
        INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
)
REBUILD_V1 = "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')"


def upgrade() -> None:
    for statement in (*DROP_V2, CREATE_FTS_TABLE, *CONFIGURE_FTS, *CREATE_TRIGGERS, REINDEX_ALL):
        op.execute(statement)


def downgrade() -> None:
    for statement in (*DROP_V2, CREATE_V1_TABLE, *CONFIGURE_FTS, *CREATE_V1_TRIGGERS, REBUILD_V1):
        op.execute(statement)
