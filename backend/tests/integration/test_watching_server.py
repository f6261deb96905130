"""Folder watching in a real Uvicorn process (issue 17): it follows edits, and it stops with
the service within the shutdown budget, whether a folder is watched or being scanned."""

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.processes import CLEAN_EXITS, Server, start_server
from tests.helpers import eventually, migrate, write_tree

STORY = "# US0001: Log in\n\n> **Status:** {}\n\nBody.\n"


@pytest.fixture
def watching_server(tmp_path: Path) -> Iterator[Server]:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    server = start_server(
        database, tmp_path / "server.log", settings={"WATCH_FALLBACK_SECONDS": "0.2"}
    )
    yield server
    server.stop(signal.SIGKILL)


def follow(client: httpx.Client, name: str, folder: Path) -> str:
    created = client.post("/api/v1/projects", json={"name": name, "sdlc_path": str(folder)})
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    answer = client.put(f"/api/v1/projects/{slug}", json={"auto_sync": True})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["auto_sync_mode"])


def status_of(client: httpx.Client) -> str | None:
    document = client.get("/api/v1/projects/watched/documents/story/US0001-log-in")
    return document.json()["status"] if document.status_code == 200 else None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_the_service_stops_promptly_while_following_folders(
    watching_server: Server, tmp_path: Path, sig: signal.Signals
) -> None:
    watched = write_tree(tmp_path / "watched", {"stories/US0001-log-in.md": STORY.format("Draft")})
    # 10,000 folders: beyond the watch budget, so scanned, again and again.
    scanned = tmp_path / "scanned"
    for index in range(10_000):
        (scanned / f"f{index // 100}" / f"g{index % 100}").mkdir(parents=True)
    write_tree(scanned, {"prd.md": "# PRD\n"})
    with httpx.Client(base_url=watching_server.base_url, timeout=10) as client:
        assert follow(client, "Watched", watched) == "watch"
        assert follow(client, "Scanned", scanned) == "poll"
        eventually(lambda: status_of(client) == "Draft", "the first sync")
        (watched / "stories" / "US0001-log-in.md").write_text(STORY.format("Done"))
        eventually(lambda: status_of(client) == "Done", "the edit")
        time.sleep(0.5)  # scans under way
    started = time.monotonic()
    status = watching_server.stop(sig)
    assert status in CLEAN_EXITS | {-sig}
    assert time.monotonic() - started < 5.0
    log = watching_server.log()
    assert "Traceback" not in log, log[-3000:]
    assert "project scanned: scanning" in log and "project watched: watching" in log
