"""A large sync writes in short transactions, yet all or nothing as readers see it (issue 18).

The sync runs on its own engine over the app's database file; between any two of its
transactions (just before each BEGIN) the test reads the project through the API, on the
app's own connections, and finds exactly the old or exactly the new documents. The source
is a repository-like one served from memory (tests/api/test_sync_sources.py).
"""

import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from harness.processes import start_server, wait_for_sync
from sdlc_lens.db import lock_sharing
from sdlc_lens.db.lock_sharing import waiting_writers
from sdlc_lens.db.staging import WRITE_CHUNK_ROWS
from sdlc_lens.services.projects.registry import claim_sync
from sdlc_lens.services.sync.engine import SyncRequest, SyncResult, run_sync
from tests.api.test_sync_sources import MemoryRepository
from tests.helpers import (
    db_file,
    markdown,
    migrate,
    register,
    wait_until_runner_idle,
    write_tree,
)

OLD, NEW = "vone", "vtwo"  # a word in every title of each version
COUNT = 2500  # documents before: three batches
DROPPED = range(100)  # deleted by the new version
ADDED = range(COUNT, COUNT + 200)  # added by it
NEW_COUNT = COUNT - len(DROPPED) + len(ADDED)
# Rows one write transaction may change, counting the search index and links that go with
# each document (a replaced row is marked and its replacement inserted, with one entry each).
MOST_CHANGES = 6 * WRITE_CHUNK_ROWS
PREVIOUS = 40  # documents before the sync that is killed
KILLED = 6000  # documents of the sync that is killed: several batches


def tree(word: str, numbers: range | list[int]) -> dict[str, str]:
    return {
        f"stories/US{n:04d}-s.md": markdown(f"US{n:04d}: Story {n} {word}", Status="Draft")
        for n in numbers
    }


OLD_FILES = tree(OLD, range(COUNT))
NEW_FILES = tree(NEW, [n for n in range(COUNT) if n not in DROPPED] + list(ADDED))


def seen_version(client: TestClient) -> str:
    """Which version every read of the project shows; fails on any mix of the two."""
    project = "/api/v1/projects/big"
    total = client.get(f"{project}/stats").json()["total_documents"]
    page = client.get(f"{project}/documents", params={"per_page": 100, "sort": "title"}).json()
    words = {item["title"].rsplit(" ", 1)[1] for item in page["items"]}
    found = {
        word: client.get("/api/v1/search", params={"q": word, "project": "big"}).json()["total"]
        for word in (OLD, NEW)
    }
    dropped = client.get(f"{project}/documents/story/US0050-s").status_code
    added = client.get(f"{project}/documents/story/US{ADDED[0]:04d}-s").status_code
    related = client.get(f"{project}/documents/story/US0500-s/related").status_code
    seen = (total, page["total"], words, found, dropped, added, related)
    old = (COUNT, COUNT, {OLD}, {OLD: COUNT, NEW: 0}, 200, 404, 200)
    new = (NEW_COUNT, NEW_COUNT, {NEW}, {OLD: 0, NEW: NEW_COUNT}, 404, 200, 200)
    assert seen in (old, new), f"a mix of the two versions: {seen}"
    return OLD if seen == old else NEW


@contextmanager
def between_transactions(engine: Engine, action: Callable[[], None]) -> Iterator[list[int]]:
    """Call `action` as each transaction of `engine` on this thread begins (once BEGIN has
    run: a write in `action` would wait for it); collect the rows each transaction changed
    (SQLite's own count, triggers included)."""
    changes: list[int] = []
    at_begin: dict[int, int] = {}
    listening = threading.Event()
    listening.set()

    def ours() -> bool:
        # Not a read the app serves (the sync runs on the test's thread), nor after the block.
        return listening.is_set() and threading.current_thread() is threading.main_thread()

    def begin(conn: Any) -> None:
        if ours():
            action()
            raw = conn.connection.driver_connection
            at_begin[id(raw)] = raw.total_changes

    def commit(conn: Any) -> None:
        if ours():
            raw = conn.connection.driver_connection
            changes.append(raw.total_changes - at_begin.pop(id(raw), raw.total_changes))

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", commit)
    try:
        yield changes
    finally:
        # Made inert, not removed: removing a listener while another thread of the app runs
        # the same event (the purge a DELETE queued) failed that thread's transaction with
        # "deque mutated during iteration". The engine goes with the test's app.
        listening.clear()


@pytest.fixture
def sync_engine(client: TestClient) -> Engine:
    """The app's own engine: its commits step the data versions the answer cache keys on."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


@pytest.fixture
def big(client: TestClient, tmp_path: Path) -> MemoryRepository:
    register(client, "Big", tmp_path)
    return MemoryRepository("r1", OLD_FILES)


def sync_big(
    engine: Engine, source: MemoryRepository, should_stop: Callable[[], bool] = lambda: False
) -> SyncResult | None:
    return run_sync(
        engine, SyncRequest(claim_sync(engine, "big"), source.open, "big", should_stop=should_stop)
    )


def rows(database_url: str, where: str = "1") -> int:
    with sqlite3.connect(db_file(database_url)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM documents WHERE {where}").fetchone()[0])


UNSEEN = "born_gen > (SELECT generation FROM projects WHERE id = project_id)"


def test_a_reader_sees_the_old_or_the_new_documents_between_any_two_batches(
    client: TestClient, sync_engine: Engine, big: MemoryRepository, database_url: str
) -> None:
    versions: list[str] = []
    with between_transactions(sync_engine, lambda: None) as cold_changes:
        assert sync_big(sync_engine, big).status == "synced"  # type: ignore[union-attr]
    assert seen_version(client) == OLD

    big.head, big.files = "r2", {p: t.encode() for p, t in NEW_FILES.items()}
    with between_transactions(
        sync_engine, lambda: versions.append(seen_version(client))
    ) as changes:
        assert sync_big(sync_engine, big).status == "synced"  # type: ignore[union-attr]
    versions.append(seen_version(client))

    # Old until one swap, new from then on; and written in short transactions.
    assert versions[0] == OLD and versions[-1] == NEW
    assert versions == sorted(versions, key=(OLD, NEW).index)
    assert max(changes) <= MOST_CHANGES < sum(changes), changes
    assert max(cold_changes) <= MOST_CHANGES < sum(cold_changes), cold_changes
    # The replaced rows are gone, and the search index holds the new words only.
    assert rows(database_url) == NEW_COUNT


@pytest.mark.parametrize("ending", ["error", "stop"])
def test_a_sync_cut_short_between_batches_leaves_the_old_documents_and_the_next_one_cleans_up(
    client: TestClient,
    sync_engine: Engine,
    big: MemoryRepository,
    database_url: str,
    ending: str,
) -> None:
    assert sync_big(sync_engine, big).status == "synced"  # type: ignore[union-attr]
    big.head, big.files = "r2", {p: t.encode() for p, t in NEW_FILES.items()}
    inserts = 0
    stop = False

    def fail_at_the_second_batch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal inserts
        if statement.startswith("INSERT INTO documents "):
            inserts += 1
            if inserts == 2:
                raise sqlite3.OperationalError("disk I/O error")

    def stop_once_a_batch_is_written() -> None:
        nonlocal stop
        stop = stop or rows(database_url, UNSEEN) > 0

    if ending == "error":
        event.listen(sync_engine, "before_cursor_execute", fail_at_the_second_batch)
        try:
            with pytest.raises(Exception, match="disk I/O error"):
                sync_big(sync_engine, big)
        finally:
            event.remove(sync_engine, "before_cursor_execute", fail_at_the_second_batch)
    else:
        with between_transactions(sync_engine, stop_once_a_batch_is_written):
            result = sync_big(sync_engine, big, should_stop=lambda: stop)
        assert stop and result is not None and result.status == "error"

    # The first batch's rows are in the file, shown nowhere; the old documents are intact.
    assert rows(database_url, UNSEEN) > 0
    assert seen_version(client) == OLD
    project = client.get("/api/v1/projects/big").json()
    assert project["sync_status"] == "error" and project["document_count"] == COUNT

    assert sync_big(sync_engine, big).status == "synced"  # type: ignore[union-attr]
    assert seen_version(client) == NEW
    assert rows(database_url) == NEW_COUNT  # nothing left over
    assert rows(database_url, "died_gen IS NOT NULL") == 0


def test_deleting_a_project_while_its_sync_writes_batches_leaks_nothing(
    client: TestClient,
    sync_engine: Engine,
    big: MemoryRepository,
    database_url: str,
    tmp_path: Path,
) -> None:
    # Once a batch is written, a client deletes the project: its DELETE waits for the write
    # lock while the sync's next batch holds it, and gets it before the batch after (the
    # sync pauses between batches), so the sync finds the project gone.
    deleting: list[threading.Thread] = []
    answers: list[int] = []

    def delete_once_writing() -> None:
        if not deleting and rows(database_url, UNSEEN) > 0:
            deleting.append(
                threading.Thread(
                    target=lambda: answers.append(client.delete("/api/v1/projects/big").status_code)
                )
            )
            deleting[0].start()

    with between_transactions(sync_engine, delete_once_writing):
        assert sync_big(sync_engine, big) is None
    deleting[0].join()
    assert answers == [204]
    register(client, "Other", tmp_path)
    wait_until_runner_idle(client)  # the deleted project's purge is over
    assert client.get("/api/v1/projects/other").json()["document_count"] == 0
    assert rows(database_url) == 0  # its rows, the unseen batches too, went with it


def test_a_writer_waiting_for_the_lock_gets_it_at_the_end_of_the_batch_it_waits_behind(
    client: TestClient,
    sync_engine: Engine,
    big: MemoryRepository,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Only a waiting writer makes the sync let go of the lock here (no pause for writers of
    # other processes, which it cannot see: they get one after HOLD_LIMIT_SECONDS).
    monkeypatch.setattr(lock_sharing, "HOLD_LIMIT_SECONDS", 3600.0)
    caplog.set_level("DEBUG", logger="sdlc_lens.services.sync")
    began = 0
    writer: list[threading.Thread] = []
    answers: list[int] = []
    registered_at: list[int] = []  # the sync's transactions begun once the write was in

    def other_registered() -> bool:
        with sqlite3.connect(db_file(database_url)) as conn:
            return conn.execute("SELECT count(*) FROM projects WHERE slug = 'other'").fetchone()[0]

    def register_during_the_second_batch(conn: Any) -> None:
        nonlocal began
        if threading.current_thread() is not threading.main_thread():
            return  # the app's own transactions (the sync runs on the test's thread)
        if not conn.get_execution_options().get("sqlite_immediate"):
            return  # the sync's reads: only its write transactions (batches) hold the lock
        began += 1
        if began == 2:  # the sync holds the lock: a project is registered meanwhile
            body = {"name": "Other", "sdlc_path": str(tmp_path)}
            writer.append(
                threading.Thread(
                    target=lambda: answers.append(
                        client.post("/api/v1/projects", json=body).status_code
                    )
                )
            )
            writer[0].start()
            deadline = time.monotonic() + 10
            # Its BEGIN waits for this batch (the sync counts too, until its BEGIN returns).
            while waiting_writers(sync_engine).count < 2:
                assert time.monotonic() < deadline
                time.sleep(0.001)
        elif began > 2 and other_registered():
            registered_at.append(began)

    event.listen(sync_engine, "begin", register_during_the_second_batch)
    try:
        assert sync_big(sync_engine, big).status == "synced"  # type: ignore[union-attr]
    finally:
        event.remove(sync_engine, "begin", register_during_the_second_batch)
    writer[0].join()

    # Its write committed before the sync's next transaction began, and only then did the
    # sync let go of the lock.
    assert answers == [201] and registered_at[0] == 3, registered_at
    assert "let other writers in 1 time(s)" in caplog.text

    caplog.clear()
    big.head, big.files = "r2", {p: t.encode() for p, t in NEW_FILES.items()}
    assert sync_big(sync_engine, big).status == "synced"  # type: ignore[union-attr]
    assert "let other writers in 0 time(s)" in caplog.text  # nobody waited: no pause


def test_a_sync_killed_between_batches_leaves_the_old_documents_and_the_next_one_cleans_up(
    tmp_path: Path,
) -> None:
    # A real process, killed (-9) once a batch of the next generation is committed.
    small = write_tree(tmp_path / "small", tree(OLD, range(PREVIOUS)))
    large = write_tree(tmp_path / "large", tree(NEW, range(KILLED)))
    database, log = tmp_path / "lens.db", tmp_path / "server.log"
    migrate(f"sqlite:///{database}")
    server = start_server(database, log)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            body = {"name": "Small", "sdlc_path": str(small)}
            assert client.post("/api/v1/projects", json=body).status_code == 201
            assert client.post("/api/v1/projects/small/sync").status_code == 202
            assert wait_for_sync(client, "small")["document_count"] == PREVIOUS
            moved = client.put("/api/v1/projects/small", json={"sdlc_path": str(large)})
            assert moved.status_code == 200
            assert client.post("/api/v1/projects/small/sync").status_code == 202
        deadline = time.monotonic() + 120
        while rows(f"sqlite:///{database}", UNSEEN) == 0:
            assert time.monotonic() < deadline and server.process.poll() is None
            time.sleep(0.005)
    finally:
        server.stop(signal.SIGKILL)

    assert 0 < rows(f"sqlite:///{database}", UNSEEN) < KILLED  # written, shown nowhere
    server = start_server(database, log)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            project = client.get("/api/v1/projects/small").json()
            assert project["document_count"] == PREVIOUS
            assert client.get("/api/v1/stats").json()["total_documents"] == PREVIOUS
            for word, total in ((OLD, PREVIOUS), (NEW, 0)):
                found = client.get("/api/v1/search", params={"q": word}).json()["total"]
                assert found == total
            assert client.post("/api/v1/projects/small/sync").status_code == 202
            assert wait_for_sync(client, "small", timeout=120)["document_count"] == KILLED
    finally:
        server.stop(signal.SIGKILL)
    assert rows(f"sqlite:///{database}") == KILLED  # nothing of the killed sync is left
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('integrity-check')")
        assert conn.execute("SELECT count(*) FROM documents_fts_docsize").fetchone() == (KILLED,)
