"""Stopping a real Uvicorn process (SIGTERM as `docker stop` sends, SIGINT as Ctrl-C) while a
sync runs (issue 9 item 7, issue 11 item 5).

Before its commit, a sync stops within a second and writes nothing: the project keeps its
previous documents and index. A sync that has reached its COMMIT finishes first. Either way
the process exits cleanly within five seconds and the full-text index matches the documents.
"""

import re
import signal
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.processes import Server, wait_for_sync
from tests.fixtures import scaled_corpus, write_fixture_tree

# The line the sync logs when it ends, one way or the other.
SYNC_ENDED = re.compile(r"sync of small (finished|interrupted)")
PREVIOUS = 38  # the recipe-box tree, synced before each test
LARGE = 6000  # documents: reading and parsing them takes long enough to stop in the middle
WRITE = 300  # documents: few, because each insert is slowed down on purpose (late stop)
SIGNALS = [signal.SIGTERM, signal.SIGINT]


@pytest.fixture(scope="module")
def large_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scaled_corpus(LARGE, tmp_path_factory.mktemp("large") / "sdlc-studio")


@pytest.fixture(scope="module")
def write_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scaled_corpus(WRITE, tmp_path_factory.mktemp("write") / "sdlc-studio")


@pytest.fixture
def server(debug_server: Server, tmp_path: Path) -> Server:
    """A server whose project `small` holds the 38 recipe-box documents."""
    tree = write_fixture_tree(tmp_path, "recipe-box")
    with httpx.Client(base_url=debug_server.base_url, timeout=5) as client:
        body = {"name": "Small", "sdlc_path": str(tree)}
        assert client.post("/api/v1/projects", json=body).status_code == 201
        assert client.post("/api/v1/projects/small/sync").status_code == 202
        assert wait_for_sync(client, "small")["document_count"] == PREVIOUS
    return debug_server


def resync_from(server: Server, tree: Path) -> int:
    """Point `small` at another tree and trigger its sync (the call returns at once); the
    length of the log before the trigger."""
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        moved = client.put("/api/v1/projects/small", json={"sdlc_path": str(tree)})
        assert moved.status_code == 200, moved.text
        log_offset = len(server.log())
        assert client.post("/api/v1/projects/small/sync").status_code == 202
    return log_offset


@dataclass
class Stop:
    exit_status: int
    seconds_to_exit: float
    seconds_to_stop_sync: float  # until the log says the sync ended


def stop_when_logged(server: Server, log_offset: int, line: str, sig: int) -> Stop:
    """Send `sig` as soon as the log has `line` after `log_offset`, and time what follows."""
    deadline = time.monotonic() + 60
    while line not in server.log()[log_offset:]:
        assert time.monotonic() < deadline, server.log()
        assert server.process.poll() is None, server.log()
        time.sleep(0.005)
    started = time.monotonic()
    server.process.send_signal(sig)
    sync_ended = None
    while server.process.poll() is None and time.monotonic() - started < 30:
        if sync_ended is None and SYNC_ENDED.search(server.log()[log_offset:]):
            sync_ended = time.monotonic() - started
        time.sleep(0.005)
    status = server.process.wait(timeout=1)
    exited = time.monotonic() - started
    if sync_ended is None:  # logged just before the exit
        assert SYNC_ENDED.search(server.log()[log_offset:]), server.log()
        sync_ended = exited
    return Stop(status, exited, sync_ended)


# The documents the project shows (db/generations.py): a large sync's replaced rows may
# remain, hidden, when a stop cut their removal short; the next sync removes them.
SHOWN_SQL = (
    "SELECT count(*) FROM documents AS d JOIN projects AS p ON p.id = d.project_id "
    "WHERE d.born_gen <= p.generation AND (d.died_gen IS NULL OR d.died_gen > p.generation)"
)


def database_state(database: Path) -> tuple[str, str | None, int]:
    """(sync_status, sync_error, documents shown), after checking the index is consistent."""
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('integrity-check')")
        indexed = conn.execute("SELECT count(*) FROM documents_fts_docsize").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        count = conn.execute(SHOWN_SQL).fetchone()[0]
        status, error = conn.execute("SELECT sync_status, sync_error FROM projects").fetchone()
    assert indexed == rows
    return status, error, count


def assert_prompt(stop: Stop, sig: int) -> None:
    """The sync ended within a second of the signal, the process within five, cleanly."""
    assert stop.exit_status in {0, -sig}
    assert stop.seconds_to_stop_sync < 1.0, stop
    assert stop.seconds_to_exit < 5.0, stop


def assert_stopped_before_commit(server: Server, stop: Stop, sig: int, phase: str) -> None:
    """Stopped within a second, in `phase`, having written nothing: the previous documents
    are there, and the project says the sync was interrupted."""
    assert_prompt(stop, sig)
    assert f"interrupted by shutdown while {phase}" in server.log(), server.log()[-3000:]
    status, error, count = database_state(server.database)
    assert count == PREVIOUS
    assert status == "error" and error is not None and "interrupted" in error


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_stop_while_reading_files_ends_the_sync_at_once(
    server: Server, large_tree: Path, sig: signal.Signals
) -> None:
    log_offset = resync_from(server, large_tree)
    stop = stop_when_logged(server, log_offset, "sync of small started", sig)
    assert_stopped_before_commit(server, stop, sig, "reading files")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_stop_inside_the_write_transaction_rolls_back_at_once(
    server: Server, write_tree: Path, sig: signal.Signals
) -> None:
    # Test seam, in the database rather than the code: each inserted document costs ~20 ms
    # of SQL work, so the write transaction lasts seconds and the stop lands inside it.
    with sqlite3.connect(server.database) as conn:
        conn.execute(
            "CREATE TRIGGER slow_insert AFTER INSERT ON documents BEGIN SELECT count(*) FROM "
            "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000) "
            "SELECT i FROM n); END"
        )
    log_offset = resync_from(server, write_tree)
    stop = stop_when_logged(server, log_offset, "writing to the database", sig)
    assert_stopped_before_commit(server, stop, sig, "writing")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_stop_during_the_commit_lets_the_commit_finish(
    server: Server, large_tree: Path, sig: signal.Signals
) -> None:
    log_offset = resync_from(server, large_tree)
    stop = stop_when_logged(server, log_offset, "committing", sig)
    assert stop.exit_status in {0, -sig}
    assert stop.seconds_to_exit < 5.0, stop
    assert database_state(server.database) == ("synced", None, LARGE)


HOSTILE_BYTES = 64 * 1024 * 1024 - 4096  # just under the document size limit


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two documents at the size limit in the shapes that parsed slowest: one header line of
    5.8 million inline pairs (12 s) and 64 Mi blank lines (the title scan tried every line
    start: 5.8 s)."""
    root = tmp_path_factory.mktemp("hostile") / "sdlc-studio"
    (root / "stories").mkdir(parents=True)
    head = b"# US0001: Pairs\n\n> **Status:** Done"
    pair = " · **K:** v".encode()
    (root / "stories" / "US0001-pairs.md").write_bytes(
        head + pair * ((HOSTILE_BYTES - len(head)) // len(pair))
    )
    (root / "stories" / "US0002-blank.md").write_bytes(b"\n" * HOSTILE_BYTES)
    return root


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_stop_while_a_64_mib_hostile_file_is_read_and_parsed_exits_in_time(
    server: Server, hostile_tree: Path, sig: signal.Signals
) -> None:
    log_offset = resync_from(server, hostile_tree)
    stop = stop_when_logged(server, log_offset, "sync of small started", sig)
    assert stop.exit_status in {0, -sig}
    assert stop.seconds_to_exit < 5.0, stop
    assert "interrupted by shutdown while reading files" in server.log(), server.log()[-3000:]
    assert database_state(server.database)[2] == PREVIOUS
