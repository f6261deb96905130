"""The answer cache behind a real Uvicorn and a real HTTP client: 304 answers that cost no
query and no computation, one computation for identical requests arriving together, and the
frontend's project poll during a sync (the ETag moves with the progress, 304 when it stands)."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sdlc_lens.api.caching import AnswerCache
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.api.test_answer_cache import FILES, READS
from tests.helpers import (
    eventually,
    insert_connection,
    markdown,
    recorded_statements,
    register,
    served,
    sync,
    wait_for_sync,
    write_tree,
)


@pytest.fixture
def app(database_url: str) -> FastAPI:
    return create_app(Settings(database_url=database_url))


@pytest.fixture
def http(app: FastAPI) -> Iterator[httpx.Client]:
    with served(app) as client:
        yield client


def cache_of(app: FastAPI) -> AnswerCache:
    cache: AnswerCache = app.state.answer_cache
    return cache


def test_a_matching_if_none_match_gets_304_without_a_query(
    app: FastAPI, http: httpx.Client, tmp_path: Path
) -> None:
    register(http, "Shop", write_tree(tmp_path / "shop", FILES))
    assert sync(http, "shop")["sync_status"] == "synced"
    # The project answers show a sync's progress until its runner lets go of it, a moment
    # after "synced" is visible: that moment moves their ETags, rightly.
    eventually(lambda: not app.state.sync_runner.progress.states(), "the sync let go")
    stats = cache_of(app).stats
    for path in READS:
        first = http.get(path)
        assert first.status_code == 200, (path, first.text)
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "no-cache"
        computed = stats.computed
        with recorded_statements(app.state.engine) as statements:
            again = http.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b"" and "content-type" not in again.headers, path
        assert again.headers["etag"] == etag, path
        assert statements == [], path
        assert stats.computed == computed, path


def test_two_identical_requests_arriving_together_are_computed_once(
    app: FastAPI, http: httpx.Client, tmp_path: Path
) -> None:
    register(http, "Shop", write_tree(tmp_path / "shop", FILES))
    sync(http, "shop")
    stats = cache_of(app).stats
    # The health check's one worker is kept busy, so the first request's computation waits
    # for it while the second request arrives.
    release = threading.Event()
    busy = app.state.checkup_workers._executor.submit(release.wait, 30)
    answers: list[httpx.Response] = []
    computed, joined = stats.computed, stats.joined

    def ask() -> None:
        answers.append(http.get("/api/v1/projects/shop/health-check"))

    pair = [threading.Thread(target=ask) for _ in range(2)]
    for asker in pair:
        asker.start()
    eventually(lambda: stats.joined == joined + 1, "the second request waits for the first")
    release.set()
    for asker in pair:
        asker.join(30)
    busy.result(5)
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert answers[0].headers["etag"] == answers[1].headers["etag"]
    assert stats.computed == computed + 1


def test_the_project_poll_during_a_sync_sees_the_progress_move(
    app: FastAPI, http: httpx.Client, tmp_path: Path
) -> None:
    files = {
        f"stories/US{n:04d}-s.md": markdown(f"US{n:04d}: Story {n}", f"Shelf {n}.")
        for n in range(1, 1501)
    }
    register(http, "Shop", write_tree(tmp_path / "shop", files))
    register(http, "Mill", write_tree(tmp_path / "mill", FILES))
    path, queued = "/api/v1/projects/shop", "/api/v1/projects/mill"
    before = http.get(path)
    assert http.post(f"{path}/sync").status_code == 202
    # Mill's sync waits for Shop's: its answer stands still meanwhile.
    assert http.post(f"{queued}/sync").status_code == 202
    waiting = http.get(queued)
    assert waiting.json()["sync_status"] == "syncing" and waiting.json()["sync_progress"] is None
    standing_still: list[int] = []  # Mill's answers (status) while Shop's sync ran
    # The frontend polls every 2 s, sending the ETag it holds; faster here, to see each step.
    polls: list[tuple[int, str, Any]] = []  # (status, ETag, body; None for a 304)
    etag = before.headers["etag"]
    while True:
        answer = http.get(path, headers={"If-None-Match": etag})
        etag = answer.headers["etag"]
        body = answer.json() if answer.status_code == 200 else None
        polls.append((answer.status_code, etag, body))
        if body is not None and body["sync_status"] != "syncing":
            break
        mill = http.get(queued, headers={"If-None-Match": waiting.headers["etag"]})
        if http.get(path).json()["sync_status"] == "syncing":  # Shop's sync still runs
            standing_still.append(mill.status_code)
        time.sleep(0.02)

    assert polls[-1][2]["sync_status"] == "synced"
    assert polls[-1][2]["document_count"] == 1500 and polls[-1][2]["sync_progress"] is None
    bodies: dict[str, Any] = {}
    for status, tag, body in polls:
        if status == 200:
            # A strong ETag stands for one answer only.
            assert bodies.setdefault(tag, body) == body
    progress = [body["sync_progress"] for _s, _t, body in polls if body and body["sync_progress"]]
    assert len({repr(step) for step in progress}) >= 2, polls  # the progress moved ...
    assert len(bodies) >= 3, polls  # ... and each step had an ETag of its own
    assert standing_still and set(standing_still) == {304}, standing_still
    assert wait_for_sync(http, "mill")["sync_status"] == "synced"  # its queries are not ours
    # Nothing changes any more (Shop's sync let go before Mill's began): its ETag now gets
    # 304, at no cost. Not the last poll's: that one may have caught the final commit in
    # flight, or the progress not yet cleared, and so belongs to no version that lasts.
    etag = http.get(path).headers["etag"]
    with recorded_statements(app.state.engine) as statements:
        standing = http.get(path, headers={"If-None-Match": etag})
    assert (standing.status_code, standing.content, statements) == (304, b"", [])


def test_a_projects_connection_change_is_seen_at_once(
    app: FastAPI, http: httpx.Client, database_url: str
) -> None:
    connection = insert_connection(database_url, "sealed-elsewhere")
    created = http.post(
        "/api/v1/projects",
        json={"name": "Hub", "source_type": "github", "repo_url": "https://github.com/a/b"},
    )
    assert created.status_code == 201, created.text
    before = http.get("/api/v1/projects/hub")
    listed = http.get("/api/v1/projects")
    assert before.json()["connection_id"] is None
    attached = http.put("/api/v1/projects/hub", json={"connection_id": connection})
    assert attached.status_code == 200, attached.text
    for path, old in (("/api/v1/projects/hub", before), ("/api/v1/projects", listed)):
        now = http.get(path, headers={"If-None-Match": old.headers["etag"]})
        assert now.status_code == 200, path
        assert str(connection) in now.text and now.headers["etag"] != old.headers["etag"]
