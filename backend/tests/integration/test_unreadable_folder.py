"""A project folder the service's user may not read is reported as such (issue 11 item 4).

The tests run as root, which file modes cannot stop; the server here runs as root without
the capabilities that override file modes (`setpriv`), so the modes apply to it exactly as
they apply to the image's uid 10001.
"""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.processes import WITHOUT_MODE_OVERRIDE, Server, start_server
from tests.helpers import migrate, register, sync, write_tree


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    running = start_server(database, tmp_path / "server.log", wrapper=WITHOUT_MODE_OVERRIDE)
    yield running
    running.stop(signal.SIGKILL)


@pytest.mark.parametrize(
    ("locked", "mode"),
    [
        ("project", 0o000),  # nothing allowed
        ("project", 0o300),  # cannot list it
        ("project", 0o400),  # can list it, cannot open what it holds
        ("parent", 0o000),  # cannot even reach it
    ],
    ids=["project-000", "project-300", "project-400", "parent-000"],
)
def test_unreadable_folder_names_the_uid_and_keeps_the_documents(
    server: Server, tmp_path: Path, locked: str, mode: int
) -> None:
    project = write_tree(
        tmp_path / "parent" / "project",
        {"prd.md": "# PRD\n", "stories/US0001-one.md": "# US0001: One\n"},
    )
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        register(client, "Demo", project)
        synced = sync(client, "demo")
        assert synced["sync_status"] == "synced", synced
        folder = project if locked == "project" else project.parent
        folder.chmod(mode)
        try:
            result = sync(client, "demo")
        finally:
            folder.chmod(0o755)
    assert result["sync_status"] == "error"
    assert result["sync_error"] == f"folder not readable by uid {os.geteuid()}"
    assert result["document_count"] == 2
    assert result["last_synced_at"] == synced["last_synced_at"]


def test_files_that_cannot_be_opened_keep_their_documents(server: Server, tmp_path: Path) -> None:
    # `stories` can be listed but not searched: its files are seen and cannot be stat'ed.
    project = write_tree(
        tmp_path / "project",
        {"prd.md": "# PRD\n", "stories/US0001-one.md": "# One\n", "stories/US0002-two.md": "# 2\n"},
    )
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        register(client, "Demo", project)
        assert sync(client, "demo")["document_count"] == 3
        (project / "stories").chmod(0o600)
        try:
            result = sync(client, "demo")
        finally:
            (project / "stories").chmod(0o755)
        documents = client.get("/api/v1/projects/demo/documents").json()
    assert result["sync_status"] == "error"
    assert result["sync_error"].startswith("2 file(s) could not be synced")
    assert result["document_count"] == 3, documents
    log = server.wait_for_log("stories/US0002-two.md")
    assert "skipped 'stories/US0001-one.md': it cannot be read (Permission denied)" in log
