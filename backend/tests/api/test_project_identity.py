"""A project's documents never reach another project: ids are never reused, and a deleted
project's sync stops without writing (issue 15, item 1)."""

import logging
import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import (
    db_file,
    markdown,
    migrate,
    register,
    sync,
    wait_until_runner_idle,
    write_tree,
)

LARGE = 3000  # documents: long enough a parse for a delete to land in the middle of it


def project_ids(database_url: str) -> dict[str, int]:
    with sqlite3.connect(db_file(database_url)) as conn:
        return dict(conn.execute("SELECT slug, id FROM projects").fetchall())


def owners_of_documents(database_url: str) -> dict[int, set[str]]:
    """Project id -> the file names of its stored documents."""
    owners: dict[int, set[str]] = {}
    with sqlite3.connect(db_file(database_url)) as conn:
        for project_id, file_path in conn.execute("SELECT project_id, file_path FROM documents"):
            owners.setdefault(project_id, set()).add(file_path)
    return owners


@pytest.fixture
def large_folder(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "large",
        {f"stories/US{n:04d}-alpha.md": markdown(f"US{n:04d}: Alpha {n}") for n in range(LARGE)},
    )


@pytest.fixture
def small_folder(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "small", {"stories/US0001-beta.md": markdown("US0001: Beta")})


def wait_until_parsing(client: TestClient, slug: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        progress = client.get(f"/api/v1/projects/{slug}").json()["sync_progress"]
        if progress is not None and progress["phase"] == "parsing":
            return
        time.sleep(0.002)
    raise AssertionError("the sync never reached its parsing phase")


@pytest.mark.parametrize("delay", [None, 0.0, 0.05, 0.2])
def test_a_project_created_after_a_delete_never_gets_the_deleted_projects_documents(
    client: TestClient,
    database_url: str,
    large_folder: Path,
    small_folder: Path,
    delay: float | None,
) -> None:
    # The reproduction: sync a large folder, delete the project while it parses (or at once,
    # or a little later), create another project for a one-document folder, do not sync it.
    register(client, "Large", large_folder)
    assert client.post("/api/v1/projects/large/sync").status_code == 202
    if delay is None:
        wait_until_parsing(client, "large")
    else:
        time.sleep(delay)
    deleted_id = project_ids(database_url)["large"]
    assert client.delete("/api/v1/projects/large").status_code == 204
    register(client, "Small", small_folder)
    wait_until_runner_idle(client)  # the deleted project's sync and purge are over

    small = client.get("/api/v1/projects/small").json()
    assert small["sync_status"] == "never_synced" and small["document_count"] == 0
    assert project_ids(database_url)["small"] > deleted_id
    assert owners_of_documents(database_url) == {}
    # And once synced, it holds exactly its own folder's document.
    assert sync(client, "small")["document_count"] == 1
    assert owners_of_documents(database_url) == {
        project_ids(database_url)["small"]: {"stories/US0001-beta.md"}
    }


def test_a_deleted_projects_sync_stops_before_writing(
    client: TestClient, large_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    register(client, "Large", large_folder)
    with caplog.at_level(logging.INFO, logger="sdlc_lens"):
        assert client.post("/api/v1/projects/large/sync").status_code == 202
        wait_until_parsing(client, "large")
        assert client.delete("/api/v1/projects/large").status_code == 204
        wait_until_runner_idle(client)
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        "stopped while reading files: the project was deleted; nothing written" in message
        for message in messages
    ), messages
    assert not any("sync of large finished" in message for message in messages), messages


def test_project_ids_are_never_reused_even_across_a_restart(
    settings: Settings, database_url: str, small_folder: Path
) -> None:
    with TestClient(create_app(settings)) as client:
        register(client, "First", small_folder)
        register(client, "Second", small_folder)
        second = project_ids(database_url)["second"]
        assert client.delete("/api/v1/projects/second").status_code == 204
        wait_until_runner_idle(client)
    with TestClient(create_app(settings)) as client:
        register(client, "Third", small_folder)
    assert project_ids(database_url)["third"] > second


def test_upgrading_keeps_the_ids_of_deleted_projects_with_rows_left_taken(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    migrate(url, "0003_search_index")
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        conn.execute(
            "INSERT INTO projects (id, slug, name, created_at, updated_at) "
            "VALUES (1, 'kept', 'Kept', 't', 't')"
        )
        # Project 5 was deleted; a stop cut its purge short, so one document is left.
        conn.execute(
            "INSERT INTO documents (project_id, doc_type, doc_id, title, file_path, file_hash, "
            "synced_at, content) VALUES (5, 'story', 'US0001', 'US0001: A', 'a.md', 'h', 't', "
            "'Left behind.')"
        )
    migrate(url)
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        assert conn.execute("SELECT id, slug FROM projects").fetchall() == [(1, "kept")]
        conn.execute(
            "INSERT INTO projects (slug, name, created_at, updated_at) "
            "VALUES ('new', 'New', 't', 't')"
        )
        new_id = conn.execute("SELECT id FROM projects WHERE slug = 'new'").fetchone()[0]
        # The documents were not cascaded away by the table's rebuild.
        left = conn.execute("SELECT project_id FROM documents").fetchall()
    assert new_id == 6
    assert left == [(5,)]
