"""A real Uvicorn process per test, on a fresh migrated database; killed at the end."""

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.processes import Server, start_server
from tests.helpers import db_file


def serve(
    database: Path, log_level: str, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """Uvicorn on `database`, logging beside it; `settings` adds `SDLC_LENS_*` variables."""
    log = database.with_name("server.log")
    running = start_server(database, log, log_level=log_level, settings=settings)
    yield running
    running.stop(signal.SIGKILL)


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    yield from serve(db_file(database_url), "INFO")


@pytest.fixture
def debug_server(database_url: str) -> Iterator[Server]:
    """Logging at DEBUG: the sync names its phases."""
    yield from serve(db_file(database_url), "DEBUG")
