"""Answers computed once per data version: ETags, 304 without a query, invalidation by every
commit, one computation for identical requests arriving together, the memory bound."""

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from sdlc_lens.services.reports.checkup_documents import DOCUMENTS_SQL
from tests.helpers import (
    db_file,
    markdown,
    recorded_statements,
    register,
    sync,
    wait_until_runner_idle,
    write_tree,
)

FILES = {
    "prd.md": markdown("PRD: Shop", Status="Approved"),
    "epics/EP0001-catalogue.md": markdown("EP0001: Catalogue", Status="In Progress"),
    "stories/US0001-browse.md": markdown(
        "US0001: Browse the catalogue", "Shoppers browse every shelf.", Status="Done", Epic="EP0001"
    ),
    "stories/US0002-search.md": markdown(
        "US0002: Search the catalogue",
        "Shoppers search every shelf.",
        Status="Draft",
        Epic="EP0001",
    ),
}
# Every GET of the read API, for the project `shop`.
READS = (
    "/api/v1/projects",
    "/api/v1/projects?limit=1",
    "/api/v1/projects/shop",
    "/api/v1/projects/shop/documents",
    "/api/v1/projects/shop/documents?type=story&sort=title&order=asc",
    "/api/v1/projects/shop/documents/story/US0001-browse",
    "/api/v1/projects/shop/documents/epic/EP0001-catalogue/related",
    "/api/v1/projects/shop/stats",
    "/api/v1/stats",
    "/api/v1/projects/shop/health-check",
    "/api/v1/search?q=shelf",
    "/api/v1/search?q=shelf&project=shop",
)


@pytest.fixture
def shop(client: TestClient, tmp_path: Path) -> Path:
    tree = write_tree(tmp_path / "shop", FILES)
    register(client, "Shop", tree)
    assert sync(client, "shop")["sync_status"] == "synced"
    # The project answers show a sync's progress until its runner lets go of it, a moment
    # after "synced" is visible: that moment moves their ETags, rightly.
    wait_until_runner_idle(client)
    return tree


def statements_of(client: TestClient, path: str, **headers: str) -> tuple[httpx.Response, int]:
    """The answer to GET `path`, and how many SQL statements it cost."""
    with recorded_statements(client.app.state.engine) as seen:  # type: ignore[attr-defined]
        response = client.get(path, headers=headers)
    return response, len(seen)


@pytest.mark.parametrize("path", READS)
def test_every_read_carries_a_strong_etag_and_revalidates_without_a_query(
    client: TestClient, shop: Path, path: str
) -> None:
    first = client.get(path)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "no-cache"

    again, queries = statements_of(client, path)
    assert (again.status_code, again.headers["etag"], again.content) == (200, etag, first.content)
    assert queries == 0  # answered from memory

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        revalidated, queries = statements_of(client, path, **{"If-None-Match": header})
        assert revalidated.status_code == 304, header
        assert revalidated.content == b""
        assert revalidated.headers["etag"] == etag
        assert revalidated.headers["cache-control"] == "no-cache"
        assert queries == 0

    changed = client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert (changed.status_code, changed.content) == (200, first.content)
    head = client.head(path, headers={"If-None-Match": etag})
    assert head.status_code == 304


def test_a_sync_that_changes_the_documents_changes_every_answer_of_the_project(
    client: TestClient, shop: Path
) -> None:
    before = {path: client.get(path) for path in READS}
    write_tree(
        shop,
        {
            "stories/US0001-browse.md": markdown(
                "US0001: Browse the catalogue", "Shoppers browse every shelf.", Status="Draft"
            ),
            "stories/US0003-basket.md": markdown(
                "US0003: Basket", "A shelf basket.", Epic="EP0001"
            ),
        },
    )
    # Not synced yet: the answers are still those of the stored documents.
    for path, answer in before.items():
        if path.endswith("/health-check"):
            continue  # it says when it was checked
        assert client.get(path).content == answer.content, path
    sync(client, "shop")
    for path, answer in before.items():
        after = client.get(path, headers={"If-None-Match": answer.headers["etag"]})
        assert after.status_code == 200, path
        assert after.headers["etag"] != answer.headers["etag"], path
        assert after.content != answer.content, path
    assert client.get("/api/v1/projects/shop/stats").json()["total_documents"] == 5


def test_project_writes_and_deletes_are_seen_at_once(client: TestClient, shop: Path) -> None:
    reads = ("/api/v1/projects", "/api/v1/projects/shop", "/api/v1/stats")
    before = {path: client.get(path) for path in reads}
    renamed = client.put("/api/v1/projects/shop", json={"name": "Corner Shop"})
    assert renamed.status_code == 200
    for path, answer in before.items():
        after = client.get(path, headers={"If-None-Match": answer.headers["etag"]})
        assert after.status_code == 200 and "Corner Shop" in after.text, path

    cached = {path: client.get(path) for path in READS}
    assert client.delete("/api/v1/projects/shop").status_code == 204
    for path, answer in cached.items():
        after = client.get(path, headers={"If-None-Match": answer.headers["etag"]})
        assert after.status_code != 304, path
        assert "shop" not in after.text.lower() or after.status_code == 404, path


def test_a_sync_of_another_project_leaves_a_projects_answers_cached(
    client: TestClient, shop: Path, tmp_path: Path
) -> None:
    answers = {path: client.get(path) for path in READS if "project" in path}
    register(client, "Other", write_tree(tmp_path / "other", FILES))
    sync(client, "other")
    wait_until_runner_idle(client)  # the runner's own reads after the sync are not ours
    for path, answer in answers.items():
        if path in ("/api/v1/projects", "/api/v1/projects?limit=1") or "search" in path:
            continue  # the list shows the new project; search scores weigh the whole index
        with recorded_statements(client.app.state.engine) as seen_sql:
            revalidated = client.get(path, headers={"If-None-Match": answer.headers["etag"]})
        queries = len(seen_sql)
        assert (revalidated.status_code, queries) == (304, 0), (path, seen_sql)


def test_the_watch_mode_of_a_project_is_never_stale(client: TestClient, shop: Path) -> None:
    project = client.get("/api/v1/projects/shop")
    listed = client.get("/api/v1/projects")
    assert project.json()["auto_sync_mode"] is None
    followed = client.put("/api/v1/projects/shop", json={"auto_sync": True}).json()
    assert followed["auto_sync_mode"] in ("watch", "poll")
    now = client.get("/api/v1/projects/shop", headers={"If-None-Match": project.headers["etag"]})
    assert now.status_code == 200 and now.json()["auto_sync_mode"] == followed["auto_sync_mode"]
    assert client.get("/api/v1/projects").json()[0]["auto_sync_mode"] == followed["auto_sync_mode"]
    assert client.get("/api/v1/projects").headers["etag"] != listed.headers["etag"]


def test_a_checkup_is_computed_again_when_a_document_turns_stale(
    client: TestClient, shop: Path
) -> None:
    # As if the documents were last seen 30 days ago, less a few seconds: not stale yet.
    turns_stale = time.time() + 6
    almost = (datetime.fromtimestamp(turns_stale, UTC) - timedelta(days=30)).isoformat()
    with sqlite3.connect(db_file(client.app.state.settings.database_url)) as conn:  # type: ignore[attr-defined]
        conn.execute("UPDATE documents SET synced_at = ?", (almost,))
        conn.execute("UPDATE projects SET last_synced_at = ?", (almost,))
    path = "/api/v1/projects/shop/health-check"
    fresh = client.get(path)
    assert "STALE_DOCUMENT" not in fresh.json()["findings_per_rule"]
    assert client.get(path).headers["etag"] == fresh.headers["etag"]
    time.sleep(max(0.0, turns_stale - time.time()) + 0.5)
    later = client.get(path, headers={"If-None-Match": fresh.headers["etag"]})
    assert later.status_code == 200
    assert later.json()["findings_per_rule"]["STALE_DOCUMENT"] == len(FILES)
    assert later.headers["etag"] != fresh.headers["etag"]


def test_identical_requests_arriving_together_compute_the_answer_once(
    client: TestClient, shop: Path
) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    workers = client.app.state.checkup_workers  # type: ignore[attr-defined]
    release = threading.Event()
    blocking = workers._executor.submit(release.wait, 30)  # the checkup's one worker is busy
    answers: list[httpx.Response] = []

    def ask() -> None:
        answers.append(client.get("/api/v1/projects/shop/health-check"))

    with recorded_statements(engine) as seen:
        askers = [threading.Thread(target=ask) for _ in range(6)]
        for asker in askers:
            asker.start()
        time.sleep(1.0)  # all six are waiting: one for the worker, five for its answer
        release.set()
        for asker in askers:
            asker.join(30)
        blocking.result(5)
    assert [answer.status_code for answer in answers] == [200] * 6
    assert len({answer.content for answer in answers}) == 1
    assert len({answer.headers["etag"] for answer in answers}) == 1
    # The checkup's one read of every document (SQLite reports it with its values bound).
    documents_read = DOCUMENTS_SQL.partition(" WHERE ")[0]
    assert sum(sql.startswith(documents_read) for sql, _ in seen) == 1


@pytest.fixture
def small_cache(database_url: str) -> Iterator[TestClient]:
    """An app with 1 MiB of answer cache: answers over 128 KiB are never kept."""
    settings = Settings(database_url=database_url, response_cache_mb=1)
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_cache_stays_within_its_bound(small_cache: TestClient, tmp_path: Path) -> None:
    big = "A long shelf of words. " * 8000  # a 184 KB document: its answer is never kept
    files = {
        f"stories/US{n:04d}-s.md": markdown(f"US{n:04d}: S{n}", f"Shelf {n}.") for n in range(1, 41)
    }
    register(
        small_cache,
        "Shop",
        write_tree(tmp_path / "shop", {**files, "prd.md": markdown("PRD", big)}),
    )
    sync(small_cache, "shop")
    big_path = "/api/v1/projects/shop/documents/prd/prd"
    small_cache.get(big_path)
    assert statements_of(small_cache, big_path)[1] > 0  # computed again: too large to keep
    store = small_cache.app.state.answer_cache.store  # type: ignore[attr-defined]
    offered = 0
    for per_page in range(1, 101):
        for order in ("asc", "desc"):
            path = f"/api/v1/projects/shop/documents?per_page={per_page}&order={order}"
            offered += len(small_cache.get(path).content)
            assert store.bytes <= store.max_bytes
    assert offered > store.max_bytes  # more than fits: some answers had to go
    # The least recently used answers went first; the latest is still kept.
    assert statements_of(small_cache, "/api/v1/projects/shop/documents?per_page=1&order=asc")[1] > 0
    latest = "/api/v1/projects/shop/documents?per_page=100&order=desc"
    assert statements_of(small_cache, latest)[1] == 0


def test_query_parameters_a_route_does_not_read_share_its_answer(
    client: TestClient, shop: Path
) -> None:
    first = client.get("/api/v1/projects/shop/documents?type=story")
    busted, queries = statements_of(client, "/api/v1/projects/shop/documents?_=1234&type=story")
    assert (busted.content, busted.headers["etag"], queries) == (
        first.content,
        first.headers["etag"],
        0,
    )
    # Repeated parameters: the last one counts, as the route reads it.
    repeated = client.get("/api/v1/projects/shop/documents?type=epic&type=story")
    assert repeated.content == first.content


@pytest.fixture
def uncached(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, response_cache_mb=0)
    with TestClient(create_app(settings)) as client:
        yield client


def test_with_the_cache_off_answers_are_computed_each_time_and_still_revalidate(
    uncached: TestClient, tmp_path: Path
) -> None:
    register(uncached, "Shop", write_tree(tmp_path / "shop", FILES))
    sync(uncached, "shop")
    path = "/api/v1/projects/shop/documents"
    first = uncached.get(path)
    again, queries = statements_of(uncached, path)
    assert again.content == first.content and queries > 0
    revalidated, queries = statements_of(uncached, path, **{"If-None-Match": first.headers["etag"]})
    assert (revalidated.status_code, queries) == (304, 0)


def test_errors_are_never_cached(client: TestClient, shop: Path, tmp_path: Path) -> None:
    missing = client.get("/api/v1/projects/nope")
    assert missing.status_code == 404 and "etag" not in missing.headers
    register(client, "Nope", write_tree(tmp_path / "nope", FILES))
    assert client.get("/api/v1/projects/nope").status_code == 200
