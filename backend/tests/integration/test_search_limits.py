"""Costly searches against a real Uvicorn: stopped by their budget or by their client leaving,
and never in the way of lists, stats, writes and syncs."""

import asyncio
import random
import re
import shutil
import signal
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from harness.processes import Server, start_server
from tests.fixtures import write_fixture_tree
from tests.helpers import assert_error, migrate

SEARCH = "/api/v1/search"
# 16 prefixes, each expanding to thousands of the generated words: about a second of work
# for an unbounded search over the generated documents below.
STEMS = [f"{letter}q{letter}" for letter in "abcdefghijklmnop"]
HEAVY = " ".join(f"{stem}*" for stem in STEMS)
DOCUMENTS = 2000
WORDS_PER_DOCUMENT = 400


@pytest.fixture(scope="module")
def heavy_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of generated documents full of distinct words (seed fixed)."""
    path = tmp_path_factory.mktemp("heavy") / "lens.db"
    migrate(f"sqlite:///{path}")
    rng = random.Random(7)
    rows = [
        (
            f"US{n:05d}-generated",
            f"Generated story {n}",
            f"stories/US{n:05d}-generated.md",
            " ".join(
                f"{rng.choice(STEMS)}{rng.randrange(1_000_000):06d}"
                for _ in range(WORDS_PER_DOCUMENT)
            ),
        )
        for n in range(DOCUMENTS)
    ]
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO projects (id, slug, name, sync_status, created_at, updated_at) "
            "VALUES (1, 'heavy', 'Heavy', 'synced', '2026-12-01', '2026-12-01')"
        )
        db.executemany(
            "INSERT INTO documents (project_id, doc_type, doc_id, title, file_path, file_hash, "
            "synced_at, content) VALUES (1, 'story', ?, ?, ?, '', '2026-12-01', ?)",
            rows,
        )
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def start(heavy_database: Path, tmp_path: Path) -> Iterator[object]:
    """Start a server on a copy of the heavy database, with a given search budget."""
    servers: list[Server] = []

    def run(budget_seconds: str) -> Server:
        database = tmp_path / "lens.db"
        shutil.copy(heavy_database, database)
        server = start_server(
            database,
            tmp_path / "server.log",
            settings={"SEARCH_BUDGET_SECONDS": budget_seconds},
        )
        servers.append(server)
        return server

    yield run
    for server in servers:
        server.stop(signal.SIGKILL)


def stopped_after(log: str, reason: str) -> float:
    found = re.search(rf"search stopped after ([0-9.]+)s: {reason}", log)
    assert found, log
    return float(found[1])


def test_a_search_over_its_budget_gets_503_with_retry_after(start) -> None:  # type: ignore[no-untyped-def]
    server = start("0.2")
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        response = client.get(SEARCH, params={"q": HEAVY})
        assert_error(response, 503, "SEARCH_TOO_COSTLY", "more than 0.2 s of work")
        assert response.headers["Retry-After"] == "1"
        # The budget is per search: a cheap one on the same server is answered.
        cheap = client.get(SEARCH, params={"q": "US00042"})
        assert (
            cheap.status_code == 200 and cheap.json()["items"][0]["doc_id"] == "US00042-generated"
        )
    # Stopped at its budget, not after doing all the work anyway.
    assert stopped_after(server.wait_for_log("over its budget"), "over its budget") < 1.0


def test_a_search_stops_when_its_client_disconnects(start) -> None:  # type: ignore[no-untyped-def]
    server = start("60")
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"GET {SEARCH}?q={quote(HEAVY)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        time.sleep(0.3)  # the search is running; then the client hangs up
    log = server.wait_for_log("the client disconnected", timeout=10)
    # Only a search interrupted in the middle of its work logs this (60 s of budget left).
    assert stopped_after(log, "the client disconnected") < 5.0
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        assert client.get(SEARCH, params={"q": "US00042"}).status_code == 200


async def _attack_and_browse(
    base_url: str, tree: Path
) -> tuple[dict[str, float], int, list[httpx.Response]]:
    """80 costly searches in flight while a user browses, creates and syncs a project."""
    limits = httpx.Limits(max_connections=100)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as attacker,
        httpx.AsyncClient(base_url=base_url, timeout=30) as user,
    ):
        attack = [asyncio.create_task(attacker.get(SEARCH, params={"q": HEAVY})) for _ in range(80)]
        await asyncio.sleep(0.5)  # every search admitted, queued or refused by now
        timings: dict[str, float] = {}

        async def timed(name: str, request: object) -> httpx.Response:
            started = time.perf_counter()
            response = await request  # type: ignore[misc]
            timings[name] = time.perf_counter() - started
            assert response.status_code < 300, (name, response.text)
            return response

        await timed("list", user.get("/api/v1/projects/heavy/documents", params={"per_page": 50}))
        await timed("project stats", user.get("/api/v1/projects/heavy/stats"))
        await timed("global stats", user.get("/api/v1/stats"))
        body = {"name": "Tasks", "sdlc_path": str(tree)}
        await timed("create", user.post("/api/v1/projects", json=body))
        await timed("sync trigger", user.post("/api/v1/projects/tasks/sync"))
        started = time.perf_counter()
        while (await user.get("/api/v1/projects/tasks")).json()["sync_status"] == "syncing":
            await asyncio.sleep(0.05)
        timings["sync to the end"] = time.perf_counter() - started
        still_searching = sum(not task.done() for task in attack)
        return timings, still_searching, await asyncio.gather(*attack)


def test_browsing_and_syncing_stay_prompt_under_costly_searches(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start("0.2")
    tree = write_fixture_tree(tmp_path, "recipe-box")
    timings, still_searching, searches = asyncio.run(_attack_and_browse(server.base_url, tree))
    # Measured while the searches were still running or waiting...
    assert still_searching > 0, timings
    # ... and none of it waited for them (before: 40 of them held every worker thread).
    slow = {name: round(seconds, 2) for name, seconds in timings.items() if seconds > 2.0}
    assert not slow, timings
    codes = Counter(response.json()["error"]["code"] for response in searches)
    assert set(codes) == {"SEARCH_TOO_COSTLY", "SEARCH_BUSY"}, codes
    for response in searches:
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    log = server.log()
    assert "Traceback" not in log
