"""The settings check that runs before anything is migrated.

The container's start runs it inside `alembic upgrade head` (migrations/env.py), so that no
separate Python process is started for it; `python -m sdlc_lens.preflight` runs it alone.
On success the entrypoint learns `host port log-level database-url` on one line (the log level
lower-cased, as Uvicorn's `--log-level` takes it). An invalid setting stops the start before
anything is migrated: exit status 2 and one line per bad setting on stderr,
`invalid setting SDLC_LENS_X=value: reason`, without a traceback.
"""

import logging
import os
import re
import sys
from pathlib import Path

from pydantic import ValidationError

from sdlc_lens.config import SECRET_SETTINGS, Settings, env_name, sqlite_database_path
from sdlc_lens.container import running_in_container
from sdlc_lens.logging_setup import log_formatter

EXIT_INVALID_SETTINGS = 2
# user:password@ in a URL (a refused database URL may carry one; it is not logged).
_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@")

# Named for the reader: as `python -m`, __name__ would be "__main__".
logger = logging.getLogger("sdlc_lens.preflight")


class InvalidSettingsError(Exception):
    """Settings the service cannot start with; `lines` holds one message per bad setting."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def invalid_setting(field: str, value: str, reason: str) -> str:
    """`invalid setting SDLC_LENS_X=value: reason`."""
    return f"invalid setting {env_name(field)}={_shown(field, value)}: {reason}"


def check_settings() -> Settings:
    """The settings from the environment, or InvalidSettingsError saying what to change."""
    try:
        settings = Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0])
            value = os.environ.get(env_name(field), str(error["input"]))
            lines.append(invalid_setting(field, value, error["msg"].removeprefix("Value error, ")))
        raise InvalidSettingsError(lines) from None
    problem = database_folder_problem(settings.database_url)
    if problem is not None:
        raise InvalidSettingsError(
            [invalid_setting("database_url", settings.database_url, problem)]
        )
    return settings


def database_folder_problem(database_url: str) -> str | None:
    """Why the database's folder cannot be used (created if missing), or None when it can."""
    path = sqlite_database_path(database_url)
    if path is None:
        return None  # in memory
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the database folder {folder} ({exc.strerror}); {_fix(folder)}"
    # SQLite writes its -wal and -shm files next to the database: the folder must be writable.
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the database folder {folder} is not writable by {_user()}; {_fix(folder)}"
    return None


def _user() -> str:
    return f"uid {os.getuid()} (gid {os.getgid()})"


def _fix(folder: Path) -> str:
    owner = f"{os.getuid()}:{os.getgid()}"
    if running_in_container():
        return f"fix: chown -R {owner} the host folder or volume mounted at {folder}"
    return f"fix: chown -R {owner} {folder}, or set SDLC_LENS_DATABASE_URL to a writable place"


def _shown(field: str, value: str) -> str:
    """The value as the operator wrote it, on one line; a URL's password hidden, a secret
    not shown at all."""
    if field in SECRET_SETTINGS:
        return "(hidden)"
    if field == "database_url":
        value = _PASSWORD.sub(r"\1:***@", value)
    return value if value.isprintable() and value.strip() == value else repr(value)


def settings_or_exit() -> Settings:
    """The checked settings; for invalid ones, one line each on stderr, then exit status 2."""
    try:
        return check_settings()
    except InvalidSettingsError as exc:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_formatter())
        logger.addHandler(handler)
        logger.propagate = False
        for line in exc.lines:
            logger.error("%s", line)
        sys.exit(EXIT_INVALID_SETTINGS)


def startup_line(settings: Settings) -> str:
    """`host port log-level database-url`: what docker-entrypoint.sh reads."""
    return f"{settings.host} {settings.port} {settings.log_level.lower()} {settings.database_url}"


if __name__ == "__main__":
    print(startup_line(settings_or_exit()))
