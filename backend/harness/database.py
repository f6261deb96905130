"""A database migrated by the real Alembic scripts."""

from alembic import command
from alembic.config import Config

from harness import BACKEND_DIR


def migrate(database_url: str, revision: str = "head") -> None:
    """Run the real Alembic migrations against `database_url`."""
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)
