"""Helpers shared by the tests: migrations, trees, polling a sync, envelope and body checks."""

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import settings
from sqlalchemy import Engine, event

from harness.database import downgrade as downgrade  # re-exported: the tests' one helper module
from harness.database import migrate as migrate
from harness.markdown import write_tree as write_tree
from harness.processes import free_port
from harness.processes import wait_for_sync as wait_for_sync
from sdlc_lens.config import Settings
from sdlc_lens.http_server import GuardedHttpToolsProtocol
from sdlc_lens.main import create_app
from sdlc_lens.parsing import ParsedDocument
from sdlc_lens.parsing.front_matter import normalise_text
from sdlc_lens.services.sources.files import ProjectFolder

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = BACKEND_DIR.parent
# The everyday loop's Hypothesis profile (`--hypothesis-profile loop`, registered in conftest).
LOOP_PROFILE = "loop"


def examples(full: int) -> int:
    """A property test's example count: `full` in the full suite (what CI runs), a fifth of
    it (at least 2) under the everyday loop's profile. Read when the test is defined, after
    pytest has loaded the profile."""
    if settings.get_current_profile_name() == LOOP_PROFILE:
        return max(2, full // 5)
    return full


def db_file(database_url: str) -> Path:
    """The database file of a `sqlite:///...` URL."""
    return Path(database_url.removeprefix("sqlite:///"))


def insert_connection(database_url: str, access_token: str, label: str = "Work") -> int:
    """A GitHub connection written straight into the database (as stored, so `access_token`
    is sealed already when the test wants it encrypted); its id. For tests that need one
    without a GitHub to check its token against."""
    with sqlite3.connect(db_file(database_url)) as conn:
        cursor = conn.execute(
            "INSERT INTO github_connections (label, login, access_token, created_at, updated_at) "
            "VALUES (?, 'octocat', ?, 't', 't')",
            (label, access_token),
        )
        return int(cursor.lastrowid or 0)


@contextmanager
def synced_app(folder: Path, projects: Sequence[tuple[str, Path]]) -> Iterator[TestClient]:
    """An app on a new database in `folder`, with these (name, path) projects synced in order.

    `client.database_file` is the SQLite file, for tests that look at it directly.
    """
    url = f"sqlite:///{folder / 'lens.db'}"
    migrate(url)
    with TestClient(create_app(Settings(database_url=url, log_level="DEBUG"))) as client:
        for name, path in projects:
            project = register(client, name, path)
            assert sync(client, project["slug"])["sync_status"] == "synced", project
        client.database_file = str(folder / "lens.db")  # type: ignore[attr-defined]
        yield client


def wait_until_runner_idle(client: httpx.Client, timeout: float = 60.0) -> None:
    """Wait until the app's background worker has done everything queued so far (syncs,
    purges); `client` is the in-process TestClient."""
    runner = client.app.state.sync_runner  # type: ignore[attr-defined]
    runner._executor.submit(lambda: None).result(timeout=timeout)


def eventually[T](check: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """`check()` once it is truthy, polled every 50 ms; fails naming `what` after `timeout`
    seconds (generous: a loaded machine is slow, and speed is for the benchmarks)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout}s (last: {result!r})")
        time.sleep(0.05)


def register(client: httpx.Client, name: str, path: Path | str) -> dict[str, Any]:
    """Create a project and return its JSON, failing loudly if that did not work."""
    response = client.post("/api/v1/projects", json={"name": name, "sdlc_path": str(path)})
    assert response.status_code == 201, response.text
    return response.json()


def sync(client: httpx.Client, slug: str) -> dict[str, Any]:
    """Trigger a sync and wait for its outcome."""
    response = client.post(f"/api/v1/projects/{slug}/sync")
    assert response.status_code == 202, response.text
    return wait_for_sync(client, slug)


def synced_project(client: httpx.Client, tmp_path: Path, name: str, files: dict[str, str]) -> str:
    """Write `files` below tmp_path/name, register that folder as a project, sync it; the slug."""
    slug = register(client, name, write_tree(tmp_path / name, files))["slug"]
    assert sync(client, slug)["sync_status"] == "synced"
    return slug


# Over 50 characters: no EMPTY_CONTENT finding.
BODY = "Enough words here to count as real content for the health check rules."


def markdown(title: str, body: str = BODY, **fields: str) -> str:
    """A document: `# title`, a front-matter block of `fields` (if any), then `body`.

    Field names are keys with `_` for spaces: `Story_Points="3"` -> `> **Story Points:** 3`.
    """
    block = "".join(f"> **{key.replace('_', ' ')}:** {value}\n" for key, value in fields.items())
    return f"# {title}\n\n{block}\n{body}\n" if block else f"# {title}\n\n{body}\n"


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Collect (sql, parameters) of every statement the engine's connections run in the block.

    Recorded by SQLite itself (a trace callback on each connection checked out meanwhile), so
    statements a service runs on the DBAPI cursor count too; the SQL comes with its bound
    values written in, so the parameters are always `()`.
    """
    seen: list[tuple[str, Any]] = []
    traced: list[Any] = []

    def trace(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.set_trace_callback(lambda sql: seen.append((sql, ())))
        traced.append(dbapi_connection)

    event.listen(engine, "checkout", trace)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", trace)
        for dbapi_connection in traced:
            with suppress(sqlite3.ProgrammingError):  # closed meanwhile (a sync's connection)
                dbapi_connection.set_trace_callback(None)


def deny_reading(monkeypatch: pytest.MonkeyPatch, name_suffix: str) -> None:
    """Make the sync's file reads fail with EACCES for paths ending in `name_suffix`.

    Tests run as root, which file permissions cannot stop, so the read itself is replaced.
    """
    real_read = ProjectFolder.read

    def read(folder: ProjectFolder, rel_path: str, limit: int) -> bytes:
        if rel_path.endswith(name_suffix):
            raise PermissionError(13, "Permission denied")
        return real_read(folder, rel_path, limit)

    monkeypatch.setattr(ProjectFolder, "read", read)


def assert_error(response: Any, status: int, code: str, message: str | None = None) -> None:
    """The response is the error envelope with this status, code and message substring."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    if message is not None:
        assert message in body["error"]["message"], body


def _quote_runs(lines: list[str]) -> list[range]:
    """Every maximal run of front-matter-like lines (stripped text starts `>`, not `>>`)."""
    runs: list[range] = []
    start = None
    for index, line in enumerate([*lines, ""]):
        quote = line.strip().startswith(">") and not line.strip().startswith(">>")
        if quote and start is None:
            start = index
        elif not quote and start is not None:
            runs.append(range(start, index))
            start = None
    return runs


def _without_leading_blank_lines(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line.strip():
            return lines[index:]
    return []


def assert_body_loses_only_title_and_front_matter(text: str, parsed: ParsedDocument) -> None:
    """`content` is the text minus at most one title line T and one whole quote run B.

    Nothing else may be lost or reordered: the lines of `content` are exactly the remaining
    lines, in order, once the blank lines that lead them are dropped. B may only go when the
    parser found fields, T only when it is the `# ` line of the parsed title.
    """
    lines = normalise_text(text).split("\n")
    body = parsed.content.split("\n") if parsed.content else []
    titles = [
        index
        for index, line in enumerate(lines)
        if parsed.title is not None and line.startswith("# ") and line[2:].strip() == parsed.title
    ]
    blocks = _quote_runs(lines) if parsed.fields else []
    for block in [range(0), *blocks]:
        for title in [None, *titles]:
            removed = {*block, *(() if title is None else (title,))}
            kept = [line for index, line in enumerate(lines) if index not in removed]
            if _without_leading_blank_lines(kept) == body:
                return
    raise AssertionError(f"content lost or reordered lines: {text!r} -> {parsed.content!r}")


@contextmanager
def served(app: Any) -> Iterator[httpx.Client]:
    """`app` served by a real Uvicorn (in this process, on a thread; our guarded HTTP protocol)
    on a free 127.0.0.1 port, and an HTTP client for it. In this process so that a test can
    read the app's state (its cache's counters, its engine's statements) while it serves."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=GuardedHttpToolsProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, "Uvicorn started", timeout=20)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(30)
