"""A sync's scratch database, left by a kill -9 in the middle of the sync, is removed when
the service starts again, not only by the next sync (issue 15, "Parsing and sync")."""

import signal
import time
from pathlib import Path

import httpx

from benchmarks.corpus import generate
from harness.processes import start_server
from tests.helpers import migrate


def test_the_scratch_file_a_killed_sync_left_is_removed_at_start(tmp_path: Path) -> None:
    database = tmp_path / "lens.db"
    scratch = tmp_path / "lens.db-sync"
    migrate(f"sqlite:///{database}")
    tree = generate(3000, tmp_path / "tree" / "sdlc-studio")
    server = start_server(database, tmp_path / "first.log", log_level="DEBUG")
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            body = {"name": "Big", "sdlc_path": str(tree)}
            assert client.post("/api/v1/projects", json=body).status_code == 201
            assert client.post("/api/v1/projects/big/sync").status_code == 202
        server.wait_for_log("writing to the database", timeout=60)
    finally:
        server.stop(signal.SIGKILL)
    assert scratch.stat().st_size > 1_000_000  # the staged rows, left behind

    again = start_server(database, tmp_path / "second.log")
    try:
        deadline = time.monotonic() + 10
        while scratch.exists():
            assert time.monotonic() < deadline, again.log()
            time.sleep(0.05)
        assert "removed the sync's scratch file left by a crash" in again.wait_for_log(
            "scratch file"
        )
    finally:
        again.stop(signal.SIGKILL)
