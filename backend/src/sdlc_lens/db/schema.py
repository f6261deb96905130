"""The schema revision this code expects, and the revision a database is at."""

from sqlalchemy import Connection, text

# Keep equal to the newest revision in migrations/versions (a test checks it). A constant,
# because the installed package cannot rely on finding the migrations folder at run time.
MIGRATION_HEAD = "0010_sync_generations"

# The exit status of `alembic upgrade` when the database is newer than this code (a downgrade):
# the migrations said why in one line, so docker-entrypoint.sh adds none of its own.
EXIT_SCHEMA_TOO_NEW = 3

_HAS_VERSION_TABLE = text(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
)
_REVISION = text("SELECT version_num FROM alembic_version")


def database_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at; None if it was never migrated."""
    if connection.execute(_HAS_VERSION_TABLE).first() is None:
        return None
    return connection.execute(_REVISION).scalar()


def schema_too_new_message(database: str, revision: str, version: str) -> str:
    """What an older version says, refusing to start on a database a newer one upgraded."""
    return (
        f"the database {database} is at schema revision {revision}, which SDLC Lens {version} "
        f"does not know (its newest is {MIGRATION_HEAD}): a newer version has upgraded it. "
        "Downgrading is not supported: run that newer version again, or restore the backup "
        "taken before the upgrade (docs/operations.md)"
    )
