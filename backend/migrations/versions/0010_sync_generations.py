"""A large sync writes in short batches: documents carry the generations they are visible in.

A project's documents are those of its current generation (`projects.generation`, g): a row
is visible while `born_gen <= g` and `died_gen` is NULL or above g. A sync that writes many
rows inserts its new and changed rows with `born_gen = g + 1` and marks the rows they replace
or delete with `died_gen = g + 1`, in short transactions that readers cannot see the effect
of; one short transaction then moves the project to g + 1, and the dead rows are deleted in
batches afterwards. So no write transaction of a sync is long, yet a reader sees either the
old or the new document set.

Two rows of one path (the one a sync replaces and its replacement) now coexist until the
swap, so the (project, path) uniqueness only holds among rows not marked dead: a partial
unique index instead of a table constraint. SQLite cannot drop a constraint, so the table is
rebuilt, ids and values kept (the search index refers to ids), the new columns before the
text (see 0002). Its triggers are re-created exactly as they were (read back from the schema
before the old table goes: DROP TABLE drops them before its implicit DELETE, so the index is
not touched). The migration runs with foreign keys off: the drop must not cascade into links.

Downgrade first removes the rows the current generation does not show (a sync cut short,
dead rows not yet deleted), which the older code would show, then restores the old table.

Revision ID: 0010_sync_generations
Revises: 0007_fingerprint_blob_id
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0010_sync_generations"
down_revision: str | None = "0007_fingerprint_blob_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEPT = (
    "id, project_id, doc_type, doc_id, title, status, owner, priority, story_points, epic, "
    "story, ref_id, depends_on, aliases, parser_epoch, file_path, file_hash, file_size, "
    "file_mtime_ns, file_ctime_ns, blob_sha, synced_at, archived, content_chars, content_epic, "
    "last_seen_at, metadata_json, content"
)
_TABLE = """CREATE TABLE documents_rebuilt (
        id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        doc_type VARCHAR(50) NOT NULL,
        doc_id VARCHAR(200) NOT NULL,
        title TEXT NOT NULL,
        status VARCHAR(100),
        owner TEXT,
        priority TEXT,
        story_points INTEGER,
        epic VARCHAR(64),
        story VARCHAR(64),
        ref_id VARCHAR(64),
        depends_on TEXT,
        aliases TEXT,
        parser_epoch INTEGER DEFAULT 0 NOT NULL,
        file_path TEXT NOT NULL,
        file_hash VARCHAR(64) NOT NULL,
        file_size INTEGER,
        file_mtime_ns INTEGER,
        file_ctime_ns INTEGER,
        blob_sha VARCHAR(64),
        synced_at VARCHAR(40) NOT NULL,
        archived BOOLEAN NOT NULL DEFAULT 0,
        content_chars INTEGER NOT NULL DEFAULT 0,
        content_epic VARCHAR(64),
        last_seen_at VARCHAR(40),{generations}
        metadata_json TEXT,
        content TEXT NOT NULL,
        PRIMARY KEY (id),{unique}
        FOREIGN KEY(project_id) REFERENCES projects (id) ON DELETE CASCADE
    )"""
_GENERATIONS = """
        born_gen INTEGER DEFAULT 0 NOT NULL,
        died_gen INTEGER,"""
_UNIQUE_0007 = """
        CONSTRAINT uq_documents_project_path UNIQUE (project_id, file_path),"""
_INDEXES = (
    "CREATE INDEX ix_documents_project_synced ON documents (project_id, synced_at, doc_id, id)",
    "CREATE INDEX ix_documents_project_title ON documents (project_id, title, doc_id, id)",
    "CREATE INDEX ix_documents_project_status ON documents (project_id, status, doc_id, id)",
    "CREATE INDEX ix_documents_ref_id ON documents (ref_id)",
    "CREATE INDEX ix_documents_unseen ON documents (project_id) WHERE last_seen_at IS NOT NULL",
    "CREATE INDEX ix_documents_sync_fingerprint ON documents (project_id, file_path, id, "
    "file_hash, file_size, file_mtime_ns, file_ctime_ns, parser_epoch, blob_sha)",
)
_INDEXES_0010 = (
    # A search of a common word walks this one: the generations keep it within the index.
    "CREATE INDEX ix_documents_project_type "
    "ON documents (project_id, doc_type, doc_id, id, born_gen, died_gen)",
    # The stats' counts by type and status stay within the index, generations included.
    "CREATE INDEX ix_documents_project_type_status "
    "ON documents (project_id, doc_type, status, born_gen, died_gen)",
    "CREATE UNIQUE INDEX uq_documents_project_path ON documents (project_id, file_path) "
    "WHERE died_gen IS NULL",
    # What a sync cut short left (rows of a generation never reached), found without a scan.
    "CREATE INDEX ix_documents_born ON documents (project_id, born_gen)",
    "CREATE INDEX ix_documents_dying ON documents (project_id, died_gen) "
    "WHERE died_gen IS NOT NULL",
)
_INDEXES_0007 = (
    "CREATE INDEX ix_documents_project_type ON documents (project_id, doc_type, doc_id, id)",
    "CREATE INDEX ix_documents_project_type_status ON documents (project_id, doc_type, status)",
)


def _rebuild(generations: str, unique: str, indexes: Sequence[str]) -> None:
    triggers = [
        row[0]
        for row in op.get_bind().execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'documents'")
        )
    ]
    op.execute(_TABLE.format(generations=generations, unique=unique))
    op.execute(f"INSERT INTO documents_rebuilt ({_KEPT}) SELECT {_KEPT} FROM documents")  # noqa: S608
    op.execute("DROP TABLE documents")
    op.execute("ALTER TABLE documents_rebuilt RENAME TO documents")
    for statement in (*_INDEXES, *indexes, *triggers):
        op.execute(statement)


def upgrade() -> None:
    op.execute("ALTER TABLE projects ADD COLUMN generation INTEGER DEFAULT 0 NOT NULL")
    _rebuild(_GENERATIONS, "", _INDEXES_0010)


def downgrade() -> None:
    # Rows no generation shows (a sync cut short, or dead ones not yet removed) would show.
    current = "(SELECT generation FROM projects WHERE projects.id = documents.project_id)"
    op.execute(f"DELETE FROM documents WHERE born_gen > {current}")  # noqa: S608
    op.execute(f"UPDATE documents SET died_gen = NULL WHERE died_gen > {current}")  # noqa: S608
    op.execute("DELETE FROM documents WHERE died_gen IS NOT NULL")
    _rebuild("", _UNIQUE_0007, _INDEXES_0007)
    op.execute("ALTER TABLE projects DROP COLUMN generation")
