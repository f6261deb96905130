"""The image syncs a project from a git server (SPEC-3 §18): git's own http-backend runs on
this machine (harness/git_server.py) and the container reaches it over the host's network
(127.0.0.1), as a container reaches a LAN server. No git binary is in the image: the fetch is
dulwich's, as the service runs it."""

from pathlib import Path

import httpx
import pytest

from harness.git_server import GitServer
from harness.processes import free_port, wait_for_sync
from sdlc_lens.healthcheck import HEALTH_PATH
from tests.git_repositories import documents, new_repository
from tests.helpers import markdown
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

TOKEN = "glpat-Image0123456789token"


def test_the_container_syncs_a_repository_from_a_git_server(
    image: str, lab: dh.Lab, tmp_path: Path
) -> None:
    root = tmp_path / "served"
    root.mkdir()
    with GitServer(root, credentials=("oauth2", TOKEN)) as server:
        repo = new_repository(server, "team/handbook", documents(5))
        port = free_port()
        container = lab.container(
            image,
            ports=(),
            network_mode="host",
            env={"SDLC_LENS_PORT": str(port), "SDLC_LENS_GIT_USERNAME": "oauth2"},
        )
        url = f"http://127.0.0.1:{port}"
        assert dh.wait_until(lambda: healthy(url), 30), dh.logs(container)
        body = {
            "name": "Handbook",
            "source_type": "git",
            "repo_url": repo.url,
            "access_token": TOKEN,
        }
        created = dh.api("POST", f"{url}/api/v1/projects", json=body)
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.post(f"/api/v1/projects/{slug}/sync").status_code == 202
            project = wait_for_sync(client, slug)
            assert (project["sync_status"], project["sync_error"]) == ("synced", None)
            assert project["document_count"] == 2 + 5
            repo.write({"sdlc-studio/stories/US0100-new.md": markdown("US0100: New")})
            repo.commit()
            server.traffic.reset()
            assert client.post(f"/api/v1/projects/{slug}/sync").status_code == 202
            project = wait_for_sync(client, slug)
        assert project["document_count"] == 2 + 6
        assert server.traffic.bytes_sent < 5_000  # incremental: the store is on the volume
        assert TOKEN not in dh.logs(container)
        # The object store of project 1, next to the database.
        assert dh.exec_in(container, ["ls", "/data/db/repositories"]) == (0, "1\n")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + HEALTH_PATH, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
