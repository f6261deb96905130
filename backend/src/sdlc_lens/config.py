"""Application settings, read once from `SDLC_LENS_*` environment variables.

This class is the only place that knows a default: the app, Alembic, the health probe and the
container's entrypoint (through `python -m sdlc_lens.preflight`) all read their values here.
"""

import base64
import difflib
import logging
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sdlc_lens.listen_address import DEFAULT_HOST, DEFAULT_PORT

ENV_PREFIX = "SDLC_LENS_"
# Variables with the prefix that are read by tools around the service, not by it: the test
# suite's corpus location. Never warned about as unknown settings.
TOOL_VARIABLES = frozenset({"SDLC_LENS_TEST_CORPUS"})
# Settings of features of a later release, already in deployments, would be listed here:
# accepted and ignored without a warning (none today).
RESERVED_VARIABLES: frozenset[str] = frozenset()
# Settings whose value is never shown: not in an error line, a log line or a repr.
SECRET_SETTINGS = frozenset({"api_token", "token_encryption_key"})
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
WatchMode = Annotated[
    Literal["auto", "watch", "poll"],
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
]


def default_database_url() -> str:
    """`~/.local/share/sdlc-lens/sdlc_lens.db`: never relative to the working directory."""
    return f"sqlite:///{Path.home() / '.local' / 'share' / 'sdlc-lens' / 'sdlc_lens.db'}"


def comma_separated(value: object) -> object:
    """`"a, b/"` -> `["a", "b"]`: blank items and trailing slashes dropped (browsers send an
    Origin without one); anything but a string is left to validation."""
    if not isinstance(value, str):
        return value
    return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]


# An Origin as browsers send it: scheme://host[:port], the host a name, IPv4 or [IPv6].
_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>\d{1,5}))?",
    re.IGNORECASE,
)


def browser_origins(origins: list[str]) -> list[str]:
    """Each origin checked as `scheme://host[:port]` (or `*`), lower-cased as browsers send
    it; anything else (no scheme, a path) would silently never match, so it is refused."""
    checked = []
    for origin in origins:
        match = _ORIGIN.fullmatch(origin)
        if origin != "*" and (match is None or int(match["port"] or 1) not in range(1, 65536)):
            raise ValueError(
                f"each origin must be scheme://host[:port] (e.g. http://localhost:5173) or *, "
                f"got {origin!r}"
            )
        checked.append(origin.lower())
    return checked


# Sent in a header and compared byte for byte: visible ASCII only, long enough not to guess.
MIN_TOKEN_CHARS = 16
_TOKEN = re.compile(rf"[\x21-\x7e]{{{MIN_TOKEN_CHARS},}}")
_TOKEN_RULE = (
    f"must be at least {MIN_TOKEN_CHARS} visible ASCII characters without spaces "
    "(e.g. the output of `openssl rand -hex 32`)"
)


def _usable_token(token: SecretStr | None) -> SecretStr | None:
    if token is not None and not _TOKEN.fullmatch(token.get_secret_value()):
        raise ValueError(f"the token {_TOKEN_RULE}")
    return token


def _secret_file(path: Path, what: str) -> str:
    """What a file holds (Docker secrets style), surrounding whitespace dropped."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"cannot read the {what} file {path} ({reason})") from None


def _token_from_file(value: object) -> object:
    """The token a file holds (Docker secrets style), surrounding whitespace dropped."""
    if not isinstance(value, str | Path):
        return value
    token = _secret_file(Path(value), "token")
    if not _TOKEN.fullmatch(token):
        raise ValueError(f"the token in {value} {_TOKEN_RULE}")
    return token


# A Fernet key: 32 bytes in URL-safe base64 (44 characters). Checked here without importing
# the cryptography package, which the short-lived processes that read the settings never need.
_FERNET_KEY_RULE = (
    "must be a Fernet key: 32 bytes in URL-safe base64, e.g. the output of `python -c "
    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`'
)


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError):
        return False


def _usable_key(key: SecretStr | None) -> SecretStr | None:
    if key is not None and not _is_fernet_key(key.get_secret_value()):
        raise ValueError(f"the key {_FERNET_KEY_RULE}")
    return key


def _key_from_file(value: object) -> object:
    """The encryption key a file holds (Docker secrets: /run/secrets/...)."""
    if not isinstance(value, str | Path):
        return value
    key = _secret_file(Path(value), "key")
    if not _is_fernet_key(key):
        raise ValueError(f"the key in {value} {_FERNET_KEY_RULE}")
    return key


def _base_url(value: str) -> str:
    """An http(s) base URL without credentials, query or trailing slash."""
    url = value.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL, e.g. https://github.example.com")
    if parts.username is not None or parts.query or parts.fragment:
        raise ValueError("must be a plain base URL: no user name, password, query or fragment")
    return url


BaseUrl = Annotated[str, AfterValidator(_base_url)]
# Sent as the user name of HTTP basic auth, next to an access token: no colon, nothing invisible.
GitUserName = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x39\x3b-\x7e]+$")
]


class Settings(BaseSettings):
    """Every knob of the service. The container image sets only DATABASE_URL (to /data/db)."""

    # An empty variable means "unset" (compose files and `-e VAR=` produce them); surrounding
    # whitespace is ignored. Errors never repeat the input, so a token cannot reach a log line
    # or traceback through one.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        env_ignore_empty=True,
        str_strip_whitespace=True,
        hide_input_in_errors=True,
    )

    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    database_url: DatabaseUrl = Field(default_factory=default_database_url)
    log_level: LogLevel = "INFO"
    allowed_project_base: Path | None = None
    # Each sdlc-studio folder directly below it is registered and synced at start-up.
    projects_root: Path | None = None
    # Projects that discovery registers get auto_sync: their folder is followed.
    auto_sync_discovered: bool = True
    # Discovery deletes the projects below the root whose folder is gone (off: it reports them).
    forget_vanished: bool = False
    # How followed folders learn of changes (services/freshness/watcher.py): `auto` watches
    # with notifications where they work, `watch` also on network/FUSE file systems, `poll`
    # scans every folder every watch_fallback_seconds.
    watch_mode: WatchMode = "auto"
    watch_fallback_seconds: float = Field(default=10.0, ge=0.1, le=86400)
    # The most folders watched with notifications, over all projects (one inotify watch
    # each); folders of projects beyond it are scanned instead. 0: scan every folder.
    watch_max_folders: int = Field(default=8192, ge=0, le=1_000_000)
    # Browser origins allowed to call the API (CORS), comma-separated; unset: none; `*`: any.
    cors_origins: Annotated[
        list[str], NoDecode, BeforeValidator(comma_separated), AfterValidator(browser_origins)
    ] = []
    search_budget_seconds: PositiveFloat = 2.0  # work one search may do before it gets a 503
    # Memory for answers of the read API kept until their data changes (api/caching.py);
    # 0: none kept (ETags and 304 answers still work).
    response_cache_mb: int = Field(default=64, ge=0, le=65536)
    # Open connections at once; one more is answered 503 (http_server.py).
    max_connections: int = Field(default=256, ge=1, le=65535)
    # How long a client may take to send a request's headers, then its body, and how long
    # it may leave an answer unread, before its connection is closed (http_server.py).
    client_timeout_seconds: PositiveFloat = 10.0
    # Git repositories (SPEC-3 §18, services/sources/repository.py): the user name sent with an
    # access token (GitLab wants `oauth2`), the wall-clock time one exchange with the server
    # may take, and the most one sync may fetch.
    git_username: GitUserName = "x-access-token"
    git_timeout_seconds: PositiveFloat = 60.0
    git_max_fetch_mb: PositiveInt = 200
    # Freshness of remote projects with auto_sync (services/freshness/poller.py): how often
    # their branch head is checked (0: never), and the longest a failing one waits.
    sync_poll_interval_seconds: float = Field(default=300.0, ge=0)
    sync_poll_max_backoff_seconds: PositiveFloat = 3600.0
    # When set, POST/PUT/DELETE need `Authorization: Bearer <token>`; reads never do.
    api_token: Annotated[SecretStr | None, AfterValidator(_usable_token)] = None
    # The same token read from a file (SDLC_LENS_API_TOKEN_FILE names it: Docker secrets).
    api_token_file: Annotated[SecretStr | None, BeforeValidator(_token_from_file)] = None

    # GitHub (SPEC-3 §16-§17): the web address repository URLs are checked against (GitHub
    # Enterprise: https://HOST), its REST API, and how long one API request may take.
    github_url: BaseUrl = "https://github.com"
    github_api_url: BaseUrl = "https://api.github.com"
    github_timeout_seconds: PositiveFloat = 30.0
    # The Fernet key that encrypts stored access tokens (services/tokens.py), or a file that
    # holds it; unset: tokens are stored as they are, and a warning says so at start.
    token_encryption_key: Annotated[SecretStr | None, AfterValidator(_usable_key)] = None
    token_encryption_key_file: Annotated[SecretStr | None, BeforeValidator(_key_from_file)] = None

    @field_validator("api_token_file", "token_encryption_key_file")
    @classmethod
    def _one_secret_source(cls, secret: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        inline = str(info.field_name).removesuffix("_file")
        if secret is not None and info.data.get(inline) is not None:
            raise ValueError(f"set {env_name(inline)} or this, not both")
        return secret

    @property
    def write_token(self) -> str | None:
        """The token state-changing requests must carry; None: writes are open."""
        token = self.api_token or self.api_token_file
        return None if token is None else token.get_secret_value()

    @property
    def token_key(self) -> str | None:
        """The Fernet key for stored tokens; None: they are stored unencrypted."""
        key = self.token_encryption_key or self.token_encryption_key_file
        return None if key is None else key.get_secret_value()

    @property
    def log_level_number(self) -> int:
        """The level as the `logging` module's number."""
        return logging.getLevelNamesMapping()[self.log_level]


def env_name(field: str) -> str:
    """The environment variable behind a settings field (`log_level` -> SDLC_LENS_LOG_LEVEL)."""
    return ENV_PREFIX + field.upper()


def unknown_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each `SDLC_LENS_` variable that is no setting (a typo is otherwise
    ignored silently), naming the nearest setting when one is close."""
    known = {field.upper() for field in Settings.model_fields}
    warnings = []
    for name in sorted(os.environ if environ is None else environ):
        upper = name.upper()  # the settings' names are matched in any case
        if not upper.startswith(ENV_PREFIX) or upper in TOOL_VARIABLES | RESERVED_VARIABLES:
            continue
        field = upper.removeprefix(ENV_PREFIX)
        if field in known:
            continue
        nearest = difflib.get_close_matches(field, known, n=1)
        hint = (
            f"did you mean {ENV_PREFIX}{nearest[0]}?"
            if nearest
            else "the settings are listed in the README's Configuration table"
        )
        warnings.append(f"{name} is not a setting and is ignored; {hint}")
    return warnings


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
