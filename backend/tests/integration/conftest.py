"""A real Uvicorn process per test, on a fresh migrated database; killed at the end."""

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.processes import Server, start_server
from tests.helpers import migrate


def serve(tmp_path: Path, log_level: str) -> Iterator[Server]:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    running = start_server(database, tmp_path / "server.log", log_level=log_level)
    yield running
    running.stop(signal.SIGKILL)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from serve(tmp_path, "INFO")


@pytest.fixture
def debug_server(tmp_path: Path) -> Iterator[Server]:
    """Logging at DEBUG: the sync names its phases."""
    yield from serve(tmp_path, "DEBUG")
