"""Folder watching in the container (issue 17): an edit made on the host, in a folder the
container sees through a read-only bind mount, shows through the API without a click."""

from pathlib import Path

import httpx
import pytest

from harness.processes import wait_for_sync
from tests.helpers import eventually, write_tree
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

STORY = "# US0001: Log in\n\n> **Status:** {}\n\nBody.\n"


def test_a_host_edit_under_a_read_only_mount_shows_without_a_click(
    image: str, lab: dh.Lab, tmp_path: Path
) -> None:
    folder = write_tree(tmp_path / "acme", {"stories/US0001-log-in.md": STORY.format("Draft")})
    container = lab.container(image, volumes={str(folder): ("/data/projects/acme", "ro")})
    url = dh.wait_healthy(container)
    with httpx.Client(base_url=url, timeout=10) as client:
        body = {"name": "Acme", "sdlc_path": "/data/projects/acme"}
        assert client.post("/api/v1/projects", json=body).status_code == 201
        followed = client.put("/api/v1/projects/acme", json={"auto_sync": True}).json()
        assert followed["auto_sync_mode"] == "watch"
        assert wait_for_sync(client, "acme")["document_count"] == 1  # no click

        def status() -> str:
            return str(client.get("/api/v1/projects/acme/documents").json()["items"][0]["status"])

        assert status() == "Draft"
        (folder / "stories" / "US0001-log-in.md").write_text(STORY.format("Done"))
        eventually(lambda: status() == "Done", "the host's edit")
        write_tree(folder, {"stories/US0002-log-out.md": STORY.format("Draft")})
        eventually(
            lambda: client.get("/api/v1/projects/acme").json()["document_count"] == 2, "an addition"
        )
    assert "project acme: watching /data/projects/acme for changes" in dh.logs(container)
