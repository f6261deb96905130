"""SDLC_LENS_PROJECTS_ROOT: the projects below it are registered and synced at start-up."""

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.healthcheck import HEALTH_PATH
from sdlc_lens.main import create_app
from tests.helpers import eventually, register, write_tree

STORY = "# US0001: Log in\n\n> **Status:** Done\n> **Epic:** EP0001\n\nBody.\n"
EPIC = "# EP0001: Accounts\n\n> **Status:** Done\n\nBody.\n"
SUMMARY = "registered, "  # discovery's last line: "projects root ...: 2 registered, ..."


def settle(
    client: TestClient, caplog: pytest.LogCaptureFixture, timeout: float = 30
) -> dict[str, dict[str, Any]]:
    """The projects once discovery has finished (its summary is logged after it has claimed
    every sync it starts) and no project is syncing any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if SUMMARY in caplog.text:
            listed = {p["slug"]: p for p in client.get("/api/v1/projects").json()}
            if all(project["sync_status"] != "syncing" for project in listed.values()):
                return listed
        time.sleep(0.02)
    raise AssertionError(f"discovery did not finish within {timeout}s:\n{caplog.text}")


@pytest.fixture(autouse=True)
def discovery_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sdlc_lens.services.projects.discovery")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Two projects laid out both ways, and folders that are not projects."""
    return write_tree(
        tmp_path / "projects",
        {
            # A repository with its sdlc-studio folder inside.
            "shop/sdlc-studio/epics/EP0001-accounts.md": EPIC,
            "shop/sdlc-studio/stories/US0001-log-in.md": STORY,
            "shop/README.md": "# Shop\n",
            # An sdlc-studio folder mounted directly.
            "Task List/prd.md": "# PRD\n\n> **Status:** Approved\n",
            "Task List/stories/US0001-log-in.md": STORY,
            # Not projects: no sdlc-studio documents, hidden, a plain file.
            "notes/todo.md": "# Todo\n",
            ".trash/sdlc-studio/prd.md": "# PRD\n",
            "stray.md": "# Stray\n",
        },
    )


def app_for(database_url: str, root: Path, **overrides: Any) -> TestClient:
    settings = Settings(database_url=database_url, projects_root=root, **overrides)
    return TestClient(create_app(settings))


def start_once(database_url: str, root: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A first start, to its end: everything below the root registered and synced."""
    with app_for(database_url, root) as client:
        settle(client, caplog)
    caplog.clear()


def test_each_sdlc_studio_folder_below_the_root_is_registered_and_synced(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with app_for(database_url, root) as client:
        listed = settle(client, caplog)
    assert set(listed) == {"shop", "task-list"}
    shop, tasks = listed["shop"], listed["task-list"]
    assert shop["name"] == "shop"
    assert shop["sdlc_path"] == str((root / "shop" / "sdlc-studio").resolve())
    assert (shop["sync_status"], shop["document_count"]) == ("synced", 2)
    assert tasks["name"] == "Task List"
    assert tasks["sdlc_path"] == str((root / "Task List").resolve())
    assert (tasks["sync_status"], tasks["document_count"]) == ("synced", 2)


def test_a_restart_syncs_again_and_registers_new_folders(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start_once(database_url, root, caplog)
    write_tree(root, {"shop/sdlc-studio/stories/US0002-log-out.md": STORY.replace("1", "2")})
    write_tree(root, {"wiki/sdlc-studio/prd.md": "# PRD\n"})
    with app_for(database_url, root) as client:
        listed = settle(client, caplog)
        assert set(listed) == {"shop", "task-list", "wiki"}
        assert listed["shop"]["document_count"] == 3
        assert listed["wiki"]["sync_status"] == "synced"


def test_a_registered_slug_is_never_overwritten(
    database_url: str, root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere = write_tree(tmp_path / "elsewhere", {"prd.md": "# Other PRD\n"})
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        before = register(client, "Shop", elsewhere)
    with app_for(database_url, root) as client:
        listed = settle(client, caplog)
        after = client.get("/api/v1/projects/shop").json()
    assert after == before  # same name, same path, still never synced
    assert set(listed) == {"shop", "task-list"}


def test_a_vanished_folder_is_reported_not_deleted(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start_once(database_url, root, caplog)
    shutil.rmtree(root / "shop")
    with app_for(database_url, root) as client:
        listed = settle(client, caplog)
        documents = client.get("/api/v1/projects/shop/documents").json()
    shop = listed["shop"]
    assert shop["sync_status"] == "error"
    gone = f"the folder {root / 'shop' / 'sdlc-studio'} is gone; "
    assert shop["sync_error"].startswith(gone), shop["sync_error"]
    assert "remove the project with DELETE /api/v1/projects/shop" in shop["sync_error"]
    assert shop["document_count"] == 2 and documents["total"] == 2  # nothing deleted
    assert listed["task-list"]["sync_status"] == "synced"
    assert any(f"project shop: {gone}" in r.getMessage() for r in caplog.records), caplog.text


def test_forget_vanished_removes_the_projects_whose_folder_is_gone(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start_once(database_url, root, caplog)
    shutil.rmtree(root / "shop")
    with app_for(database_url, root, forget_vanished=True) as client:
        listed = settle(client, caplog)
        assert client.get("/api/v1/projects/shop").status_code == 404
        assert client.get("/api/v1/search", params={"q": "log"}).json()["total"] == 1
    assert set(listed) == {"task-list"}
    assert listed["task-list"]["document_count"] == 2
    assert "project shop removed: its folder is gone" in caplog.text


def test_forget_vanished_keeps_everything_while_the_root_gives_no_project(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An empty root is a missing mount far more often than every project deleted at once."""
    start_once(database_url, root, caplog)
    for folder in ("shop", "Task List"):
        shutil.rmtree(root / folder)
    with app_for(database_url, root, forget_vanished=True) as client:
        listed = settle(client, caplog)
    assert {slug: p["document_count"] for slug, p in listed.items()} == {
        "shop": 2,
        "task-list": 2,
    }
    assert {p["sync_status"] for p in listed.values()} == {"error"}
    assert "2 project(s) with a gone folder kept" in caplog.text


def test_folders_outside_the_allowed_base_are_not_registered(
    database_url: str, root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = tmp_path / "allowed"
    base.mkdir()
    with app_for(database_url, root, allowed_project_base=base) as client:
        assert settle(client, caplog) == {}
    assert f"{root.resolve()}/shop/sdlc-studio not registered: " in caplog.text


@pytest.mark.parametrize(
    ("layout", "problem"),
    [
        ({}, "has no sdlc-studio folder"),
        ({"notes/todo.md": "# Todo\n", ".trash/sdlc-studio/prd.md": "# PRD\n"}, "has no sdlc"),
        (None, "does not exist"),
        ("a file", "is a file, not a folder"),
    ],
    ids=["empty", "no-project-in-it", "missing", "a-file"],
)
def test_a_root_that_gives_no_project_says_what_was_expected_where(
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    in_container: bool,
    layout: dict[str, str] | str | None,
    problem: str,
) -> None:
    root = tmp_path / "projects"
    if isinstance(layout, dict):
        write_tree(root, layout).mkdir(exist_ok=True)
    elif layout is not None:
        root.write_text(layout)
    with app_for(database_url, root) as client:
        assert settle(client, caplog) == {}
        health = client.get(HEALTH_PATH)
        assert health.status_code == 200 and health.json()["ready"] is True
        [warning] = health.json()["warnings"]
        assert client.get("/").json()["warnings"] == [warning]
    assert warning.startswith(f"SDLC_LENS_PROJECTS_ROOT={root} {problem}"), warning
    assert f"expected {root}/<project>/sdlc-studio/ " in warning
    # In a container, the folder is the mount's: say which setting of the host decides it.
    assert ("(LENS_PROJECTS_DIR with compose)" in warning) is in_container, warning
    [record] = [r for r in caplog.records if r.getMessage() == warning]
    assert record.levelno == logging.WARNING


def test_discovered_projects_are_followed_without_a_click(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with app_for(database_url, root) as client:
        listed = settle(client, caplog)
        assert {slug: (p["auto_sync"], p["auto_sync_mode"]) for slug, p in listed.items()} == {
            "shop": (True, "watch"),
            "task-list": (True, "watch"),
        }
        story = root / "shop" / "sdlc-studio" / "stories" / "US0001-log-in.md"
        story.write_text(STORY.replace("Done", "In Progress"), encoding="utf-8")
        url = "/api/v1/projects/shop/documents/story/US0001-log-in"
        eventually(lambda: client.get(url).json()["status"] == "In Progress", "the edit")
    assert caplog.text.count("sync of shop started") == 2  # the first sync, then the edit's


def test_discovered_projects_can_be_left_unfollowed(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with app_for(database_url, root, auto_sync_discovered=False) as client:
        listed = settle(client, caplog)
    assert {(p["auto_sync"], p["auto_sync_mode"]) for p in listed.values()} == {(False, None)}
    assert {p["sync_status"] for p in listed.values()} == {"synced"}


def test_a_registered_project_keeps_its_auto_sync(
    database_url: str, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Discovery never changes a registered project: one registered without auto_sync (by
    an earlier version, by a start with the setting off) is not followed until a PUT says so."""
    with app_for(database_url, root, auto_sync_discovered=False) as client:
        settle(client, caplog)
    caplog.clear()
    with app_for(database_url, root) as client:
        settle(client, caplog)
        shop = client.get("/api/v1/projects/shop").json()
    assert (shop["auto_sync"], shop["auto_sync_mode"], shop["sync_status"]) == (
        False,
        None,
        "synced",
    )
