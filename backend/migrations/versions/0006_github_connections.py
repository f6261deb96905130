"""github_connections: the stored GitHub connections of the Settings page (SPEC-3 §17).

A connection is a label and a personal access token, checked against GitHub (its `login` is
kept) and stored once; a project of source type `github` names one by `projects.connection_id`.
Ids are never reused (AUTOINCREMENT), so a project that still names a deleted connection
never reaches a newer one; deleting a connection in use is refused by the API (409), which is
why `projects.connection_id` needs no foreign key (SQLite could add one only by rebuilding
`projects`). Labels are unique in any case. `access_token` holds the token as
services/tokens.py stores it (`enc:v1:...` when a key is set).

The projects' source columns (source_type, repo_url, repo_branch, repo_path, access_token,
connection_id, auto_sync, last_synced_commit_sha) exist since 0001: nothing to add there.

Revision ID: 0006_github_connections
Revises: 0005_links_key_first
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_github_connections"
down_revision: str | None = "0005_links_key_first"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = (
    """CREATE TABLE github_connections (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        label VARCHAR(100) NOT NULL COLLATE NOCASE,
        login VARCHAR(100) NOT NULL,
        access_token TEXT NOT NULL,
        created_at VARCHAR(40) NOT NULL,
        updated_at VARCHAR(40) NOT NULL,
        last_validated_at VARCHAR(40),
        CONSTRAINT uq_github_connections_label UNIQUE (label)
    )""",
    # DELETE /connections/{id} looks for the projects that use it.
    "CREATE INDEX ix_projects_connection_id ON projects (connection_id)",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX ix_projects_connection_id")
    op.drop_table("github_connections")
