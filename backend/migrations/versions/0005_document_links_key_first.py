"""document_links: the primary key's columns first, so `PRAGMA integrity_check` says `ok`.

SQLite 3.40 (Debian 12's, the image's) misreads the columns of a WITHOUT ROWID table that
follow a non-key column when it checks NOT NULL constraints: on a healthy database,
`PRAGMA integrity_check` reported a "NULL value in document_links.project_id" (and
`.ref_key`) for every row, 264,664 false errors on one database, which could send an operator
to restore a backup. With the key's columns leading the table, the check reads every column
correctly. Same constraints, same index, same rows: only the column order changes.

Revision ID: 0005_links_key_first
Revises: 0004_project_ids
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_links_key_first"
down_revision: str | None = "0004_project_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "document_id, kind, position, project_id, ref_key"
UPGRADE = (
    """CREATE TABLE document_links_rebuilt (
        document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        kind VARCHAR(20) NOT NULL,
        position INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        ref_key VARCHAR(64) NOT NULL,
        PRIMARY KEY (document_id, kind, position)
    ) WITHOUT ROWID""",
    f"INSERT INTO document_links_rebuilt ({_COLUMNS}) "  # noqa: S608
    f"SELECT {_COLUMNS} FROM document_links",
    "DROP TABLE document_links",
    "ALTER TABLE document_links_rebuilt RENAME TO document_links",
    "CREATE INDEX ix_document_links_key ON document_links (project_id, kind, ref_key)",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    """Nothing to undo: the older code names every column it reads and writes."""
