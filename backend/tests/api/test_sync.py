"""Sync (SPEC §5-§6): trigger, states, change detection, deletes, guards, atomicity, bad files."""

import hashlib
import os
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.db import staging
from sdlc_lens.db.fts import INDEXED_CHARS
from sdlc_lens.parsing import parse_front_matter
from sdlc_lens.services.sync import engine as sync_module
from tests.fixtures import CorpusTree
from tests.helpers import (
    assert_body_loses_only_title_and_front_matter,
    assert_error,
    deny_reading,
    register,
    sync,
    wait_for_sync,
    write_tree,
)


def db_rows(client: TestClient, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(sql, params)]


def documents_by_path(client: TestClient) -> dict[str, dict[str, Any]]:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM documents").mappings()
        return {row["file_path"]: dict(row) for row in rows}


def fts_hits(client: TestClient, word: str) -> set[str]:
    rows = db_rows(
        client,
        "SELECT d.file_path FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid "
        "WHERE documents_fts MATCH ?",
        f'"{word}"',
    )
    return {row[0] for row in rows}


def write(root: Path, rel: str, text: str | bytes) -> Path:
    write_tree(root, {rel: text})
    return root / rel


def story(number: int, status: str = "Draft", extra: str = "") -> str:
    return (
        f"# US{number:04d}: Story {number}\n\n> **Status:** {status}\n> **Epic:** EP0001\n\n"
        f"## User Story\nThe text of story {number}. {extra}\n"
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "sdlc-studio"
    write(root, "prd.md", "# PRD\n\n**Status:** Approved\n\nProduct words here.\n")
    write(
        root, "epics/EP0001-core.md", "# EP0001: Core\n\n> **Status:** In Progress\n\nEpic body.\n"
    )
    for number in (1, 2, 3):
        write(root, f"stories/US{number:04d}-story.md", story(number))
    return root


@pytest.fixture
def blocked_runner(client: TestClient):
    """Holds the single sync worker busy until the test releases it."""
    release = threading.Event()
    runner = client.app.state.sync_runner  # type: ignore[attr-defined]
    runner._executor.submit(release.wait)
    yield release
    release.set()


# --- Corpus -----------------------------------------------------------------------------


def test_corpus_tree_syncs_every_document(client: TestClient, corpus_tree: CorpusTree) -> None:
    project = register(client, corpus_tree.name, corpus_tree.path)
    result = sync(client, project["slug"])
    assert result["sync_status"] == "synced", result["sync_error"]
    assert result["sync_error"] is None
    assert result["document_count"] == len(corpus_tree.types)
    # The type of every document, as the tree's own oracle says (not the code under test).
    stored = dict(db_rows(client, "SELECT file_path, doc_type FROM documents"))
    assert stored == corpus_tree.types
    assert result["last_synced_at"] is not None
    # The body is stored: the file's text without its title line and front matter only.
    for rel, doc in documents_by_path(client).items():
        text = (corpus_tree.path / rel).read_text(encoding="utf-8")
        assert_body_loses_only_title_and_front_matter(text, parse_front_matter(text))
        assert doc["content"] == parse_front_matter(text).content
        assert not doc["content"].startswith(f"# {doc['title']}\n")


def test_sample_statuses_come_from_front_matter(
    client: TestClient, fixture_tree_paths: dict[str, Path]
) -> None:
    register(client, "Recipes", fixture_tree_paths["recipe-box"])
    sync(client, "recipes")
    docs = documents_by_path(client)
    assert docs["stories/US0002-add-a-recipe.md"]["status"] == "Done"
    assert docs["stories/US0002-add-a-recipe.md"]["epic"] == "EP0001"
    assert docs["workflows/WF0011-docker-compose-stack-story-workflow.md"]["story"] == "US0011"
    assert docs["prd.md"]["status"] == "Approved"  # bold-line fallback at the top
    assert docs["prd.md"]["doc_id"] == "prd"
    assert docs["stories/US0002-add-a-recipe.md"]["title"] == "US0002: Add a Recipe"


# --- Trigger and states -------------------------------------------------------------------


def test_trigger_answers_202_and_finishes_synced(client: TestClient, tree: Path) -> None:
    register(client, "Demo", tree)
    response = client.post("/api/v1/projects/demo/sync")
    assert response.status_code == 202
    assert response.json() == {"slug": "demo", "sync_status": "syncing", "message": "Sync started"}
    project = wait_for_sync(client, "demo")
    assert project["sync_status"] == "synced" and project["document_count"] == 5


def test_sync_of_unknown_project_is_404(client: TestClient) -> None:
    assert_error(client.post("/api/v1/projects/ghost/sync"), 404, "NOT_FOUND", "Project not found")


def test_second_trigger_while_syncing_is_409(
    client: TestClient, tree: Path, blocked_runner: threading.Event
) -> None:
    register(client, "Demo", tree)
    assert client.post("/api/v1/projects/demo/sync").status_code == 202
    second = client.post("/api/v1/projects/demo/sync")
    assert_error(second, 409, "SYNC_IN_PROGRESS", "Sync already running for this project")
    assert client.get("/api/v1/projects/demo").json()["sync_status"] == "syncing"
    blocked_runner.set()
    assert wait_for_sync(client, "demo")["sync_status"] == "synced"
    # Once finished, a new trigger is accepted again.
    assert sync(client, "demo")["sync_status"] == "synced"


def test_delete_while_syncing_lets_the_sync_exit_quietly(
    client: TestClient,
    tree: Path,
    blocked_runner: threading.Event,
    caplog: pytest.LogCaptureFixture,
) -> None:
    register(client, "Demo", tree)
    assert client.post("/api/v1/projects/demo/sync").status_code == 202
    assert client.delete("/api/v1/projects/demo").status_code == 204
    blocked_runner.set()
    runner = client.app.state.sync_runner  # type: ignore[attr-defined]
    runner._executor.submit(lambda: None).result(timeout=30)  # wait for the queue to drain
    assert db_rows(client, "SELECT count(*) FROM documents") == [(0,)]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# --- Change detection -------------------------------------------------------------------


def test_unchanged_resync_touches_nothing(client: TestClient, tree: Path) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    before = documents_by_path(client)
    second = sync(client, "demo")
    assert second["sync_status"] == "synced"
    assert documents_by_path(client) == before


def test_edit_updates_row_and_index(client: TestClient, tree: Path) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    before = documents_by_path(client)
    write(tree, "stories/US0002-story.md", story(2, status="Done", extra="Zanzibar appears."))
    sync(client, "demo")
    after = documents_by_path(client)
    assert after["stories/US0002-story.md"]["status"] == "Done"
    assert (
        after["stories/US0002-story.md"]["synced_at"]
        > before["stories/US0002-story.md"]["synced_at"]
    )
    assert after["stories/US0001-story.md"] == before["stories/US0001-story.md"]
    assert fts_hits(client, "zanzibar") == {"stories/US0002-story.md"}


def test_same_size_edit_with_preserved_mtime_is_detected(client: TestClient, tree: Path) -> None:
    path = tree / "stories/US0001-story.md"
    register(client, "Demo", tree)
    sync(client, "demo")
    stat = path.stat()
    original = path.read_text()
    path.write_text(original.replace("Draft", "Ready"))  # same length
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a tool that keeps the mtime
    assert path.stat().st_size == stat.st_size
    sync(client, "demo")
    assert documents_by_path(client)["stories/US0001-story.md"]["status"] == "Ready"


def test_deleted_and_renamed_files(client: TestClient, tree: Path) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    (tree / "stories/US0003-story.md").unlink()
    (tree / "stories/US0002-story.md").rename(tree / "stories/US0002-renamed.md")
    sync(client, "demo")
    paths = set(documents_by_path(client))
    assert "stories/US0003-story.md" not in paths and "stories/US0002-story.md" not in paths
    assert "stories/US0002-renamed.md" in paths
    assert fts_hits(client, "US0003") == set()
    assert fts_hits(client, "US0002") == {"stories/US0002-renamed.md"}


def test_emptied_folder_is_refused_then_allowed_explicitly(client: TestClient, tree: Path) -> None:
    register(client, "Demo", tree)
    synced = sync(client, "demo")
    for path in list(tree.rglob("*.md")):
        path.unlink()
    refused = sync(client, "demo")
    assert refused["sync_status"] == "error"
    assert refused["sync_error"] == (
        "source returned no documents - refusing to delete existing documents"
    )
    assert refused["document_count"] == 5
    assert refused["last_synced_at"] == synced["last_synced_at"]
    response = client.post("/api/v1/projects/demo/sync?allow_empty=true")
    assert response.status_code == 202
    cleared = wait_for_sync(client, "demo")
    assert cleared["sync_status"] == "synced" and cleared["document_count"] == 0


def test_empty_folder_says_the_volume_may_not_be_mounted(
    client: TestClient, tmp_path: Path
) -> None:
    (tmp_path / "mount").mkdir()
    register(client, "Mount", tmp_path / "mount")
    result = sync(client, "mount")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == "folder is empty (is the volume mounted?)"
    assert result["last_synced_at"] is None
    # A folder that really is empty can still be synced, explicitly.
    assert client.post("/api/v1/projects/mount/sync?allow_empty=true").status_code == 202
    cleared = wait_for_sync(client, "mount")
    assert cleared["sync_status"] == "synced" and cleared["sync_error"] is None


def test_emptied_mount_keeps_the_documents(client: TestClient, tree: Path) -> None:
    register(client, "Demo", tree)
    synced = sync(client, "demo")
    for child in list(tree.iterdir()):
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    result = sync(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == "folder is empty (is the volume mounted?)"
    assert result["document_count"] == 5
    assert result["last_synced_at"] == synced["last_synced_at"]
    assert client.post("/api/v1/projects/demo/sync?allow_empty=true").status_code == 202
    cleared = wait_for_sync(client, "demo")
    assert cleared["sync_status"] == "synced" and cleared["document_count"] == 0


def test_folder_without_documents_syncs_to_zero(client: TestClient, tmp_path: Path) -> None:
    # A new sdlc-studio folder with nothing written yet: not an error (SPEC §6).
    (tmp_path / "fresh" / "stories").mkdir(parents=True)
    register(client, "Fresh", tmp_path / "fresh")
    result = sync(client, "fresh")
    assert result["sync_status"] == "synced" and result["document_count"] == 0
    assert result["sync_error"] is None


def test_missing_folder_is_reported(client: TestClient, tree: Path) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    moved = tree.with_name("moved")
    tree.rename(moved)
    result = sync(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == f"Path not found: {tree}"
    assert result["document_count"] == 5


def test_failure_mid_write_keeps_previous_documents_and_index(
    client: TestClient, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    before = documents_by_path(client)
    hits_before = fts_hits(client, "story")
    # Deletes and updates run first inside the transaction; the inserts then fail.
    (tree / "stories/US0003-story.md").unlink()
    write(tree, "stories/US0001-story.md", story(1, status="Done", extra="Quokka."))
    write(tree, "stories/US0009-new.md", story(9))
    monkeypatch.setattr(staging, "_INSERT_SQL", "INSERT INTO no_such_table VALUES (?)")
    result = sync(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == sync_module.UNEXPECTED_ERROR
    assert "no_such_table" not in result["sync_error"]
    assert documents_by_path(client) == before
    assert fts_hits(client, "story") == hits_before
    assert fts_hits(client, "quokka") == set()
    # Nothing of the failed attempt lingers on the pooled connection: the next sync works.
    monkeypatch.undo()
    assert sync(client, "demo")["sync_status"] == "synced"
    assert fts_hits(client, "quokka") == {"stories/US0001-story.md"}


def test_sync_error_detail_is_in_the_log(
    client: TestClient,
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    register(client, "Demo", tree)
    monkeypatch.setattr(staging, "_INSERT_SQL", "INSERT INTO no_such_table VALUES (?)")
    sync(client, "demo")
    assert any("no_such_table" in (r.exc_text or "") for r in caplog.records)


# --- Walking the folder ------------------------------------------------------------------


def test_skipped_folders_and_index_files(client: TestClient, tree: Path) -> None:
    for rel in (
        ".git/x.md",
        "node_modules/y.md",
        ".hidden/z.md",
        "build/b.md",
        "stories/_index.md",
    ):
        write(tree, rel, "# Not a document\n")
    register(client, "Demo", tree)
    assert sync(client, "demo")["document_count"] == 5


def test_uppercase_md_suffix_counts(client: TestClient, tree: Path) -> None:
    write(tree, "stories/US0004-shout.MD", story(4))
    write(tree, "notes.Md", "# Notes\n")
    register(client, "Demo", tree)
    sync(client, "demo")
    docs = documents_by_path(client)
    assert docs["stories/US0004-shout.MD"]["doc_id"] == "US0004-shout"
    assert docs["stories/US0004-shout.MD"]["doc_type"] == "story"
    assert docs["notes.Md"]["doc_type"] == "other"


def test_symlink_loop_and_escaping_links_are_not_followed(
    client: TestClient, tree: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.md", "# Secret\n\nPassword words.\n")
    (tree / "loop").symlink_to(tree)  # a directory loop
    (tree / "self.md").symlink_to(tree / "self.md")  # a file that points at itself
    (tree / "escape").symlink_to(outside)  # a folder outside the project
    (tree / "leak.md").symlink_to(outside / "secret.md")  # a file outside the project
    (tree / "alias.md").symlink_to(tree / "prd.md")  # a file inside: allowed
    register(client, "Demo", tree)
    result = sync(client, "demo")
    assert result["sync_status"] == "synced"
    paths = set(documents_by_path(client))
    assert paths == {
        "prd.md",
        "alias.md",
        "epics/EP0001-core.md",
        "stories/US0001-story.md",
        "stories/US0002-story.md",
        "stories/US0003-story.md",
    }
    assert fts_hits(client, "password") == set()


def test_duplicate_type_and_id_are_both_stored(client: TestClient, tree: Path) -> None:
    shutil.copy(
        tree / "stories/US0001-story.md", write(tree, "archive/stories/US0001-story.md", "")
    )
    register(client, "Demo", tree)
    assert sync(client, "demo")["sync_status"] == "synced"
    rows = db_rows(client, "SELECT file_path FROM documents WHERE doc_id = 'US0001-story'")
    assert sorted(rows) == [("archive/stories/US0001-story.md",), ("stories/US0001-story.md",)]


# --- Bad files: reported, never fatal, the good documents beside them are synced ---------


def test_bad_files_are_reported_and_good_ones_synced(
    client: TestClient, tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tree, "stories/US0005-binary.md", bytes(range(256)) * 4)
    write(
        tree, "stories/US0006-latin1.md", "# US0006: Café\n\n> **Status:** Done\n".encode("latin-1")
    )
    write(tree, "stories/US0007-nul.md", b"# US0007\n\x00\x00 data")
    write(tree, "stories/US0008-empty.md", b"")
    write(tree, "stories/US0010-bom.md", "\ufeff# US0010: Bom\n\n> **Status:** Done\n".encode())
    register(client, "Demo", tree)
    result = sync(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == (
        "3 file(s) could not be synced and were left unchanged; 7 added, 0 updated, 0 deleted. "
        "Their stored documents are preserved - see the server log for each path."
    )
    docs = documents_by_path(client)
    assert "stories/US0005-binary.md" not in docs and "stories/US0006-latin1.md" not in docs
    assert docs["stories/US0008-empty.md"]["content"] == ""
    assert docs["stories/US0008-empty.md"]["title"] == "US0008-empty"
    assert docs["stories/US0010-bom.md"]["title"] == "US0010: Bom"
    assert docs["stories/US0010-bom.md"]["status"] == "Done"
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    for name in ("US0005-binary.md", "US0006-latin1.md", "US0007-nul.md"):
        assert name in warned


def test_file_that_turns_unreadable_keeps_its_stored_document(
    client: TestClient, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client, "Demo", tree)
    first = sync(client, "demo")
    before = documents_by_path(client)["stories/US0001-story.md"]
    write(tree, "stories/US0001-story.md", b"\xff\xfe not utf-8 any more")
    deny_reading(monkeypatch, "US0002-story.md")
    os.utime(tree / "stories/US0002-story.md")  # force a read of that file too
    result = sync(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"].startswith("2 file(s) could not be synced")
    assert "Permission" not in result["sync_error"]
    after = documents_by_path(client)
    # The stored document is kept as it was; only the sync that last saw it is noted.
    assert after["stories/US0001-story.md"] == {**before, "last_seen_at": first["last_synced_at"]}
    assert after["stories/US0002-story.md"]["last_seen_at"] == first["last_synced_at"]
    assert after["stories/US0003-story.md"]["last_seen_at"] is None


def test_twenty_megabyte_document_is_synced_whole(client: TestClient, tree: Path) -> None:
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + "\n\n"
    body = "# US0011: Huge\n\n> **Status:** Draft\n\nIt starts with an aardvark.\n\n"
    body += paragraph * (20 * 1024 * 1024 // len(paragraph))
    body += "The very last sentence mentions xylophone.\n"
    write(tree, "stories/US0011-huge.md", body)
    register(client, "Demo", tree)
    result = sync(client, "demo")
    assert result["sync_status"] == "synced" and result["document_count"] == 6
    huge = documents_by_path(client)["stories/US0011-huge.md"]
    assert huge["content"] == body.removeprefix("# US0011: Huge\n\n> **Status:** Draft\n\n")
    # Search indexes a document's first INDEXED_CHARS characters only (a documented bound).
    assert fts_hits(client, "aardvark") == {"stories/US0011-huge.md"}
    assert len(body) > INDEXED_CHARS and fts_hits(client, "xylophone") == set()


def test_project_config_is_read(client: TestClient, tree: Path) -> None:
    write(tree, ".version", 'schema_version: 2\nskill_version: "1.3.0"\n')
    write(tree, ".config.yaml", "profile: enterprise\nstatus_vocab:\n  story: [Gated]\n")
    write(tree, "stories/US0004-gated.md", story(4, status="gated — waiting on legal"))
    register(client, "Demo", tree)
    result = sync(client, "demo")
    assert (result["schema_version"], result["profile"]) == (2, "enterprise")
    assert documents_by_path(client)["stories/US0004-gated.md"]["status"] == "Gated"


def test_database_file_is_real_sqlite(client: TestClient, tree: Path, database_url: str) -> None:
    register(client, "Demo", tree)
    sync(client, "demo")
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 5


def test_every_column_is_stored_under_its_own_name(client: TestClient, tmp_path: Path) -> None:
    # Every front-matter value is distinct, so two columns swapped anywhere between the
    # parser and the INSERT would show up here as a wrong value under some column.
    root = tmp_path / "sdlc-studio"
    path = write(
        root,
        "stories/US0007-columns.md",
        "# US0007: Columns\n\n"
        "> **Status:** Review\n> **Owner:** olivia\n> **Priority:** P3\n"
        "> **Story Points:** 8\n> **Epic:** EP0002\n> **Story:** US0005\n"
        "> **Depends on:** US0006, US0004\n> **Aliases:** US0100\n> **Sprint:** S9\n\n"
        "Body words.\n",
    )
    register(client, "Demo", root)
    sync(client, "demo")
    row = documents_by_path(client)["stories/US0007-columns.md"]
    st = path.stat()
    expected = {
        "file_path": "stories/US0007-columns.md",
        "doc_type": "story",
        "doc_id": "US0007-columns",
        "title": "US0007: Columns",
        "status": "Review",
        "owner": "olivia",
        "priority": "P3",
        "story_points": 8,
        "epic": "EP0002",
        "story": "US0005",
        "ref_id": "US0007",
        "depends_on": "US0006,US0004",
        "aliases": "US0100",
        "metadata_json": '{"sprint": "S9"}',
        "file_size": st.st_size,
        "file_ctime_ns": st.st_ctime_ns,
        "parser_epoch": sync_module.PARSER_EPOCH,
    }
    assert {key: row[key] for key in expected} == expected
    assert row["file_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert row["synced_at"] == client.get("/api/v1/projects/demo").json()["last_synced_at"]
    assert "Body words." in row["content"]
