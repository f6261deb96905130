"""Bounded resources after a sync (issue 9 item 5), on a real Uvicorn process: the WAL file
does not keep the size of the last sync, and the process hands back the memory the sync used.
"""

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from benchmarks.corpus import generate
from harness.processes import Server, wait_for_sync
from sdlc_lens.db.engine import create_db_engine

DOCUMENTS = 3000


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(DOCUMENTS, tmp_path_factory.mktemp("tree") / "sdlc-studio")


def memory_mb(server: Server) -> dict[str, int]:
    """Resident memory, and its anonymous part (the rest is mapped files: the database)."""
    fields = {}
    for line in Path(f"/proc/{server.process.pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) // 1024
    return {"rss": fields["Rss"], "anonymous": fields["Anonymous"]}


def sync_tree(server: Server, tree: Path) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        body = {"name": "Big", "sdlc_path": str(tree)}
        assert client.post("/api/v1/projects", json=body).status_code == 201
        assert client.post("/api/v1/projects/big/sync").status_code == 202
        project = wait_for_sync(client, "big")
    assert project["sync_status"] == "synced" and project["document_count"] == DOCUMENTS


def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Whether `condition()` holds within `timeout` (the runner tidies up after the sync)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_wal_is_emptied_after_a_sync(server: Server, tree: Path) -> None:
    wal = server.database.with_name(server.database.name + "-wal")
    sync_tree(server, tree)
    # The sync wrote tens of MB through the WAL; it is folded into the database at once.
    assert eventually(lambda: wal.stat().st_size == 0), f"WAL stays at {wal.stat().st_size} bytes"
    with sqlite3.connect(server.database) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == DOCUMENTS


def test_a_reset_wal_is_truncated_to_64_mb_on_every_connection(tmp_path: Path) -> None:
    """When readers kept the checkpoint from emptying the WAL, SQLite truncates it to the
    limit the next time it starts the WAL over."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'lens.db'}")
    try:
        with engine.connect() as conn:
            limit = conn.exec_driver_sql("PRAGMA journal_size_limit").scalar()
    finally:
        engine.dispose()
    assert 0 < limit <= 64 * 1024 * 1024


def test_memory_after_a_cold_sync_is_within_half_again_of_before(
    server: Server, tree: Path
) -> None:
    with httpx.Client(base_url=server.base_url) as client:  # warm up the read paths
        client.get("/api/v1/projects")
        client.get("/api/v1/search", params={"q": "task"})
    before = memory_mb(server)
    sync_tree(server, tree)
    assert eventually(lambda: memory_mb(server)["rss"] <= 1.5 * before["rss"]), (
        f"before {before}, after {memory_mb(server)} (MB)"
    )
