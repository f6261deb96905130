"""Remote projects with auto_sync stay current without a click (SPEC-3 §19, first bullet;
issue 16 item 4): the in-process poller against real git servers (harness/git_server.py),
with intervals of a fraction of a second so that a test sees several of them."""

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from harness.git_server import GitServer, wait_until
from tests.git_repositories import (
    Repository,
    app_client,
    commit_of,
    documents,
    make_remote,
    new_repository,
    set_source,
)
from tests.helpers import markdown, sync

INTERVAL = 0.4
POLLING = {"sync_poll_interval_seconds": INTERVAL, "sync_poll_max_backoff_seconds": 8 * INTERVAL}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    root = tmp_path / "served"
    root.mkdir()
    with GitServer(root) as git_server:
        yield git_server


@pytest.fixture
def repo(server: GitServer) -> Repository:
    return new_repository(server, "shop", documents())


def project(client: TestClient, slug: str) -> dict[str, Any]:
    return client.get(f"/api/v1/projects/{slug}").json()  # type: ignore[no-any-return]


def eventually(condition: Callable[[], bool], timeout: float = 15) -> None:
    assert wait_until(condition, timeout), "did not happen in time"


def test_a_pushed_commit_is_synced_without_a_click(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    with app_client(tmp_path / "db", **POLLING) as client:
        slug = make_remote(client, "Shop", repo.url, auto_sync=True)
        eventually(lambda: commit_of(client, slug) == repo.git("rev-parse", "HEAD"))
        repo.write({"sdlc-studio/stories/US0100-new.md": markdown("US0100: New")})
        head = repo.commit("a new story")
        eventually(lambda: commit_of(client, slug) == head)
        assert project(client, slug)["document_count"] == len(documents())


def test_an_unchanged_head_costs_one_request_per_interval(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    with app_client(tmp_path / "db", **POLLING) as client:
        slug = make_remote(client, "Shop", repo.url, auto_sync=True)
        eventually(lambda: project(client, slug)["sync_status"] == "synced")
        synced_at = project(client, slug)["last_synced_at"]
        server.traffic.reset()
        started = time.monotonic()
        time.sleep(10 * INTERVAL)
        requests = server.traffic.snapshot()
        elapsed = time.monotonic() - started
        assert project(client, slug)["last_synced_at"] == synced_at  # no sync, no write
    assert 5 <= len(requests) <= elapsed / INTERVAL + 1
    assert {(request.method, request.path) for request in requests} == {
        ("POST", "/shop.git/git-upload-pack")  # the head, nothing fetched
    }
    assert all(request.bytes_sent < 200 for request in requests)


def test_a_failing_server_backs_off_and_the_error_clears(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    with app_client(tmp_path / "db", **POLLING) as client:
        slug = make_remote(client, "Shop", repo.url, auto_sync=True)
        eventually(lambda: project(client, slug)["sync_status"] == "synced")
        server.refuse_with = (503, {})
        server.traffic.reset()
        host = server.url.removeprefix("http://")
        failed = f"Freshness poll failed: {host} answered HTTP 503; try again later"
        eventually(lambda: project(client, slug)["sync_error"] == failed)
        assert project(client, slug)["sync_status"] == "error"
        assert project(client, slug)["document_count"] == len(documents()) - 1  # kept
        eventually(lambda: server.traffic.round_trips >= 4, timeout=30)
        times = [request.at for request in server.traffic.snapshot()[:4]]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        # 1, 2, 4 intervals (each up to 25 % later): the gaps double.
        assert gaps[0] >= INTERVAL * 0.9 and gaps[1] >= 2 * INTERVAL * 0.9
        assert gaps[2] >= 4 * INTERVAL * 0.9 and gaps[2] > gaps[1] > gaps[0]
        server.refuse_with = None
        eventually(lambda: project(client, slug)["sync_error"] is None, timeout=30)
        assert project(client, slug)["sync_status"] == "synced"


def test_a_stalled_server_does_not_delay_the_other_projects(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    other_root = tmp_path / "other"
    other_root.mkdir()
    with (
        GitServer(other_root) as stalled,
        app_client(tmp_path / "db", **POLLING, git_timeout_seconds=30) as client,
    ):
        stuck = new_repository(stalled, "stuck", documents())
        stalled.stall_after_bytes = 0
        make_remote(client, "Stuck", stuck.url, auto_sync=True)
        slug = make_remote(client, "Shop", repo.url, auto_sync=True)
        eventually(lambda: stalled.traffic.round_trips >= 1)  # its check is stalled now
        eventually(lambda: commit_of(client, slug) is not None)
        repo.write({"sdlc-studio/prd.md": markdown("PRD: Changed")})
        head = repo.commit()
        eventually(lambda: commit_of(client, slug) == head, timeout=10)
        started = time.monotonic()
    assert time.monotonic() - started < 3  # the stalled check did not hold the shutdown


def test_only_remote_projects_with_auto_sync_are_polled(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    with app_client(tmp_path / "db", **POLLING) as client:
        slug = make_remote(client, "Shop", repo.url, auto_sync=False)
        time.sleep(4 * INTERVAL)
        assert server.traffic.round_trips == 0
        assert project(client, slug)["sync_status"] == "never_synced"


def test_polling_is_off_with_an_interval_of_zero(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    with app_client(tmp_path / "db", sync_poll_interval_seconds=0) as client:
        make_remote(client, "Shop", repo.url, auto_sync=True)
        time.sleep(1)
    assert server.traffic.round_trips == 0


def test_after_a_restart_a_sync_left_running_is_reset_and_polling_resumes(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    with app_client(tmp_path / "db") as client:  # polling every 300 s: never in this test
        slug = make_remote(client, "Shop", repo.url, auto_sync=True)
        assert sync(client, slug)["sync_status"] == "synced"
        set_source(client, slug, sync_status="syncing")  # as a killed process leaves it
    with app_client(tmp_path / "db", **POLLING) as client:
        # Reset at start ("interrupted"), then synced again by the poller, the head unchanged.
        eventually(lambda: project(client, slug)["sync_status"] == "synced")
        assert project(client, slug)["sync_error"] is None
        repo.write({"sdlc-studio/prd.md": markdown("PRD: Changed")})
        head = repo.commit()
        eventually(lambda: commit_of(client, slug) == head)
