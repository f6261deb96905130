"""Migration 0002 on an existing database, and the parser-epoch bump that ships with it."""

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.db.schema import MIGRATION_HEAD
from sdlc_lens.main import create_app
from sdlc_lens.services.sync.engine import PARSER_EPOCH
from tests.helpers import (
    downgrade,
    migrate,
    register,
    sync,
    wait_until_runner_idle,
    write_tree,
)

FILES = {
    "epics/EP0001-core.md": (
        "# EP0001: Core\n\n> **Status:** Done\n> **Owner:** Ann\n\nThe core epic.\n"
    ),
    "stories/US0001-login.md": (
        "# US0001: Login\n\n> **Status:** Draft\n"
        "> **Epic:** [EP0001: Core](../epics/EP0001-core.md)\n"
        "> **Aliases:** US0100\n\nUsers log in with a password.\n"
    ),
    "plans/PL0001-login.md": (
        "# PL0001: Login plan\n\n> **Status:** Draft\n> **Story:** US0100\n"
        "> **Depends on:** EP0001, US0001\n\nSteps to build the login.\n"
    ),
    "archive/US0002-old.md": "# US0002: Old\n\n> **Status:** Done\n\nRetired.\n",
}
# What the previous parser (epoch 1) stored for each file (content: the whole text):
# (type, doc_id, title, status, ref_id, epic, story, depends_on, aliases) per file.
OLD_ROWS = {
    "epics/EP0001-core.md": ("epic", "EP0001-core", "EP0001: Core", "Done", "EP0001",
                             None, None, None, None),
    "stories/US0001-login.md": ("story", "US0001-login", "US0001: Login", "Draft", "US0001",
                                "EP0001", None, None, "US0100"),
    "plans/PL0001-login.md": ("plan", "PL0001-login", "PL0001: Login plan", "Draft", "PL0001",
                              None, "US0100", "EP0001,US0001", None),
    "archive/US0002-old.md": ("story", "US0002-old", "US0002: Old", "Done", "US0002",
                              None, None, None, None),
}  # fmt: skip
SYNCED_AT = "2026-11-01T10:00:00.000000+00:00"


def seed_epoch1_database(url: str, root: Path) -> None:
    """A database at revision 0001 holding rows as the epoch-1 parser stored them."""
    migrate(url, "0001_initial")
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute(
            "INSERT INTO projects (id, slug, name, sdlc_path, sync_status, last_synced_at, "
            "created_at, updated_at) VALUES (1, 'old', 'Old', ?, 'synced', ?, ?, ?)",
            (str(root), SYNCED_AT, SYNCED_AT, SYNCED_AT),
        )
        for rel_path, values in OLD_ROWS.items():
            data = (root / rel_path).read_bytes()
            conn.execute(
                "INSERT INTO documents (project_id, doc_type, doc_id, title, status, ref_id, epic, "
                "story, depends_on, aliases, parser_epoch, file_path, file_hash, file_size, "
                "synced_at, content) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                (
                    *values,
                    rel_path,
                    hashlib.sha256(data).hexdigest(),
                    len(data),
                    SYNCED_AT,
                    data.decode(),
                ),
            )


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def related(client: TestClient, doc_type: str, doc_id: str) -> dict[str, list[str]]:
    body = client.get(f"/api/v1/projects/old/documents/{doc_type}/{doc_id}/related").json()
    return {
        key: [item["doc_id"] for item in body[key]]
        for key in ("parents", "children", "depends_on", "dependents")
    }


def test_upgrade_backfills_links_then_a_sync_rederives_every_row(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "old", FILES)
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    seed_epoch1_database(url, root)
    migrate(url)

    assert rows(url, "SELECT version_num FROM alembic_version") == [(MIGRATION_HEAD,)]
    links = rows(
        url,
        "SELECT d.doc_id, kind, ref_key, position FROM document_links "
        "JOIN documents AS d ON d.id = document_id",
    )
    assert sorted(links) == [
        ("EP0001-core", "ref", "EP0001", 0),
        ("PL0001-login", "depends_on", "EP0001", 0),
        ("PL0001-login", "depends_on", "US0001", 1),
        ("PL0001-login", "ref", "PL0001", 0),
        ("PL0001-login", "story", "US0100", 0),
        ("US0001-login", "alias", "US0100", 0),
        ("US0001-login", "epic", "EP0001", 0),
        ("US0001-login", "ref", "US0001", 0),
        ("US0002-old", "ref", "US0002", 0),
    ]  # fmt: skip
    archived = dict(rows(url, "SELECT doc_id, archived FROM documents"))
    assert archived == {"EP0001-core": 0, "US0001-login": 0, "PL0001-login": 0, "US0002-old": 1}

    with TestClient(create_app(Settings(database_url=url))) as client:
        # Relationships work straight after the upgrade, before any sync.
        assert related(client, "plan", "PL0001-login") == {
            "parents": ["US0001-login", "EP0001-core"],
            "children": [],
            "depends_on": ["EP0001-core", "US0001-login"],
            "dependents": [],
        }
        assert client.get("/api/v1/projects/old/health-check").status_code == 200
        old_content = client.get("/api/v1/projects/old/documents/story/US0001-login").json()
        assert old_content["content"].startswith("# US0001: Login")

        # The files did not change, yet the epoch-1 rows are parsed again.
        assert sync(client, "old")["sync_status"] == "synced"
        story = client.get("/api/v1/projects/old/documents/story/US0001-login").json()
        assert story["content"] == "Users log in with a password.\n"
        assert story["synced_at"] != SYNCED_AT
        assert related(client, "story", "US0001-login")["children"] == ["PL0001-login"]
        assert related(client, "epic", "EP0001-core")["dependents"] == ["PL0001-login"]
    assert rows(url, "SELECT DISTINCT parser_epoch FROM documents") == [(PARSER_EPOCH,)]
    assert rows(url, "SELECT count(*) FROM document_links") == [(9,)]


def test_rows_of_an_older_parser_epoch_are_rederived_by_a_no_change_sync(
    client: TestClient, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "tree", FILES)
    register(client, "Tree", root)
    sync(client, "tree")
    # The runner's tidy-up after the sync (a WAL checkpoint) may still hold the write lock.
    wait_until_runner_idle(client)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        # As the previous parser left them: whole text as content, no links.
        for rel_path, text in FILES.items():
            conn.exec_driver_sql(
                "UPDATE documents SET parser_epoch = ?, content = ? WHERE file_path = ?",
                (PARSER_EPOCH - 1, text, rel_path),
            )
        conn.exec_driver_sql("DELETE FROM document_links")
    sync(client, "tree")
    story = client.get("/api/v1/projects/tree/documents/story/US0001-login").json()
    assert story["content"] == "Users log in with a password.\n"
    body = client.get("/api/v1/projects/tree/documents/plan/PL0001-login/related").json()
    assert [item["doc_id"] for item in body["parents"]] == ["US0001-login", "EP0001-core"]


def test_downgrade_to_0001_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    migrate(url)
    downgrade(url, "0001_initial")
    tables = {name for (name,) in rows(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "document_links" not in tables
    columns = {row[1] for row in rows(url, "PRAGMA table_info(documents)")}
    assert not columns & {"archived", "content_chars", "content_epic", "last_seen_at"}
    migrate(url)
    assert rows(url, "SELECT version_num FROM alembic_version") == [(MIGRATION_HEAD,)]
