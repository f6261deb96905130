"""Application settings, read once from `SDLC_LENS_*` environment variables.

This class is the only place that knows a default: the app, Alembic, the health probe and the
container's entrypoint (through `python -m sdlc_lens.preflight`) all read their values here.
"""

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, BeforeValidator, Field, PositiveFloat
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "SDLC_LENS_"
# scheme://authority/database?query, as SQLAlchemy splits a URL; SQLite has no authority.
_URL = re.compile(r"(?P<scheme>[\w+]+)://(?P<authority>[^/?]*)(?:/(?P<database>[^?]*))?(?:\?.*)?")
_EXPECTED = "sqlite:///<path of the database file>"


def _level_name(value: object) -> object:
    # str_strip_whitespace does not reach a Literal: strip here too.
    return value.strip().upper() if isinstance(value, str) else value


def sqlite_database_path(database_url: str) -> Path | None:
    """The absolute path of the file a SQLite URL names; None for an in-memory database.

    Raises ValueError (saying what to write instead) for anything that is not a SQLite URL
    naming a file. Parsed with the standard library, so that reading the settings stays cheap
    for the short-lived processes (the entrypoint's check, the health probe); the engine parses
    the URL again with SQLAlchemy, and a test keeps both readings in agreement.
    """
    match = _URL.fullmatch(database_url)
    if match is None:
        raise ValueError(f"not a database URL; expected {_EXPECTED}")
    backend = match["scheme"].partition("+")[0]
    if backend != "sqlite":
        raise ValueError(f"only SQLite is supported, got {backend!r}; expected {_EXPECTED}")
    if match["authority"]:
        raise ValueError("a SQLite URL names a file only: no user, password or host")
    database = unquote(match["database"] or "")
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser().absolute()


def _usable_sqlite_url(value: str) -> str:
    sqlite_database_path(value)  # the string is kept as the operator wrote it
    return value


# Any case is accepted (`debug`, `Warning`); stored upper-case, as `logging` names them.
LogLevel = Annotated[
    Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], BeforeValidator(_level_name)
]
DatabaseUrl = Annotated[str, AfterValidator(_usable_sqlite_url)]


def default_database_url() -> str:
    """`~/.local/share/sdlc-lens/sdlc_lens.db`: never relative to the working directory."""
    return f"sqlite:///{Path.home() / '.local' / 'share' / 'sdlc-lens' / 'sdlc_lens.db'}"


def comma_separated(value: object) -> object:
    """`"a, b/"` -> `["a", "b"]`: blank items and trailing slashes dropped (browsers send an
    Origin without one); anything but a string is left to validation."""
    if not isinstance(value, str):
        return value
    return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]


class Settings(BaseSettings):
    """Every knob of the service. The container image sets only DATABASE_URL (to /data/db)."""

    # An empty variable means "unset" (compose files and `-e VAR=` produce them); surrounding
    # whitespace is ignored.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True, str_strip_whitespace=True
    )

    host: str = "0.0.0.0"  # noqa: S104 - a LAN service listens on all interfaces by default
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: DatabaseUrl = Field(default_factory=default_database_url)
    log_level: LogLevel = "INFO"
    allowed_project_base: Path | None = None
    # Each sdlc-studio folder directly below it is registered and synced at start-up.
    projects_root: Path | None = None
    # Browser origins allowed to call the API (CORS), comma-separated; unset: none; `*`: any.
    cors_origins: Annotated[list[str], NoDecode, BeforeValidator(comma_separated)] = []
    search_budget_seconds: PositiveFloat = 2.0  # work one search may do before it gets a 503
    # Open connections at once; one more is answered 503 (http_server.py).
    max_connections: int = Field(default=256, ge=1, le=65535)
    # How long a client may take to send a request's headers, then its body, and how long
    # it may leave an answer unread, before its connection is closed (http_server.py).
    client_timeout_seconds: PositiveFloat = 10.0

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
