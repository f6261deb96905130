"""A database migrated by the real Alembic scripts."""

from alembic import command
from alembic.config import Config

from harness import BACKEND_DIR


def migrate(database_url: str, revision: str = "head") -> None:
    """Run the real Alembic migrations against `database_url`."""
    command.upgrade(_alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Run the real Alembic downgrades against `database_url`, down to `revision`."""
    command.downgrade(_alembic_config(database_url), revision)


def _alembic_config(database_url: str) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config
