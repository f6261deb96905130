"""Local projects with auto_sync follow their folder without a click (SPEC-3 §19, issue 17).

Real folders, real files and the kernel's real notifications (inotify), through the app with
its lifespan running. Every wait polls the API with a generous deadline, as the frontend
would: these tests assert what becomes visible and how many syncs it took, never how fast
(benchmarks/scenarios/watching.py measures that).
"""

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import eventually, register, write_tree

QUIET = 3.0  # seconds in which a change that is not followed must stay unseen (latency ~0.5 s)


def story(number: int, status: str = "Draft") -> str:
    return f"# US{number:04d}: Story {number}\n\n> **Status:** {status}\n\nSome words.\n"


def story_file(number: int) -> str:
    return f"stories/US{number:04d}-story-{number}.md"


def statuses(client: TestClient, slug: str) -> dict[str, str | None]:
    """doc_id -> status for every document of the project, as the API lists them."""
    found: dict[str, str | None] = {}
    page = 1
    while True:
        params: dict[str, Any] = {"per_page": 100, "page": page}
        body = client.get(f"/api/v1/projects/{slug}/documents", params=params).json()
        found.update({item["doc_id"]: item["status"] for item in body["items"]})
        if page >= body["pages"]:
            return found
        page += 1


def project(client: TestClient, slug: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/projects/{slug}")
    assert response.status_code == 200, response.text
    return response.json()


def put(client: TestClient, slug: str, **changes: Any) -> dict[str, Any]:
    response = client.put(f"/api/v1/projects/{slug}", json=changes)
    assert response.status_code == 200, response.text
    return response.json()


def settled(client: TestClient, slug: str) -> dict[str, Any]:
    """The project once it is no longer syncing."""
    return eventually(
        lambda: (p := project(client, slug))["sync_status"] != "syncing" and p, f"{slug} settled"
    )


def syncs_started(caplog: pytest.LogCaptureFixture, slug: str) -> int:
    return sum(r.getMessage().startswith(f"sync of {slug} started") for r in caplog.records)


def app(database_url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url, **settings)))


@pytest.fixture(autouse=True)
def sync_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sdlc_lens")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An sdlc-studio folder: an epic at the top (never empty) and three draft stories."""
    files = {"epics/EP0001-epic.md": "# EP0001: Epic\n\n> **Status:** Draft\n"}
    files.update({story_file(n): story(n) for n in (1, 2, 3)})
    return write_tree(tmp_path / "acme" / "sdlc-studio", files)


@pytest.fixture
def watching(database_url: str) -> Iterator[TestClient]:
    """The app, with folders that vanish looked for every half second."""
    with app(database_url, watch_fallback_seconds=0.5) as client:
        yield client


@pytest.fixture
def followed(watching: TestClient, folder: Path) -> TestClient:
    """Project `acme` on `folder`, followed and synced once."""
    register(watching, "Acme", folder)
    assert put(watching, "acme", auto_sync=True)["auto_sync_mode"] == "watch"
    assert settled(watching, "acme")["document_count"] == 4
    return watching


def test_turning_auto_sync_on_watches_the_folder_and_syncs_it(
    watching: TestClient, folder: Path
) -> None:
    created = register(watching, "Acme", folder)
    assert created["auto_sync_mode"] is None and created["sync_status"] == "never_synced"
    answer = put(watching, "acme", auto_sync=True)
    assert (answer["auto_sync"], answer["auto_sync_mode"]) == (True, "watch")
    synced = settled(watching, "acme")  # the first sync needs no click either
    assert (synced["sync_status"], synced["document_count"]) == ("synced", 4)
    assert synced["auto_sync_mode"] == "watch"
    assert [p["auto_sync_mode"] for p in watching.get("/api/v1/projects").json()] == ["watch"]


def test_edits_additions_deletions_and_renames_show_without_a_click(
    followed: TestClient, folder: Path
) -> None:
    (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")
    eventually(lambda: statuses(followed, "acme")["US0001-story-1"] == "Done", "an edit")

    write_tree(folder, {story_file(4): story(4, "Ready")})
    eventually(lambda: statuses(followed, "acme").get("US0004-story-4") == "Ready", "an addition")

    (folder / story_file(2)).unlink()
    eventually(lambda: "US0002-story-2" not in statuses(followed, "acme"), "a deletion")

    (folder / story_file(3)).rename(folder / "stories" / "US0003-renamed.md")
    eventually(
        lambda: (
            set(statuses(followed, "acme"))
            == {"EP0001-epic", "US0001-story-1"} | {"US0004-story-4", "US0003-renamed"}
        ),
        "a rename",
    )
    assert project(followed, "acme")["sync_status"] == "synced"


def test_a_folder_renamed_away_and_back(followed: TestClient, folder: Path, tmp_path: Path) -> None:
    (folder / "stories").rename(tmp_path / "stories-away")
    eventually(lambda: set(statuses(followed, "acme")) == {"EP0001-epic"}, "folder gone")
    (tmp_path / "stories-away").rename(folder / "stories")
    eventually(lambda: len(statuses(followed, "acme")) == 4, "folder back")
    (folder / story_file(2)).write_text(story(2, "Done"), encoding="utf-8")  # still watched
    eventually(lambda: statuses(followed, "acme")["US0002-story-2"] == "Done", "an edit after")


def test_the_project_folder_renamed_away_and_back(
    followed: TestClient, folder: Path, tmp_path: Path
) -> None:
    folder.rename(tmp_path / "away")
    gone = eventually(
        lambda: (p := project(followed, "acme"))["sync_status"] == "error" and p, "folder gone"
    )
    assert "Path not found" in gone["sync_error"]
    assert gone["document_count"] == 4  # a missing folder costs no document
    assert gone["auto_sync_mode"] == "poll"  # looked for until it comes back
    (tmp_path / "away").rename(folder)
    back = eventually(
        lambda: (p := project(followed, "acme"))["sync_status"] == "synced" and p, "folder back"
    )
    assert (back["document_count"], back["auto_sync_mode"]) == (4, "watch")
    (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")
    eventually(lambda: statuses(followed, "acme")["US0001-story-1"] == "Done", "an edit after")


def test_a_burst_of_500_files_takes_a_few_syncs_not_500(
    followed: TestClient, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = syncs_started(caplog, "acme")
    for number in range(100, 600):  # as a `git checkout` writes them: as fast as it can
        path = folder / story_file(number)
        path.write_text(story(number, "Done"), encoding="utf-8")
    eventually(lambda: project(followed, "acme")["document_count"] == 504, "the burst")
    time.sleep(QUIET)  # a follow-up sync, if one is due, starts within this
    settled(followed, "acme")
    syncs = syncs_started(caplog, "acme") - before
    assert 1 <= syncs <= 5, caplog.text
    assert set(statuses(followed, "acme").values()) == {"Draft", "Done"}


def test_a_change_during_a_running_sync_is_synced_after_it(
    watching: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Big enough that the first sync is still reading files when the change comes.
    big = write_tree(tmp_path / "big", {story_file(n): story(n) for n in range(1, 6001)})
    register(watching, "Big", big)
    put(watching, "big", auto_sync=True)
    eventually(
        lambda: (project(watching, "big")["sync_progress"] or {}).get("phase") == "parsing",
        "the first sync past its listing",
    )
    write_tree(big, {story_file(9999): story(9999, "Late")})  # too late for that sync
    eventually(lambda: project(watching, "big")["document_count"] == 6001, "the late file")
    settled(watching, "big")

    def events() -> list[str]:
        return [
            message.split(":")[0].rsplit(" ", 1)[-1]
            for r in caplog.records
            if (message := r.getMessage()).startswith("sync of big ")
            and message.split(":")[0].endswith((" started", " finished"))
        ]

    # A sync logs "finished" just after its last commit: the project can read settled a
    # moment before the line is written.
    seen = eventually(lambda: (e := events()).count("finished") >= 2 and e, "a second sync")
    # One sync at a time: each one finished before the next started. A further sync may have
    # just started (the watcher can report the late file's writes in two batches): it is the
    # last event then, with no other sync under way.
    alternating = ["started", "finished"] * (len(seen) // 2) + ["started"][: len(seen) % 2]
    assert seen == alternating, seen


def test_turning_auto_sync_off_stops_following(followed: TestClient, folder: Path) -> None:
    answer = put(followed, "acme", auto_sync=False)
    assert (answer["auto_sync"], answer["auto_sync_mode"]) == (False, None)
    (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")
    time.sleep(QUIET)
    assert statuses(followed, "acme")["US0001-story-1"] == "Draft"
    assert put(followed, "acme", auto_sync=True)["auto_sync_mode"] == "watch"
    eventually(lambda: statuses(followed, "acme")["US0001-story-1"] == "Done", "caught up")


def test_a_deleted_project_is_no_longer_followed(
    followed: TestClient, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert followed.delete("/api/v1/projects/acme").status_code == 204
    again = register(followed, "Acme", folder)  # same slug, same folder: auto_sync is off
    assert (again["auto_sync"], again["auto_sync_mode"]) == (False, None)
    before = syncs_started(caplog, "acme")
    (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")
    time.sleep(QUIET)
    assert syncs_started(caplog, "acme") == before
    assert project(followed, "acme")["sync_status"] == "never_synced"
    assert "no longer following" in caplog.text


def test_a_new_sdlc_path_is_followed_instead_of_the_old_one(
    followed: TestClient, folder: Path, tmp_path: Path
) -> None:
    other = write_tree(tmp_path / "other", {story_file(7): story(7)})
    answer = put(followed, "acme", sdlc_path=str(other))
    assert answer["auto_sync_mode"] == "watch"
    eventually(lambda: set(statuses(followed, "acme")) == {"US0007-story-7"}, "the new folder")
    (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")  # the old one
    (other / story_file(7)).write_text(story(7, "Done"), encoding="utf-8")
    eventually(lambda: statuses(followed, "acme") == {"US0007-story-7": "Done"}, "an edit")
    time.sleep(QUIET)
    assert statuses(followed, "acme") == {"US0007-story-7": "Done"}


def test_polling_forced_by_the_setting(
    database_url: str, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with app(database_url, watch_mode="poll", watch_fallback_seconds=0.5) as client:
        register(client, "Acme", folder)
        assert put(client, "acme", auto_sync=True)["auto_sync_mode"] == "poll"
        settled(client, "acme")
        (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")
        eventually(lambda: statuses(client, "acme")["US0001-story-1"] == "Done", "an edit")
        write_tree(folder, {story_file(4): story(4)})
        eventually(lambda: "US0004-story-4" in statuses(client, "acme"), "an addition")
        (folder / story_file(2)).unlink()
        eventually(lambda: "US0002-story-2" not in statuses(client, "acme"), "a deletion")
    assert f"scanning {folder} for changes every 0.5s: SDLC_LENS_WATCH_MODE is poll" in caplog.text


def test_a_folder_that_appears_later_is_synced_then_watched(
    watching: TestClient, folder: Path
) -> None:
    register(watching, "Acme", folder)
    shutil.rmtree(folder)
    assert put(watching, "acme", auto_sync=True)["auto_sync_mode"] == "poll"
    time.sleep(1.0)  # two scans: nothing to sync, and no error recorded for it
    assert project(watching, "acme")["sync_status"] == "never_synced"
    write_tree(folder, {story_file(1): story(1)})
    eventually(lambda: statuses(watching, "acme") == {"US0001-story-1": "Draft"}, "appeared")
    assert project(watching, "acme")["auto_sync_mode"] == "watch"
    (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")
    eventually(lambda: statuses(watching, "acme")["US0001-story-1"] == "Done", "an edit after")


def nested_folders(root: Path, count: int) -> Path:
    """`count` folders in all, the root included, with one story in the last."""
    for index in range(count - 1):
        (root / f"f{index // 100}" / f"g{index % 100}").mkdir(parents=True, exist_ok=True)
    leaves = sorted(root.glob("f*/g*"))
    write_tree(leaves[-1], {"US0001-deep.md": story(1)})
    return root


def test_folders_beyond_the_watch_budget_are_scanned_until_budget_frees_up(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    small = write_tree(tmp_path / "small", {"a/b/c/" + story_file(1): story(1)})  # 5 folders
    large = write_tree(tmp_path / "large", {f"d{n}/" + story_file(n): story(n) for n in range(4)})
    with app(database_url, watch_max_folders=12, watch_fallback_seconds=0.5) as client:
        register(client, "Small", small)
        register(client, "Large", large)  # 9 folders: 5 + 9 > 12
        assert put(client, "small", auto_sync=True)["auto_sync_mode"] == "watch"
        assert put(client, "large", auto_sync=True)["auto_sync_mode"] == "poll"
        assert "more than the 7 folders left of the 12" in caplog.text
        settled(client, "large")
        (large / "d1" / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")
        eventually(lambda: statuses(client, "large")["US0001-story-1"] == "Done", "a scan")
        put(client, "small", auto_sync=False)
        eventually(lambda: project(client, "large")["auto_sync_mode"] == "watch", "budget")


def test_ten_thousand_folders_do_not_exhaust_the_service(
    watching: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    huge = nested_folders(tmp_path / "huge", 10_000)
    register(watching, "Huge", huge)
    assert put(watching, "huge", auto_sync=True)["auto_sync_mode"] == "poll"
    assert "more than the 8,192 folders left" in caplog.text
    assert settled(watching, "huge")["document_count"] == 1
    deep = next(huge.glob("f*/g*/US0001-deep.md"))
    deep.write_text(story(1, "Done"), encoding="utf-8")
    eventually(lambda: statuses(watching, "huge") == {"US0001-deep": "Done"}, "an edit")
    assert watching.get("/api/v1/system/health").status_code == 200


def test_watching_comes_back_after_a_restart(database_url: str, folder: Path) -> None:
    with app(database_url) as client:
        register(client, "Acme", folder)
        put(client, "acme", auto_sync=True)
        settled(client, "acme")
    (folder / story_file(1)).write_text(story(1, "Done"), encoding="utf-8")  # while stopped
    with app(database_url) as client:
        eventually(lambda: statuses(client, "acme")["US0001-story-1"] == "Done", "caught up")
        assert project(client, "acme")["auto_sync_mode"] == "watch"
        (folder / story_file(2)).write_text(story(2, "Done"), encoding="utf-8")
        eventually(lambda: statuses(client, "acme")["US0002-story-2"] == "Done", "an edit")


def test_the_watcher_stops_with_the_app(database_url: str, folder: Path) -> None:
    before = set(threading.enumerate())
    with app(database_url) as client:
        register(client, "Acme", folder)
        put(client, "acme", auto_sync=True)
        settled(client, "acme")
        started = {t for t in threading.enumerate() if t.name.startswith("folder-")} - before
        assert {t.name for t in started} == {"folder-watcher", "folder-notifications"}
    assert not [t for t in started if t.is_alive()]


def test_a_project_created_with_auto_sync_is_followed_at_once(
    watching: TestClient, folder: Path
) -> None:
    body = {"name": "Acme", "sdlc_path": str(folder), "auto_sync": True}
    created = watching.post("/api/v1/projects", json=body)
    assert created.status_code == 201, created.text
    assert (created.json()["auto_sync"], created.json()["auto_sync_mode"]) == (True, "watch")
    assert settled(watching, "acme")["document_count"] == 4  # synced without a click


def test_a_repository_project_is_not_followed_by_the_folder_watcher(watching: TestClient) -> None:
    body = {
        "name": "Remote",
        "source_type": "git",
        "repo_url": "https://git.example.com/acme/docs.git",
        "auto_sync": True,
    }
    created = watching.post("/api/v1/projects", json=body)
    assert created.status_code == 201, created.text
    assert (created.json()["auto_sync"], created.json()["auto_sync_mode"]) == (True, None)
    assert project(watching, "remote")["sync_status"] == "never_synced"
