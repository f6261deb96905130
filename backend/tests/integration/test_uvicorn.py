"""A real Uvicorn process on a real socket: start-up, responsiveness during a sync, logs,
graceful shutdown, and a process killed in the middle of a sync."""

import asyncio
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from harness.processes import CLEAN_EXITS, Server, start_server, wait_for_sync
from sdlc_lens.healthcheck import HEALTH_PATH
from tests.fixtures import write_fixture_tree

COPIES = 60  # 60 x 38 recipe-box documents: a sync that lasts long enough to talk over


@pytest.fixture(scope="module")
def small_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixture_tree(tmp_path_factory.mktemp("small"), "recipe-box")


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory, small_tree: Path) -> Path:
    root = tmp_path_factory.mktemp("big") / "sdlc-studio"
    for index in range(COPIES):
        shutil.copytree(small_tree, root / f"copy-{index:02d}")
    return root


def register_and_trigger(client: httpx.Client, path: Path) -> None:
    created = client.post("/api/v1/projects", json={"name": "Big", "sdlc_path": str(path)})
    assert created.status_code == 201, created.text
    assert client.post("/api/v1/projects/big/sync").status_code == 202


def sync_small_project(client: httpx.Client, tree: Path) -> None:
    """Register the 38-document recipe-box tree as `small` and sync it to the end."""
    body = {"name": "Small", "sdlc_path": str(tree)}
    assert client.post("/api/v1/projects", json=body).status_code == 201
    assert client.post("/api/v1/projects/small/sync").status_code == 202
    assert wait_for_sync(client, "small")["sync_status"] == "synced"


def start_big_sync_over_small_project(server: Server, small_tree: Path, big_tree: Path) -> None:
    """Sync the 38-document tree, then re-point the project at the big tree and trigger."""
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        sync_small_project(client, small_tree)
        repoint = client.put("/api/v1/projects/small", json={"sdlc_path": str(big_tree)})
        assert repoint.status_code == 200
        assert client.post("/api/v1/projects/small/sync").status_code == 202


def test_health_stays_prompt_while_a_large_project_syncs(server: Server, big_tree: Path) -> None:
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        register_and_trigger(client, big_tree)
        answered_during_sync = 0
        slowest = 0.0
        while client.get("/api/v1/projects/big").json()["sync_status"] == "syncing":
            started = time.perf_counter()
            response = client.get(HEALTH_PATH)
            slowest = max(slowest, time.perf_counter() - started)
            assert response.status_code == 200
            answered_during_sync += 1
        project = client.get("/api/v1/projects/big").json()
    assert project["sync_status"] == "synced", project
    assert project["document_count"] == COPIES * 38
    assert answered_during_sync >= 3
    # Not a benchmark: "promptly" means no request waits for the sync to finish.
    assert slowest < 1.0, f"health took {slowest:.3f}s during the sync"
    log = server.wait_for_log("finished: synced in")
    # Sync log lines name the project by slug and give counts and duration.
    assert f"sync of big started: {big_tree}" in log
    assert f"sync of big: found {COPIES * 38} document file(s) in " in log
    assert "sync of big finished: synced in" in log and f"{COPIES * 38} added" in log
    assert "DEBUG" not in log


def test_sigterm_shuts_down_gracefully(server: Server) -> None:
    assert server.stop(signal.SIGTERM, timeout=10) in CLEAN_EXITS
    log = server.log()
    assert "Shutting down" in log and "Finished server process" in log


def test_sigterm_during_a_sync_keeps_previous_documents(
    server: Server, small_tree: Path, big_tree: Path
) -> None:
    start_big_sync_over_small_project(server, small_tree, big_tree)
    assert server.stop(signal.SIGTERM, timeout=30) in CLEAN_EXITS
    with sqlite3.connect(server.database) as conn:
        status, error = conn.execute("SELECT sync_status, sync_error FROM projects").fetchone()
        count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    # Either the sync finished before the signal, or it was stopped having written nothing.
    assert (status, count) in {("synced", COPIES * 38), ("error", 38)}, (status, error, count)
    if status == "error":
        assert "interrupted" in error


def test_killed_mid_sync_leaves_previous_documents_intact(
    server: Server, small_tree: Path, big_tree: Path
) -> None:
    start_big_sync_over_small_project(server, small_tree, big_tree)
    time.sleep(0.2)
    server.stop(signal.SIGKILL)
    with sqlite3.connect(server.database) as conn:
        count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        indexed = conn.execute("SELECT count(*) FROM documents_fts_docsize").fetchone()[0]
    assert count in {38, COPIES * 38} and indexed == count
    restarted = start_server(server.database, server.log_path)
    try:
        project = httpx.get(f"{restarted.base_url}/api/v1/projects/small", timeout=5).json()
        if count == 38:  # killed before the commit: the restart reports the interruption
            assert project["sync_status"] == "error" and "interrupted" in project["sync_error"]
        assert project["document_count"] == count
    finally:
        assert restarted.stop() in CLEAN_EXITS


def test_a_burst_beyond_the_pool_and_thread_limits_is_served(
    server: Server, small_tree: Path
) -> None:
    """More concurrent requests than pooled connections (20) and worker threads (40):
    every one is answered, none waits on a connection the event loop would have to return."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        sync_small_project(client, small_tree)
    paths = ["/api/v1/search?q=recipe", "/api/v1/projects/small", HEALTH_PATH]

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=150)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20, limits=limits) as c:
            responses = await asyncio.gather(*(c.get(paths[i % 3]) for i in range(150)))
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 150
