"""Initial schema: projects, documents and the documents_fts full-text index.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sdlc_path", sa.Text()),
        sa.Column("sync_status", sa.String(20), nullable=False, server_default="never_synced"),
        sa.Column("sync_error", sa.Text()),
        sa.Column("last_synced_at", sa.String(40)),
        sa.Column("schema_version", sa.Integer()),
        sa.Column("profile", sa.String(100)),
        sa.Column("status_vocab", sa.Text()),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("source_type", sa.String(20), nullable=False, server_default="local"),
        sa.Column("repo_url", sa.Text()),
        sa.Column("repo_branch", sa.String(200), nullable=False, server_default="main"),
        sa.Column("repo_path", sa.String(500), nullable=False, server_default="sdlc-studio"),
        sa.Column("access_token", sa.Text()),
        sa.Column("connection_id", sa.Integer()),
        sa.Column("auto_sync", sa.Boolean(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_synced_commit_sha", sa.String(64)),
        sa.UniqueConstraint("slug", name="uq_projects_slug"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("doc_type", sa.String(50), nullable=False),
        sa.Column("doc_id", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(100)),
        sa.Column("owner", sa.Text()),
        sa.Column("priority", sa.Text()),
        sa.Column("story_points", sa.Integer()),
        sa.Column("epic", sa.String(64)),
        sa.Column("story", sa.String(64)),
        sa.Column("ref_id", sa.String(64)),
        sa.Column("depends_on", sa.Text()),
        sa.Column("aliases", sa.Text()),
        sa.Column("parser_epoch", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("file_size", sa.Integer()),
        sa.Column("file_mtime_ns", sa.Integer()),
        sa.Column("file_ctime_ns", sa.Integer()),
        sa.Column("blob_sha", sa.String(64)),
        sa.Column("synced_at", sa.String(40), nullable=False),
        # Large values last: SQLite stores a row in column order and spills it into overflow
        # pages, so any column after `content` would cost a walk of the document's text to read.
        sa.Column("metadata_json", sa.Text()),
        sa.Column("content", sa.Text(), nullable=False),
        sa.UniqueConstraint("project_id", "file_path", name="uq_documents_project_path"),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "documents", columns)
    for statement in (CREATE_FTS_TABLE, *CONFIGURE_FTS, *CREATE_FTS_TRIGGERS):
        op.execute(statement)


INDEXES = {
    "ix_documents_project_synced": ["project_id", "synced_at", "doc_id", "id"],
    "ix_documents_project_title": ["project_id", "title", "doc_id", "id"],
    "ix_documents_project_type": ["project_id", "doc_type", "doc_id", "id"],
    "ix_documents_project_status": ["project_id", "status", "doc_id", "id"],
    "ix_documents_project_type_status": ["project_id", "doc_type", "status"],
    "ix_documents_ref_id": ["ref_id"],
    "ix_documents_sync_fingerprint": [
        "project_id",
        "file_path",
        "id",
        "file_hash",
        "file_size",
        "file_mtime_ns",
        "file_ctime_ns",
        "parser_epoch",
    ],
}


# The full-text index as this revision created it. Frozen history: copied here, never
# imported, so later changes to the application's index cannot rewrite what 0001 did.
CREATE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5("
    "title, content, content='documents', content_rowid='id', "
    "tokenize=\"unicode61 tokenchars '_'\")"
)
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


def downgrade() -> None:
    for statement in DROP_FTS:
        op.execute(statement)
    op.drop_table("documents")
    op.drop_table("projects")
