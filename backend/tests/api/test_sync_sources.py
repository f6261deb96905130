"""The source seam: the sync engine syncs any source through services/sources/source.py.

The folder is tested everywhere else. Here a source with revisions and blob ids, as a git
repository will have (issue 16), is served from memory through the same interface, into the
real engine and database: the engine needs no change for it, lists and reads only what it
must, and keeps the documents when the source fails.
"""

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from sdlc_lens.db.models import FileStamp
from sdlc_lens.errors import SourceError
from sdlc_lens.services.projects.registry import claim_sync
from sdlc_lens.services.sources.source import Listing, ProjectLocation
from sdlc_lens.services.sync.engine import SyncRequest, SyncResult, run_sync
from tests.helpers import markdown, register


class MemoryRepository:
    """A repository-like source: a revision, blob ids as stamps, reads counted."""

    stamp_columns = ("blob_sha",)

    def __init__(self, revision: str, files: dict[str, str]) -> None:
        self.head = revision
        self.files = {path: text.encode() for path, text in files.items()}
        self.failure: str | None = None  # a SourceError raised when asked for the revision
        self.unreadable: set[str] = set()
        self.listed = 0
        self.read_paths: list[str] = []
        self.opened: list[ProjectLocation] = []

    def open(self, _project_id: int, location: ProjectLocation) -> "MemoryRepository":
        self.opened.append(location)
        return self

    def revision(self) -> str:
        if self.failure is not None:
            raise SourceError(self.failure)
        return self.head

    def list_files(self, on_files: Callable[[int], None]) -> Listing:
        self.listed += 1
        listing = Listing()
        for path, data in sorted(self.files.items()):
            if path.endswith(".md"):
                listing.files[path] = FileStamp(blob_sha=hashlib.sha1(data).hexdigest())
                on_files(1)
        return listing

    def read(self, path: str, limit: int) -> bytes:
        self.read_paths.append(path)
        if path in self.unreadable:
            raise OSError(5, "Input/output error")
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    def stamp_to_store(self, stamp: FileStamp) -> FileStamp:
        return stamp

    def close(self) -> None:
        pass


FILES = {
    ".version": "schema_version: 2\n",
    "prd.md": markdown("PRD"),
    "stories/US0001-a.md": markdown("US0001: A", Status="Draft"),
    "stories/US0002-b.md": markdown("US0002: B", Status="Draft"),
}


def sync_from(engine: Engine, slug: str, source: MemoryRepository) -> SyncResult | None:
    return run_sync(engine, SyncRequest(claim_sync(engine, slug), source.open, slug))


def stored(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT file_path, blob_sha, file_size, file_mtime_ns, status FROM documents"
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def project(client: TestClient, slug: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/projects/{slug}").json()
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        body["commit"] = conn.exec_driver_sql(
            "SELECT last_synced_commit_sha FROM projects WHERE slug = ?", (slug,)
        ).scalar()
    return body


def setup(client: TestClient, tmp_path: Path) -> tuple[Engine, MemoryRepository]:
    register(client, "Repo", tmp_path)
    return client.app.state.engine, MemoryRepository("c1", FILES)  # type: ignore[attr-defined]


def test_a_source_with_blob_ids_syncs_and_stores_its_revision(
    client: TestClient, tmp_path: Path
) -> None:
    engine, repo = setup(client, tmp_path)
    result = sync_from(engine, "repo", repo)
    assert result is not None and (result.status, result.added) == ("synced", 3)
    assert repo.opened[0].sdlc_path == str(tmp_path.resolve())  # opened from the project row
    # Every document, and both settings files (`.config.yaml` is absent).
    assert sorted(repo.read_paths) == sorted([*FILES, ".config.yaml"])
    blob = hashlib.sha1(FILES["prd.md"].encode()).hexdigest()
    assert stored(engine)["prd.md"] == (blob, None, None, None)
    after = project(client, "repo")
    assert (after["sync_status"], after["document_count"], after["commit"]) == ("synced", 3, "c1")
    assert after["schema_version"] == 2


def test_the_same_revision_ends_the_sync_without_listing_or_writing_documents(
    client: TestClient, tmp_path: Path
) -> None:
    engine, repo = setup(client, tmp_path)
    sync_from(engine, "repo", repo)
    before, rows = project(client, "repo"), stored(engine)
    repo.read_paths.clear()
    result = sync_from(engine, "repo", repo)
    assert result is not None and (result.status, result.unchanged) == ("synced", 3)
    assert (repo.listed, repo.read_paths) == (1, [])  # asked for its revision only
    assert stored(engine) == rows
    after = project(client, "repo")
    assert (after["sync_status"], after["sync_error"], after["commit"]) == ("synced", None, "c1")
    assert after["last_synced_at"] > before["last_synced_at"]


def test_a_new_revision_reads_only_the_changed_and_new_files(
    client: TestClient, tmp_path: Path
) -> None:
    engine, repo = setup(client, tmp_path)
    sync_from(engine, "repo", repo)
    repo.head = "c2"
    repo.files["stories/US0002-b.md"] = markdown("US0002: B", Status="Done").encode()
    repo.files["stories/US0003-c.md"] = markdown("US0003: C").encode()
    del repo.files["stories/US0001-a.md"]
    repo.read_paths.clear()
    result = sync_from(engine, "repo", repo)
    assert result is not None
    assert (result.added, result.updated, result.unchanged, result.deleted) == (1, 1, 1, 1)
    documents = {p for p in repo.read_paths if p.endswith(".md")}
    assert documents == {"stories/US0002-b.md", "stories/US0003-c.md"}
    assert stored(engine)["stories/US0002-b.md"][-1] == "Done"
    assert set(stored(engine)) == {"prd.md", "stories/US0002-b.md", "stories/US0003-c.md"}
    assert project(client, "repo")["commit"] == "c2"


def test_a_failing_source_ends_the_sync_with_its_message_and_keeps_the_documents(
    client: TestClient, tmp_path: Path
) -> None:
    engine, repo = setup(client, tmp_path)
    sync_from(engine, "repo", repo)
    rows = stored(engine)
    repo.failure = "Repository not found: https://example.invalid/acme.git"
    result = sync_from(engine, "repo", repo)
    assert result is not None and (result.status, result.error) == ("error", repo.failure)
    after = project(client, "repo")
    assert (after["sync_status"], after["sync_error"]) == ("error", repo.failure)
    assert stored(engine) == rows and after["document_count"] == 3


def test_a_revision_synced_with_errors_is_listed_again_next_time(
    client: TestClient, tmp_path: Path
) -> None:
    engine, repo = setup(client, tmp_path)
    repo.unreadable = {"stories/US0002-b.md"}
    result = sync_from(engine, "repo", repo)
    assert result is not None and (result.status, result.errors) == ("error", 1)
    assert project(client, "repo")["commit"] is None  # a failed file is not vouched for
    repo.unreadable = set()
    result = sync_from(engine, "repo", repo)
    assert result is not None and (result.status, result.added) == ("synced", 1)
    assert (repo.listed, project(client, "repo")["commit"]) == (2, "c1")
