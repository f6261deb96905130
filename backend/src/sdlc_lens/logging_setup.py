"""One log format on stdout for the app, Alembic and Uvicorn, installed once.

docker-entrypoint.sh writes its own lines in the same format (`LOG_FORMAT`, `DATE_FORMAT`):
`2026-03-02T09:15:04 INFO [name] message`.
"""

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_HANDLER_NAME = "sdlc-lens-stdout"
# Uvicorn installs its own handlers (stderr, a different format) on these before it loads the
# app; they are handed over to the root handler instead.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.access")


def log_formatter() -> logging.Formatter:
    """The formatter every line of the service uses."""
    return logging.Formatter(LOG_FORMAT, DATE_FORMAT)


def configure_logging(level: str) -> None:
    """Send all logs to stdout at `level`; calling it again only changes the level."""
    root = logging.getLogger()
    if not any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(log_formatter())
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("sdlc_lens").setLevel(level)
    for name in _UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        # A logger without handlers is one Uvicorn switched off (`--no-access-log`) or never
        # configured (the app run without Uvicorn): leave it as it is.
        if uvicorn_logger.handlers:
            uvicorn_logger.handlers.clear()
            uvicorn_logger.propagate = True
