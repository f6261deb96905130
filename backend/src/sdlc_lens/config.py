"""Application settings, read once from `SDLC_LENS_*` environment variables.

This class is the only place that knows a default: the app, Alembic, the health probe and the
container's entrypoint (through `python -m sdlc_lens.preflight`) all read their values here.
"""

import logging
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SDLC_LENS_"


def _level_name(value: object) -> object:
    # str_strip_whitespace does not reach a Literal: strip here too.
    return value.strip().upper() if isinstance(value, str) else value


def _usable_sqlite_url(value: str) -> str:
    """Refuse what is not a SQLite URL; the string itself is kept as the operator wrote it."""
    # Imported here, not at the top: ServerSettings (the health probe's) never needs SQLAlchemy.
    from sdlc_lens.db.engine import DatabaseUrlError, sqlite_url

    try:
        url = sqlite_url(value)
    except DatabaseUrlError as exc:
        raise ValueError(f"{exc}; expected sqlite:///<path of the database file>") from None
    if url.username or url.password or url.host:
        raise ValueError("a SQLite URL names a file only: no user, password or host")
    return value


# Any case is accepted (`debug`, `Warning`); stored upper-case, as `logging` names them.
LogLevel = Annotated[
    Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], BeforeValidator(_level_name)
]
DatabaseUrl = Annotated[str, AfterValidator(_usable_sqlite_url)]


def default_database_url() -> str:
    """`~/.local/share/sdlc-lens/sdlc_lens.db`: never relative to the working directory."""
    return f"sqlite:///{Path.home() / '.local' / 'share' / 'sdlc-lens' / 'sdlc_lens.db'}"


class ServerSettings(BaseSettings):
    """Where the server listens: all that the image's health probe reads. The probe runs every
    10 s, so it reads these alone and stays clear of the database layer's imports."""

    # An empty variable means "unset" (compose files and `-e VAR=` produce them); surrounding
    # whitespace is ignored.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True, str_strip_whitespace=True
    )

    host: str = "0.0.0.0"  # noqa: S104 - a LAN service listens on all interfaces by default
    port: int = Field(default=8000, ge=1, le=65535)


class Settings(ServerSettings):
    """Every knob of the service. The container image sets only DATABASE_URL (to /data/db)."""

    database_url: DatabaseUrl = Field(default_factory=default_database_url)
    log_level: LogLevel = "INFO"
    allowed_project_base: Path | None = None
    # Each sdlc-studio folder directly below it is registered and synced at start-up.
    projects_root: Path | None = None

    @property
    def log_level_number(self) -> int:
        """The level as the `logging` module's number."""
        return logging.getLevelNamesMapping()[self.log_level]


def env_name(field: str) -> str:
    """The environment variable behind a settings field (`log_level` -> SDLC_LENS_LOG_LEVEL)."""
    return ENV_PREFIX + field.upper()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
