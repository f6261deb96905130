"""Project ids are never reused: `projects.id` becomes AUTOINCREMENT.

Before, a new project took the highest id in use plus one. A project deleted while its first
sync was still parsing had no documents yet, so the next project created took its id, and
the deleted project's sync, whose write step only checked that the id existed, wrote its
documents into the new project. With AUTOINCREMENT, SQLite never hands out an id again, so
a write for a deleted project finds no row. The sequence starts above every id still named
by a row (documents and links of a deleted project are purged after it, in batches).

SQLite cannot change a primary key in place, so the table is rebuilt, ids and every value
kept. The migration runs with foreign keys off (migrations/env.py): dropping the old table
must not cascade into the documents that refer to it.

Downgrade keeps the AUTOINCREMENT table: the older code gives ids explicitly and works with
it, and going back to reusable ids would bring the bug back.

Revision ID: 0004_project_ids
Revises: 0003_search_index
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_project_ids"
down_revision: str | None = "0003_search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    "id, slug, name, sdlc_path, sync_status, sync_error, last_synced_at, schema_version, "
    "profile, status_vocab, created_at, updated_at, source_type, repo_url, repo_branch, "
    "repo_path, access_token, connection_id, auto_sync, last_synced_commit_sha"
)
UPGRADE = (
    """CREATE TABLE projects_rebuilt (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        slug VARCHAR(200) NOT NULL,
        name VARCHAR(200) NOT NULL,
        sdlc_path TEXT,
        sync_status VARCHAR(20) DEFAULT 'never_synced' NOT NULL,
        sync_error TEXT,
        last_synced_at VARCHAR(40),
        schema_version INTEGER,
        profile VARCHAR(100),
        status_vocab TEXT,
        created_at VARCHAR(40) NOT NULL,
        updated_at VARCHAR(40) NOT NULL,
        source_type VARCHAR(20) DEFAULT 'local' NOT NULL,
        repo_url TEXT,
        repo_branch VARCHAR(200) DEFAULT 'main' NOT NULL,
        repo_path VARCHAR(500) DEFAULT 'sdlc-studio' NOT NULL,
        access_token TEXT,
        connection_id INTEGER,
        auto_sync BOOLEAN DEFAULT 0 NOT NULL,
        last_synced_commit_sha VARCHAR(64),
        CONSTRAINT uq_projects_slug UNIQUE (slug)
    )""",
    f"INSERT INTO projects_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM projects",  # noqa: S608
    "DROP TABLE projects",
    "ALTER TABLE projects_rebuilt RENAME TO projects",
    # The copy set the sequence to the highest live id; ids of deleted projects whose rows
    # are not purged yet are taken too.
    "DELETE FROM sqlite_sequence WHERE name = 'projects'",
    """INSERT INTO sqlite_sequence (name, seq) SELECT 'projects', max(
        coalesce((SELECT max(id) FROM projects), 0),
        coalesce((SELECT max(project_id) FROM documents), 0),
        coalesce((SELECT max(project_id) FROM document_links), 0))""",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    """Nothing to undo: see the module docstring."""
