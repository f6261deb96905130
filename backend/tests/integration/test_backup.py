"""`python -m sdlc_lens.backup DEST` against a live server: a consistent copy taken while a
sync writes, which a fresh server then serves with every document; and what it refuses."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.processes import Server, start_server, wait_for_sync
from sdlc_lens.db.schema import MIGRATION_HEAD
from tests.helpers import migrate, write_tree

KEPT_DOCUMENTS = 150
SYNCING_DOCUMENTS = 4000  # enough for the sync to be under way while the backup runs


def story_tree(root: Path, count: int, word: str) -> Path:
    """`count` stories, each with a word of its own (`<word>17`) for search."""
    return write_tree(
        root,
        {
            f"stories/US{n:04d}-story-{n}.md": (
                f"# US{n:04d}: Story {n}\n\n> **Status:** Done\n> **Owner:** Priya\n\n"
                f"{word}{n} " + "Text that a story holds, to give the sync work. " * 40
            )
            for n in range(1, count + 1)
        },
    )


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("backup-trees")
    kept = story_tree(root / "kept", KEPT_DOCUMENTS, "keptword")
    busy = story_tree(root / "busy", SYNCING_DOCUMENTS, "busyword")
    return kept, busy


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    database = tmp_path / "live" / "lens.db"
    database.parent.mkdir()
    migrate(f"sqlite:///{database}")
    running = start_server(database, tmp_path / "live.log")
    yield running
    running.stop(signal.SIGKILL)


def backup(database: Path, destination: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDLC_LENS_")}
    return subprocess.run(
        [sys.executable, "-m", "sdlc_lens.backup", str(destination)],
        env={**env, "SDLC_LENS_DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def documents(client: httpx.Client, slug: str) -> set[tuple[str, str]]:
    """Every (type, doc_id) of a project, read page by page."""
    found: set[tuple[str, str]] = set()
    page = 1
    while True:
        body: dict[str, Any] = client.get(
            f"/api/v1/projects/{slug}/documents", params={"page": page, "per_page": 100}
        ).json()
        found |= {(item["type"], item["doc_id"]) for item in body["items"]}
        if page >= body["pages"]:
            return found
        page += 1


def test_a_backup_taken_during_a_sync_restores_every_document(
    server: Server, trees: tuple[Path, Path], tmp_path: Path
) -> None:
    kept, busy = trees
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        for name, path in (("Kept", kept), ("Busy", busy)):
            assert client.post(
                "/api/v1/projects", json={"name": name, "sdlc_path": str(path)}
            ).status_code == 201  # fmt: skip
        assert client.post("/api/v1/projects/kept/sync").status_code == 202
        assert wait_for_sync(client, "kept")["document_count"] == KEPT_DOCUMENTS
        expected = documents(client, "kept")

        assert client.post("/api/v1/projects/busy/sync").status_code == 202
        # The copy starts while the sync reads and writes (it needs about 2 s here).
        assert client.get("/api/v1/projects/busy").json()["sync_status"] == "syncing"
        destination = tmp_path / "backups" / "lens-backup.db"
        destination.parent.mkdir()
        done = backup(server.database, destination)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            f"backup written: {destination} ({destination.stat().st_size:,} bytes, "
            f"schema {MIGRATION_HEAD})"
        ]
        assert wait_for_sync(client, "busy")["document_count"] == SYNCING_DOCUMENTS
    assert sorted(p.name for p in destination.parent.iterdir()) == ["lens-backup.db"]

    # Restore: the copy becomes the database of a fresh server.
    restored = tmp_path / "restored" / "lens.db"
    restored.parent.mkdir()
    restored.write_bytes(destination.read_bytes())
    fresh = start_server(restored, tmp_path / "restored.log")
    try:
        with httpx.Client(base_url=fresh.base_url, timeout=10) as client:
            assert documents(client, "kept") == expected
            hit = client.get("/api/v1/search", params={"q": "keptword42"}).json()
            assert [item["doc_id"] for item in hit["items"]] == ["US0042-story-42"]
            # The busy project is as the snapshot found it: before its sync's commit (and
            # marked as interrupted at this start), or after it: never half of it.
            busy_project = client.get("/api/v1/projects/busy").json()
            assert (busy_project["sync_status"], busy_project["document_count"]) in (
                ("error", 0),
                ("synced", SYNCING_DOCUMENTS),
            ), busy_project
    finally:
        fresh.stop(signal.SIGTERM)


def test_a_backup_never_replaces_a_file(server: Server, tmp_path: Path) -> None:
    existing = tmp_path / "important.db"
    existing.write_text("not to be lost")
    done = backup(server.database, existing)
    assert done.returncode == 1
    assert (
        done.stderr == f"backup failed: {existing} already exists; a backup never replaces a file\n"
    )
    assert existing.read_text() == "not to be lost"
    assert sorted(p.name for p in tmp_path.iterdir() if "important" in p.name) == ["important.db"]


def test_a_damaged_database_gives_no_backup(tmp_path: Path) -> None:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    server = start_server(database, tmp_path / "server.log")
    server.stop(signal.SIGTERM)
    data = bytearray(database.read_bytes())
    page = 8192
    data[2 * page : 3 * page] = b"\xff" * page  # a damaged page in the middle of the file
    database.write_bytes(bytes(data))
    destination = tmp_path / "out" / "copy.db"
    destination.parent.mkdir()
    done = backup(database, destination)
    assert done.returncode == 1
    assert done.stderr.startswith("backup failed: "), done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert list(destination.parent.iterdir()) == []  # no copy, no leftover partial file


def test_a_missing_database_or_folder_is_said_plainly(tmp_path: Path) -> None:
    done = backup(tmp_path / "none.db", tmp_path / "copy.db")
    assert (done.returncode, done.stderr) == (
        1,
        f"backup failed: there is no database at {tmp_path / 'none.db'}\n",
    )
    assert not (tmp_path / "none.db").exists()  # never created by looking
    done = backup(tmp_path / "none.db", tmp_path / "no-folder" / "copy.db")
    assert done.stderr == f"backup failed: the folder {tmp_path / 'no-folder'} does not exist\n"
