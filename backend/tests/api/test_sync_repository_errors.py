"""A repository that cannot be synced: each failure ends as one line in `sync_error`, the
documents of the last good sync are kept, and no token appears anywhere (SPEC-3 §18, Errors).
Against a real git server (harness/git_server.py)."""

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dulwich.object_store import DiskObjectStore
from fastapi.testclient import TestClient

from harness.git_server import GitServer
from harness.processes import free_port
from tests.git_repositories import (
    Repository,
    app_client,
    commit_of,
    documents,
    make_remote,
    new_repository,
    set_source,
    standard_files,
    stored_rows,
)
from tests.helpers import markdown, sync, wait_for_sync

TOKEN = "ghp_Secret0123456789abcdefSECRET"
USER = "x-access-token"


@pytest.fixture
def served(tmp_path: Path) -> Path:
    root = tmp_path / "served"
    root.mkdir()
    return root


@pytest.fixture
def server(served: Path) -> Iterator[GitServer]:
    with GitServer(served) as git_server:
        yield git_server


@pytest.fixture
def repo(server: GitServer) -> Repository:
    return new_repository(server, "shop", {**documents(), "README.md": "# Shop\n"})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path / "db") as test_client:
        yield test_client


def synced(client: TestClient, repo: Repository, **source: str | None) -> str:
    """A project synced once from `repo`, then given the `source` columns."""
    slug = make_remote(client, "Shop", repo.url)
    assert sync(client, slug)["sync_status"] == "synced"
    if source:  # as a PUT of them leaves it: the next sync is a full one
        set_source(client, slug, **source, last_synced_commit_sha=None)
    return slug


def failed_sync(client: TestClient, slug: str) -> str:
    """Sync, check that it failed keeping the documents; its `sync_error`."""
    before = stored_rows(client, slug)
    commit = commit_of(client, slug)
    project = sync(client, slug)
    assert project["sync_status"] == "error"
    assert stored_rows(client, slug) == before
    assert commit_of(client, slug) == commit
    return str(project["sync_error"])


def test_a_branch_that_does_not_exist(client: TestClient, repo: Repository) -> None:
    slug = synced(client, repo, repo_branch="release")
    assert failed_sync(client, slug) == f"branch 'release' not found in {repo.url}"


def test_a_folder_that_is_not_in_the_branch(client: TestClient, repo: Repository) -> None:
    slug = synced(client, repo, repo_path="docs/sdlc")
    message = failed_sync(client, slug)
    assert message == f"'docs/sdlc' not found in branch 'main' of {repo.url}"


def test_a_repository_that_does_not_exist(
    client: TestClient, server: GitServer, repo: Repository
) -> None:
    missing = f"{server.url}/nothing.git"
    slug = synced(client, repo, repo_url=missing)
    message = failed_sync(client, slug)
    assert message == f"repository not found or no access: {missing} " + (
        "(a private repository needs an access token)"
    )


def test_a_folder_without_documents_never_deletes_the_stored_ones(
    client: TestClient, repo: Repository
) -> None:
    slug = synced(client, repo)
    for path in (repo.work / "sdlc-studio").rglob("*.md"):
        path.unlink()
    repo.write({"sdlc-studio/notes.txt": "moved elsewhere\n"})
    repo.commit("documents removed")
    message = failed_sync(client, slug)
    assert message == "source returned no documents - refusing to delete existing documents"


NOT_HTTP = (
    "repo_url must be an http:// or https:// URL of a git repository for git source type "
    "(file://, ssh://, ext:: and local paths are refused)"
)
SPACES = "repo_url must not contain spaces or control characters"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///etc", NOT_HTTP),
        ("ssh://git@127.0.0.1/shop.git", NOT_HTTP),
        ("ext::git-remote-ext", NOT_HTTP),
        ("ext::sh -c touch% /tmp/pwned", SPACES),
        ("/srv/git/shop.git", NOT_HTTP),
        ("git://127.0.0.1/shop.git", NOT_HTTP),
    ],
)
def test_urls_that_are_not_http_are_refused(
    client: TestClient, repo: Repository, url: str, expected: str
) -> None:
    slug = synced(client, repo, repo_url=url)  # stored past the API's own check of it
    assert failed_sync(client, slug) == expected


def test_credentials_in_the_url_are_refused(client: TestClient, repo: Repository) -> None:
    with_password = repo.url.replace("http://", f"http://{USER}:{TOKEN}@")
    slug = synced(client, repo, repo_url=with_password)
    message = failed_sync(client, slug)
    assert message == "repo_url must not contain credentials: use access_token for the token"


def test_a_server_that_cannot_be_reached(client: TestClient, repo: Repository) -> None:
    port = free_port()
    slug = synced(client, repo, repo_url=f"http://127.0.0.1:{port}/shop.git")
    message = failed_sync(client, slug)
    assert message == f"cannot reach 127.0.0.1:{port}: connection refused; try again later"


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "120"}, "rate limited by {host}; retry after 120 s"),
        (403, {"X-RateLimit-Remaining": "0"}, "rate limited by {host}; try again later"),
        (503, {}, "{host} answered HTTP 503; try again later"),
    ],
)
def test_a_server_that_refuses(
    client: TestClient,
    server: GitServer,
    repo: Repository,
    status: int,
    headers: dict[str, str],
    expected: str,
) -> None:
    slug = synced(client, repo)
    repo.write({"sdlc-studio/prd.md": markdown("PRD: Changed")})
    repo.commit()
    server.refuse_with = (status, headers)
    assert failed_sync(client, slug) == expected.format(host=server.url.removeprefix("http://"))


def test_a_token_is_sent_as_the_password_and_a_refused_one_is_named(
    served: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        GitServer(served, credentials=(USER, TOKEN)) as server,
        app_client(tmp_path / "db") as client,
        caplog.at_level(logging.DEBUG),
    ):
        repo = new_repository(server, "private", documents())
        slug = make_remote(client, "Private", repo.url, token=TOKEN)
        answers = [client.post(f"/api/v1/projects/{slug}/sync")]
        project = wait_for_sync(client, slug)
        assert (project["sync_status"], project["document_count"]) == ("synced", 32)
        set_source(client, slug, access_token=None)
        repo.write({"sdlc-studio/prd.md": markdown("PRD: Changed")})
        repo.commit()
        no_token = failed_sync(client, slug)
        assert no_token.startswith(f"repository not found or no access: {repo.url}")
        set_source(client, slug, access_token=TOKEN[:-1] + "X")
        refused = failed_sync(client, slug)
        assert refused == (
            f"the access token was refused by {server.url.removeprefix('http://')} "
            "(HTTP 401): enter a valid token"
        )
        answers += [client.get(f"/api/v1/projects/{slug}"), client.get("/api/v1/projects")]
    assert all(TOKEN not in answer.text for answer in answers)
    assert TOKEN not in caplog.text and TOKEN[:-1] not in caplog.text


def test_a_github_project_fetches_through_the_configured_github_url(
    served: Path, tmp_path: Path
) -> None:
    with GitServer(served, credentials=(USER, TOKEN)) as server:
        new_repository(server, "acme/shop", documents())
        with app_client(tmp_path / "db", github_url=server.url) as client:
            slug = make_remote(
                client, "Acme", "https://github.com/acme/shop", source_type="github", token=TOKEN
            )
            project = sync(client, slug)
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)
    assert project["document_count"] == 32
    assert {request.path for request in server.traffic.snapshot()} >= {
        "/acme/shop.git/git-upload-pack"
    }


def test_a_fetch_over_the_limit_is_refused(served: Path, tmp_path: Path) -> None:
    with (
        GitServer(served, allow_filter=False) as server,
        app_client(tmp_path / "db", git_max_fetch_mb=1) as client,
    ):
        repo = new_repository(server, "shop", standard_files())  # a 3 MB file in it
        slug = make_remote(client, "Shop", repo.url)
        project = sync(client, slug)
    assert project["sync_status"] == "error"
    assert project["sync_error"].startswith(
        f"fetching {repo.url} passed the 1 MB limit (SDLC_LENS_GIT_MAX_FETCH_MB); "
        "nothing was changed."
    )
    assert project["document_count"] == 0


@pytest.mark.parametrize("stall_after", [0, 400], ids=["head-check", "fetch"])
def test_a_server_that_stalls_is_given_up_on_in_time(
    served: Path, tmp_path: Path, stall_after: int
) -> None:
    with (
        GitServer(served) as server,
        app_client(tmp_path / "db", git_timeout_seconds=1) as client,
    ):
        repo = new_repository(server, "shop", documents())
        slug = make_remote(client, "Shop", repo.url)
        server.stall_after_bytes = stall_after
        started = time.monotonic()
        project = sync(client, slug)
        elapsed = time.monotonic() - started
    assert project["sync_error"] == f"{repo.url} did not answer within 1 s " + (
        "(SDLC_LENS_GIT_TIMEOUT_SECONDS)"
    )
    assert elapsed < 3


def test_shutdown_does_not_wait_for_a_stalled_server(served: Path, tmp_path: Path) -> None:
    with GitServer(served) as server:
        repo = new_repository(server, "shop", documents())
        with app_client(tmp_path / "db") as client:  # the 60 s default time limit
            slug = make_remote(client, "Shop", repo.url)
            server.stall_after_bytes = 0
            assert client.post(f"/api/v1/projects/{slug}/sync").status_code == 202
            deadline = time.monotonic() + 5
            while not server.traffic.snapshot() and time.monotonic() < deadline:
                time.sleep(0.01)
            started = time.monotonic()
        stopped_in = time.monotonic() - started
        with app_client(tmp_path / "db") as client:
            project = client.get(f"/api/v1/projects/{slug}").json()
    assert stopped_in < 2.5
    assert project["sync_error"] == "Sync was interrupted (the server stopped); sync again"


def test_a_blob_fetch_cut_short_changes_nothing_and_the_next_sync_completes(
    served: Path, tmp_path: Path
) -> None:
    """The blobs come last, in one pack added to the store only once it is whole: a server
    that stalls half-way through them leaves the documents, the commit and the store as the
    last good sync left them."""
    with (
        GitServer(served) as server,
        app_client(tmp_path / "db", git_timeout_seconds=1) as client,
    ):
        repo = new_repository(server, "shop", documents())
        slug = synced(client, repo)
        objects = tmp_path / "db" / "repositories" / "1" / "objects"
        # Documents that do not compress: their blobs are far larger than the trees.
        edited = {
            f"sdlc-studio/stories/US{n:04d}-story.md": markdown(
                f"US{n:04d}: Story {n}", os.urandom(20_000).hex(), Status="Done", Epic="EP0001"
            )
            for n in range(1, 11)
        }
        repo.write(edited)
        repo.commit("ten long stories")
        blobs = [repo.git("rev-parse", f"HEAD:{path}") for path in edited]
        server.stall_after_bytes = 100_000  # past the trees, half-way through the blobs
        error = failed_sync(client, slug)
        assert error == f"{repo.url} did not answer within 1 s (SDLC_LENS_GIT_TIMEOUT_SECONDS)"
        # The new trees' pack was whole and is kept; nothing of the blobs' pack is.
        assert {path.suffix for path in (objects / "pack").iterdir()} == {".pack", ".idx"}
        store = DiskObjectStore(str(objects))
        assert not [blob for blob in blobs if blob.encode() in store]
        store.close()
        assert max(r.bytes_sent for r in server.traffic.snapshot()) == 100_000  # it was cut
        server.stall_after_bytes = None
        project = sync(client, slug)
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)
    assert commit_of(client, slug) == repo.git("rev-parse", "HEAD")
    assert {stored_rows(client, slug)[p[len("sdlc-studio/") :]][2] for p in edited} == {"Done"}


def test_a_damaged_pack_is_one_line_and_changes_nothing(
    client: TestClient, server: GitServer, repo: Repository, tmp_path: Path
) -> None:
    """A pack corrupted on the way (a proxy, a disk) ends the sync with one line naming the
    server, keeps the documents and the commit, leaves no pack behind; the next sync is good."""
    slug = synced(client, repo)
    before = stored_rows(client, slug)
    head = commit_of(client, slug)
    packs = tmp_path / "db" / "repositories" / "1" / "objects" / "pack"
    files = sorted(path.name for path in packs.iterdir())
    repo.write(
        {
            f"sdlc-studio/stories/US{n:04d}-story.md": markdown(
                f"US{n:04d}: Story {n}", os.urandom(4_000).hex(), Status="Done", Epic="EP0001"
            )
            for n in range(1, 6)
        }
    )
    repo.commit("five stories rewritten")
    server.damage_packs = True
    error = failed_sync(client, slug)
    assert error.startswith(f"the git server of {repo.url} sent a damaged pack (")
    assert error.endswith("); nothing was changed; try again later") and "\n" not in error
    assert stored_rows(client, slug) == before and commit_of(client, slug) == head
    assert sorted(path.name for path in packs.iterdir()) == files
    server.damage_packs = False
    project = sync(client, slug)
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)
    assert commit_of(client, slug) == repo.git("rev-parse", "HEAD")
