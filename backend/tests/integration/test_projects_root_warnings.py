"""A SDLC_LENS_PROJECTS_ROOT that gives no project is loud (issue 19 item 3): a WARNING in the
log that says what was expected where, and the same sentence in the system health and `GET /`,
which stay 200 (the service works). A real Uvicorn; for the unreadable cases it runs without
the capabilities that let root ignore file modes (harness/processes.py), as the image's uid
10001 would.
"""

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from harness.processes import WITHOUT_MODE_OVERRIDE, Server, start_server
from sdlc_lens.healthcheck import HEALTH_PATH
from tests.helpers import eventually, migrate, write_tree

SUMMARY = "registered, "  # discovery's last line: "projects root ...: 1 registered, ..."
PRD = "# PRD\n\n> **Status:** Approved\n"


@contextmanager
def server_for(
    tmp_path: Path, root: Path, *, without_root_powers: bool = False
) -> Iterator[Server]:
    """A server over a migrated database in `tmp_path` (the same one at each start), with
    `root` as its projects root, once discovery has finished. Discovered projects are not
    followed: no sync of the watcher's races with what discovery reports."""
    database = tmp_path / "lens.db"
    if not database.exists():
        migrate(f"sqlite:///{database}")
    starts = len(list(tmp_path.glob("server-*.log")))
    server = start_server(
        database,
        tmp_path / f"server-{starts}.log",
        settings={"PROJECTS_ROOT": str(root), "AUTO_SYNC_DISCOVERED": "false"},
        wrapper=WITHOUT_MODE_OVERRIDE if without_root_powers else (),
    )
    try:
        eventually(lambda: SUMMARY in server.log(), "discovery's summary line")
        yield server
    finally:
        server.stop(signal.SIGKILL)


def warnings_of(server: Server) -> list[str]:
    """The warnings of the system health and of `GET /`, which must agree; health stays 200."""
    health = httpx.get(server.base_url + HEALTH_PATH, timeout=5)
    assert health.status_code == 200, health.text
    assert health.json()["ready"] is True
    service = httpx.get(server.base_url + "/", timeout=5)
    assert service.status_code == 200
    assert service.json()["warnings"] == health.json()["warnings"]
    warnings: list[str] = health.json()["warnings"]
    return warnings


def test_an_empty_root_is_a_warning_until_a_project_appears(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    root.mkdir()
    write_tree(root, {"notes/todo.md": "# Todo\n", "stray.md": "# Stray\n"})
    with server_for(tmp_path, root) as server:
        [warning] = warnings_of(server)
        log = server.log()
    assert warning.startswith(f"SDLC_LENS_PROJECTS_ROOT={root} has no sdlc-studio folder: ")
    assert f"expected {root}/<project>/sdlc-studio/" in warning
    assert f"WARNING [sdlc_lens.services.projects.discovery] {warning}" in log

    # A folder that appears later clears it, at the next discovery (the next start).
    write_tree(root, {"shop/sdlc-studio/prd.md": PRD})
    with server_for(tmp_path, root) as server:
        assert warnings_of(server) == []
        projects = httpx.get(server.base_url + "/api/v1/projects", timeout=5).json()
        assert [project["slug"] for project in projects] == ["shop"]
        assert "has no sdlc-studio folder" not in server.log()


def test_a_missing_root_is_a_warning_and_the_service_still_serves(tmp_path: Path) -> None:
    root = tmp_path / "not-mounted"
    with server_for(tmp_path, root) as server:
        [warning] = warnings_of(server)
        assert httpx.get(server.base_url + "/api/v1/projects", timeout=5).json() == []
    assert warning.startswith(f"SDLC_LENS_PROJECTS_ROOT={root} does not exist: expected ")


def test_an_unreadable_root_names_the_uid_and_the_fix(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "projects", {"shop/sdlc-studio/prd.md": PRD})
    root.chmod(0o000)
    try:
        with server_for(tmp_path, root, without_root_powers=True) as server:
            [warning] = warnings_of(server)
    finally:
        root.chmod(0o755)
    uid = os.geteuid()
    assert warning.startswith(f"SDLC_LENS_PROJECTS_ROOT={root} is not readable by uid {uid}: ")
    assert "chmod -R a+rX" in warning and f"chown -R {uid}" in warning
    assert "mount" not in warning


def test_an_unreadable_project_folder_is_named_with_the_uid_not_as_gone(tmp_path: Path) -> None:
    """A project folder the service cannot enter is neither skipped silently when found, nor
    called gone once registered: both say which uid needs what."""
    root = write_tree(
        tmp_path / "projects",
        {"shop/sdlc-studio/prd.md": PRD, "wiki/sdlc-studio/prd.md": PRD},
    )
    uid = os.geteuid()
    with server_for(tmp_path, root) as server, httpx.Client(base_url=server.base_url) as client:
        eventually(
            lambda: {p["sync_status"] for p in client.get("/api/v1/projects").json()} == {"synced"},
            "both projects synced",
        )
    (root / "shop").chmod(0o000)
    (root / "wiki").chmod(0o000)
    try:
        with server_for(tmp_path, root, without_root_powers=True) as server:
            [warning] = warnings_of(server)
            with httpx.Client(base_url=server.base_url, timeout=5) as client:
                shop = client.get("/api/v1/projects/shop").json()
            log = server.log()
    finally:
        (root / "shop").chmod(0o755)
        (root / "wiki").chmod(0o755)
    assert "has no sdlc-studio folder: " in warning
    assert f"uid {uid} cannot look into shop, wiki: " in warning
    assert f"{root / 'shop'} not registered: uid {uid} cannot look into it" in log
    assert shop["sync_status"] == "error" and shop["document_count"] == 1
    error = shop["sync_error"]
    assert error.startswith("Project sdlc-studio path is not readable by the service user")
    assert f"(uid {uid})" in error and f"chown -R {uid}" in error
    assert "is gone" not in error and "mount" not in error
