"""The schema revision this code expects, and the revision a database is at."""

from sqlalchemy import Connection, text

# Keep equal to the newest revision in migrations/versions (a test checks it). A constant,
# because the installed package cannot rely on finding the migrations folder at run time.
MIGRATION_HEAD = "0005_links_key_first"

_HAS_VERSION_TABLE = text(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
)
_REVISION = text("SELECT version_num FROM alembic_version")


def database_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at; None if it was never migrated."""
    if connection.execute(_HAS_VERSION_TABLE).first() is None:
        return None
    return connection.execute(_REVISION).scalar()
