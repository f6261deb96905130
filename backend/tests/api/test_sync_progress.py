"""Sync progress in the project JSON and the sync's log lines (issue 11 item 3)."""

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.services.sources import folder as folder_source
from sdlc_lens.services.sync import changes as sync_changes
from sdlc_lens.services.sync import engine as sync_module
from sdlc_lens.services.sync.progress import SyncProgressBoard
from tests.helpers import register, sync, wait_for_sync, write_tree

WAIT = 15.0  # seconds a blocked sync is given to reach its gate


class Gate:
    """Stops the sync thread at one point until the test has looked at the project."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def block(self) -> None:
        self.reached.set()
        assert self.release.wait(WAIT), "the test never released the sync"

    def hold(self, call: Callable[..., Any]) -> Callable[..., Any]:
        """`call`, blocked at this gate before it runs."""

        def held(*args: Any, **kwargs: Any) -> Any:
            self.block()
            return call(*args, **kwargs)

        return held


@pytest.fixture
def gates() -> Iterator[list[Gate]]:
    made: list[Gate] = []
    yield made
    for gate in made:  # never leave the sync thread blocked behind a failed assertion
        gate.release.set()


def story(number: int, status: str = "Draft") -> str:
    return f"# US{number:04d}: Story {number}\n\n> **Status:** {status}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {f"stories/US{n:04d}-s.md": story(n) for n in range(1, 5)}
    root = write_tree(tmp_path / "sdlc-studio", {"prd.md": "# PRD\n", **files})
    # Written an hour ago: a file modified within the last seconds is always re-hashed
    # (sync.RACY_WINDOW_NS), and these tests count which files a re-sync reads.
    an_hour_ago = time.time() - 3600
    for path in root.rglob("*.md"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    return root


def progress(phase: str, seen: int, to_process: int, done: int) -> dict[str, Any]:
    """A `sync_progress` object."""
    return {
        "phase": phase,
        "files_seen": seen,
        "files_to_process": to_process,
        "files_done": done,
    }


def progress_of(client: TestClient, slug: str) -> dict[str, Any] | None:
    """`sync_progress` as both project endpoints show it (they must agree)."""
    one = client.get(f"/api/v1/projects/{slug}").json()
    listed = {p["slug"]: p for p in client.get("/api/v1/projects").json()}[slug]
    assert one["sync_progress"] == listed["sync_progress"]
    if one["sync_progress"] is not None:
        assert one["sync_status"] == "syncing"
    return one["sync_progress"]


def look_when_reached(client: TestClient, gate: Gate, slug: str) -> dict[str, Any] | None:
    assert gate.reached.wait(WAIT), "the sync never reached the gate"
    seen = progress_of(client, slug)
    gate.release.set()
    return seen


def test_progress_shows_each_phase_then_null(
    client: TestClient, tree: Path, gates: list[Gate], monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned, parsing, writing = Gate(), Gate(), Gate()
    gates.extend((scanned, parsing, writing))
    real_walk = folder_source.walk_project

    def walk_then_block(*args: Any, **kwargs: Any) -> Any:
        walk = real_walk(*args, **kwargs)
        scanned.block()  # every file has been seen; the walk has not returned yet
        return walk

    real_build = sync_changes.build_document
    calls = 0

    def block_on_second_file(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            parsing.block()
        return real_build(*args, **kwargs)

    monkeypatch.setattr(folder_source, "walk_project", walk_then_block)
    monkeypatch.setattr(sync_changes, "build_document", block_on_second_file)
    monkeypatch.setattr(sync_module, "_apply", writing.hold(sync_module._apply))
    register(client, "Demo", tree)
    assert progress_of(client, "demo") is None  # never synced

    assert client.post("/api/v1/projects/demo/sync").status_code == 202
    assert look_when_reached(client, scanned, "demo") == progress("scanning", 5, 0, 0)
    assert look_when_reached(client, parsing, "demo") == progress("parsing", 5, 5, 1)
    assert look_when_reached(client, writing, "demo") == progress("writing", 5, 5, 5)
    finished = wait_for_sync(client, "demo")
    assert finished["sync_status"] == "synced" and finished["document_count"] == 5
    assert progress_of(client, "demo") is None


def test_progress_counts_only_the_changed_files_to_process(
    client: TestClient, tree: Path, gates: list[Gate], monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    write_tree(tree, {"stories/US0002-s.md": story(2, status="Done")})
    writing = Gate()
    gates.append(writing)
    monkeypatch.setattr(sync_module, "_apply", writing.hold(sync_module._apply))
    assert client.post("/api/v1/projects/demo/sync").status_code == 202
    assert look_when_reached(client, writing, "demo") == progress("writing", 5, 1, 1)
    assert wait_for_sync(client, "demo")["sync_progress"] is None


def test_progress_is_null_while_a_sync_waits_its_turn(
    client: TestClient, tree: Path, gates: list[Gate]
) -> None:
    busy = Gate()
    gates.append(busy)
    client.app.state.sync_runner._executor.submit(busy.block)  # type: ignore[attr-defined]
    assert busy.reached.wait(WAIT)
    register(client, "Demo", tree)
    assert client.post("/api/v1/projects/demo/sync").status_code == 202
    project = client.get("/api/v1/projects/demo").json()
    assert project["sync_status"] == "syncing" and project["sync_progress"] is None
    busy.release.set()
    assert wait_for_sync(client, "demo")["sync_progress"] is None


def test_progress_board_forgets_a_sync_that_failed() -> None:
    board = SyncProgressBoard()
    with pytest.raises(RuntimeError), board.track(7, "demo") as tracked:
        tracked.files_seen(1)
        assert board.snapshot(7) == progress("scanning", 1, 0, 0)
        assert board.state_of("demo") == ("scanning", 1, 0, 0)
        raise RuntimeError
    assert board.snapshot(7) is None
    assert board.state_of("demo") is None and board.states() == ()


def test_sync_logs_name_the_project_and_each_file_decision(
    client: TestClient, tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    write_tree(tree, {"stories/US0002-s.md": story(2, status="Done")})
    os.utime(tree / "stories/US0003-s.md")  # touched, same bytes
    write_tree(tree, {"stories/US0004-s.md": b"\xff\xfe not UTF-8"})
    runner = client.app.state.sync_runner  # type: ignore[attr-defined]
    runner._executor.submit(lambda: None).result(timeout=WAIT)  # the first sync's last line
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="sdlc_lens.services.sync"):
        result = sync(client, "demo")
        # The last line is logged just after the status is stored: wait for the worker.
        runner._executor.submit(lambda: None).result(timeout=WAIT)
    assert result["sync_status"] == "error"
    lines = [r.getMessage() for r in caplog.records if r.name == "sdlc_lens.services.sync"]
    expected = [
        f"sync of demo started: {tree}",
        "sync of demo: found 5 document file(s) in ",
        "sync of demo: 'prd.md' unchanged (same size, mtime and ctime)",
        "sync of demo: 'stories/US0001-s.md' unchanged (same size, mtime and ctime)",
        "sync of demo: 'stories/US0002-s.md' parsed (updated)",
        "sync of demo: 'stories/US0003-s.md' unchanged (same SHA-256)",
        "sync of demo: skipped 'stories/US0004-s.md': it is not UTF-8 text; "
        "its stored document is kept",
        "sync of demo finished: error in ",
    ]
    for text in expected:
        assert any(line.startswith(text) for line in lines), (text, lines)
    finished = next(line for line in lines if line.startswith("sync of demo finished"))
    assert "(0 added, 1 updated, 3 unchanged, 0 deleted, 1 errors)" in finished
