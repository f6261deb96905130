"""Projects in git repositories, synced from a real git server (issue 16 items 3 and 5).

The server is git's own `git http-backend` (harness/git_server.py), once with partial clone
(`uploadpack.allowFilter`, protocol v2) and once without; it records every request and the
bytes of every answer, and the tests assert on them: what a sync costs the server is the
point of fetching incrementally.
"""

import base64
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from harness.git_server import GitServer
from tests.git_repositories import (
    BIG_FILE_BYTES,
    Repository,
    app_client,
    commit_of,
    documents,
    documents_bytes,
    make_remote,
    new_repository,
    standard_files,
    stored_rows,
)
from tests.helpers import markdown, sync

# A head check; then, once per sync, the capability advertisement and ls-refs; then one
# request per fetch (the trees; then, from a server with partial clone, the blobs).
HEAD_CHECK = 1
DISCOVERY = 2
FETCH = 1


@pytest.fixture(params=["partial-clone", "no-filter"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GitServer]:
    root = tmp_path / "served"
    root.mkdir()
    with GitServer(root, allow_filter=request.param == "partial-clone") as git_server:
        yield git_server


@pytest.fixture
def repo(server: GitServer) -> Repository:
    return new_repository(server, "shop", standard_files())


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path / "db") as test_client:
        yield test_client


def test_cold_sync_fetches_the_documents_not_the_repository(
    client: TestClient, server: GitServer, repo: Repository
) -> None:
    slug = make_remote(client, "Shop", repo.url)
    project = sync(client, slug)
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)
    assert project["document_count"] == len(documents()) - 1  # all but .version
    assert project["schema_version"] == 2  # the settings file was read
    assert commit_of(client, slug) == repo.git("rev-parse", "HEAD")
    rows = stored_rows(client, slug)
    blob = repo.git("rev-parse", "HEAD:sdlc-studio/stories/US0001-story.md")
    assert rows["stories/US0001-story.md"][0] == blob  # paths inside repo_path, blob ids
    sent = server.traffic.bytes_sent
    if server.allow_filter:
        # Trees without blobs, then the documents' blobs only: about the documents' size.
        assert server.traffic.round_trips == HEAD_CHECK + DISCOVERY + 2 * FETCH
        assert sent < 2 * documents_bytes(repo.work) + 20_000
        assert sent < BIG_FILE_BYTES / 10
    else:
        # Without partial clone the commit comes whole, the file outside repo_path too.
        assert server.traffic.round_trips == HEAD_CHECK + DISCOVERY + FETCH
        assert sent > BIG_FILE_BYTES


def test_unchanged_head_is_one_round_trip_and_writes_no_document(
    client: TestClient, server: GitServer, repo: Repository
) -> None:
    slug = make_remote(client, "Shop", repo.url)
    sync(client, slug)
    before = stored_rows(client, slug)
    server.traffic.reset()
    project = sync(client, slug)
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)
    requests = server.traffic.snapshot()
    assert len(requests) == 1 and requests[0].method == "POST"  # ls-refs, nothing fetched
    assert requests[0].bytes_sent < 200
    assert stored_rows(client, slug) == before  # not one document rewritten


def test_a_commit_syncs_only_what_changed(
    client: TestClient, server: GitServer, repo: Repository
) -> None:
    slug = make_remote(client, "Shop", repo.url)
    sync(client, slug)
    before = stored_rows(client, slug)
    edited = markdown("US0001: Story 1", "Rewritten.\n", Status="Done", Epic="EP0001")
    repo.write({"sdlc-studio/stories/US0001-story.md": edited})
    repo.write({"sdlc-studio/stories/US0100-new.md": markdown("US0100: New", Status="Draft")})
    repo.remove("sdlc-studio/stories/US0002-story.md")
    repo.git("mv", "sdlc-studio/stories/US0003-story.md", "sdlc-studio/stories/US0003-moved.md")
    head = repo.commit("edit, add, delete, rename")
    server.traffic.reset()
    project = sync(client, slug)
    assert (project["sync_status"], project["document_count"]) == ("synced", len(before))
    assert commit_of(client, slug) == head
    rows = stored_rows(client, slug)
    assert rows["stories/US0001-story.md"][2] == "Done"
    assert "stories/US0002-story.md" not in rows and "stories/US0003-story.md" not in rows
    assert {"stories/US0100-new.md", "stories/US0003-moved.md"} <= rows.keys()
    unchanged = "stories/US0010-story.md"
    assert rows[unchanged] == before[unchanged]  # not rewritten
    # The new trees as deltas against the stored ones, and two new blobs (the renamed file's
    # blob is stored already): a few kB, whatever the repository's size.
    assert server.traffic.bytes_sent < 8_000
    expected = HEAD_CHECK + DISCOVERY + FETCH + (FETCH if server.allow_filter else 0)
    assert server.traffic.round_trips == expected


def test_a_force_push_that_rewrites_history_syncs(
    client: TestClient, server: GitServer, repo: Repository
) -> None:
    slug = make_remote(client, "Shop", repo.url)
    sync(client, slug)
    repo.git("checkout", "-q", "--orphan", "rewritten")
    repo.git("rm", "-q", "-r", "--cached", ".")
    for path in list(repo.work.glob("sdlc-studio/stories/*.md"))[5:]:
        path.unlink()
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "history rewritten")
    repo.git("push", "-q", "--force", "origin", "rewritten:main")
    project = sync(client, slug)
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)
    assert project["document_count"] == 2 + 5
    assert commit_of(client, slug) == repo.git("rev-parse", "HEAD")


def test_the_object_store_is_kept_across_restarts_and_removed_with_the_project(
    tmp_path: Path, server: GitServer, repo: Repository
) -> None:
    with app_client(tmp_path / "db") as client:
        slug = make_remote(client, "Shop", repo.url)
        sync(client, slug)
    stores = tmp_path / "db" / "repositories"
    assert [path.name for path in stores.iterdir()] == ["1"]
    repo.write({"sdlc-studio/stories/US0001-story.md": markdown("US0001: Edited")})
    repo.commit()
    server.traffic.reset()
    with app_client(tmp_path / "db") as client:
        assert sync(client, slug)["sync_status"] == "synced"
        assert server.traffic.bytes_sent < 5_000  # incremental after the restart too
        assert client.delete(f"/api/v1/projects/{slug}").status_code == 204
        deadline = time.monotonic() + 10
        while (stores / "1").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not (stores / "1").exists()


def test_symlinks_and_submodules_are_skipped_and_named(
    client: TestClient, server: GitServer, repo: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    (repo.work / "sdlc-studio" / "link.md").symlink_to("prd.md")
    submodule = new_repository(server, "library", {"sdlc-studio/prd.md": markdown("PRD: Lib")})
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q",
             str(submodule.work), "sdlc-studio/vendor")  # fmt: skip
    repo.commit("a link and a submodule")
    slug = make_remote(client, "Shop", repo.url)
    with caplog.at_level(logging.INFO):
        project = sync(client, slug)
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)
    assert "link.md" not in stored_rows(client, slug)
    assert not any(path.startswith("vendor/") for path in stored_rows(client, slug))
    assert "skipped 'link.md': it is a symbolic link" in caplog.text
    assert "skipped 'vendor': it is a submodule" in caplog.text


def test_moving_the_document_folder_with_put_makes_the_next_sync_a_full_one(
    client: TestClient, server: GitServer, repo: Repository
) -> None:
    repo.write({"handbook/prd.md": markdown("PRD: Handbook")})
    repo.commit("a second folder")
    slug = make_remote(client, "Shop", repo.url)
    assert sync(client, slug)["document_count"] == len(documents()) - 1
    moved = client.put(f"/api/v1/projects/{slug}", json={"repo_path": "handbook"})
    assert moved.status_code == 200, moved.text
    project = sync(client, slug)  # the same head commit, another folder
    assert (project["sync_status"], project["document_count"]) == ("synced", 1)
    assert set(stored_rows(client, slug)) == {"prd.md"}


def test_a_settings_file_over_its_size_limit_is_refused_and_the_stored_settings_kept(
    client: TestClient, server: GitServer, repo: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    slug = make_remote(client, "Shop", repo.url)
    assert sync(client, slug)["schema_version"] == 2
    repo.write({"sdlc-studio/.version": "schema_version: 3\n" + "#" * (1024 * 1024)})
    repo.commit("a settings file over 1 MiB")
    project = sync(client, slug)
    assert project["sync_status"] == "error"
    assert project["sync_error"].startswith("1 file(s) could not be synced")
    assert project["schema_version"] == 2
    assert "skipped '.version': it is larger than the 1 MiB limit" in caplog.text


def test_the_object_store_stays_bounded_as_documents_change(
    client: TestClient, tmp_path: Path
) -> None:
    served = tmp_path / "partial"
    served.mkdir()
    with GitServer(served) as server:  # partial clone: the store holds documents only
        repo = new_repository(server, "shop", standard_files())
        slug = make_remote(client, "Shop", repo.url)
        sync(client, slug)
        store = tmp_path / "db" / "repositories"
        version_bytes = 300_000
        for version in range(12):  # 12 versions of a document that does not compress
            body = base64.b64encode(os.urandom(version_bytes)).decode()
            repo.write({"sdlc-studio/notes/big.md": markdown("Big notes", body)})
            repo.commit(f"version {version}")
            assert sync(client, slug)["sync_status"] == "synced"
    # Every version was fetched (3.6 MB in all); superseded ones are dropped as they pile up:
    # the store stays within twice what it kept at its last tidy-up, plus 1 MiB.
    assert folder_bytes(store) < 2 * 2 * version_bytes + 1024 * 1024 + 200_000


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
