"""Database faults (issue 9 item 4): a full disk, a held write lock, a read-only or damaged
database file. Each is reported where the user looks and never wedges the service."""

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.fixtures import write_fixture_tree
from tests.helpers import (
    assert_error,
    db_file,
    register,
    sync,
    wait_for_sync,
    wait_until_runner_idle,
    write_tree,
)


def story(number: int) -> str:
    # Enough text per document that new rows need new database pages.
    body = " ".join(f"word{number}x{i}" for i in range(300))
    return f"# US{number:04d}: Story {number}\n\n> **Status:** Draft\n\n{body}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "sdlc-studio", {f"stories/US{n:04d}-s.md": story(n) for n in range(5)}
    )


def engine_of(client: TestClient) -> Engine:
    return client.app.state.engine  # type: ignore[attr-defined]


@contextmanager
def full_disk(client: TestClient) -> Iterator[None]:
    """While inside, the database file cannot grow, as on a full disk: SQLite's page limit
    makes every write that needs a new page fail with SQLITE_FULL."""
    engine = engine_of(client)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", cap)
    engine.dispose()  # pooled connections are reopened with the cap
    try:
        yield
    finally:
        event.remove(engine, "connect", cap)
        engine.dispose()


# --- Disk full ----------------------------------------------------------------------------


def test_a_full_disk_fails_the_sync_with_a_clear_error_and_reads_keep_working(
    client: TestClient, tree: Path
) -> None:
    register(client, "Demo", tree)
    assert sync(client, "demo")["document_count"] == 5
    write_tree(tree, {f"stories/US{n:04d}-s.md": story(n) for n in range(5, 200)})
    with full_disk(client):
        result = sync(client, "demo")
        assert result["sync_status"] == "error"
        assert "database disk is full" in result["sync_error"]
        # The previous documents are intact and still served, search included.
        assert result["document_count"] == 5
        listed = client.get("/api/v1/projects/demo/documents")
        assert listed.status_code == 200 and listed.json()["total"] == 5
        found = client.get("/api/v1/search", params={"q": "word3x7"})
        assert found.status_code == 200 and found.json()["total"] == 1
    # Once space is back, the same sync goes through.
    assert sync(client, "demo")["document_count"] == 200


def test_a_sync_whose_error_cannot_be_written_does_not_wedge_the_project(
    client: TestClient, tree: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    write_tree(tree, {f"stories/US{n:04d}-s.md": story(n) for n in range(5, 200)})
    # Nothing can be written at all: the documents need new pages, and recording the
    # error on the project is refused too.
    with sqlite3.connect(db_file(database_url)) as conn:
        conn.execute(
            "CREATE TRIGGER no_room BEFORE UPDATE OF sync_status ON projects "
            "WHEN NEW.sync_status = 'error' BEGIN SELECT RAISE(ABORT, 'disk is full'); END"
        )
    with full_disk(client):
        assert client.post("/api/v1/projects/demo/sync").status_code == 202
        wait_until_runner_idle(client)
    assert any(
        r.levelno == logging.ERROR and "could not record" in r.getMessage() for r in caplog.records
    )
    # The row still says `syncing` (nothing could change it), but the claim was released:
    # a new trigger is accepted instead of answering 409 until a restart.
    with sqlite3.connect(db_file(database_url)) as conn:
        conn.execute("DROP TRIGGER no_room")
    assert client.post("/api/v1/projects/demo/sync").status_code == 202
    project = wait_for_sync(client, "demo")
    assert project["sync_status"] == "synced" and project["document_count"] == 200


# --- A held write lock --------------------------------------------------------------------


def test_a_write_that_meets_a_held_write_lock_gets_503_with_retry_after(
    client: TestClient, tree: Path, database_url: str
) -> None:
    register(client, "Demo", tree)
    blocker = sqlite3.connect(db_file(database_url), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        for method, path, body in (
            ("POST", "/api/v1/projects", {"name": "Other", "sdlc_path": str(tree)}),
            ("POST", "/api/v1/projects/demo/sync", None),
        ):
            started = time.monotonic()
            response = client.request(method, path, json=body)
            waited = time.monotonic() - started
            assert_error(response, 503, "DATABASE_BUSY", "try again")
            assert int(response.headers["Retry-After"]) > 0
            # The wait is bounded well inside a client's patience (httpx: 5 s).
            assert waited < 4.5, waited
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert client.post("/api/v1/projects/demo/sync").status_code == 202
    assert wait_for_sync(client, "demo")["sync_status"] == "synced"


# --- Read-only and damaged database files -------------------------------------------------


def synced_task_list(database_url: str) -> None:
    tree = write_fixture_tree(db_file(database_url).parent, "recipe-box")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        register(client, "Tasks", tree)
        assert sync(client, "tasks")["sync_status"] == "synced"


def test_a_read_only_database_serves_reads_and_refuses_writes_with_503(
    database_url: str, tmp_path: Path
) -> None:
    synced_task_list(database_url)
    # What a 0444 file or a read-only mount gives SQLite; `mode=ro` does it even for root.
    read_only = f"sqlite:///file:{db_file(database_url)}?mode=ro&uri=true"
    (tmp_path / "other").mkdir()
    with TestClient(create_app(Settings(database_url=read_only))) as client:
        # Reads are served from the committed data; health stays 200 (see docs/operations.md).
        assert client.get("/api/v1/system/health").status_code == 200
        assert client.get("/api/v1/projects/tasks").json()["document_count"] == 38
        assert client.get("/api/v1/search", params={"q": "quantity"}).status_code == 200
        writes = [
            client.post("/api/v1/projects", json={"name": "X", "sdlc_path": str(tmp_path)}),
            client.put("/api/v1/projects/tasks", json={"name": "Renamed"}),
            client.post("/api/v1/projects/tasks/sync"),
            client.delete("/api/v1/projects/tasks"),
        ]
        for response in writes:
            assert_error(response, 503, "DATABASE_READ_ONLY", "read-only")
        assert client.get("/api/v1/projects/tasks").json()["name"] == "Tasks"


def test_a_damaged_database_page_answers_503_without_tracebacks(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    synced_task_list(database_url)
    path = db_file(database_url)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'documents'")
        root_page = root.fetchone()[0]
    with path.open("r+b") as handle:
        handle.seek((root_page - 1) * page_size)
        handle.write(b"\xff" * page_size)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        caplog.clear()
        listed = client.get("/api/v1/projects/tasks/documents")
        found = client.get("/api/v1/search", params={"q": "quantity"})
    for response in (listed, found):
        assert_error(response, 503, "DATABASE_CORRUPT", "damaged")
    assert not [r for r in caplog.records if r.exc_info], "no traceback per request"
