"""`docker compose up -d` from the repository root: the one-command deployment the README
starts with. The example project must be browsable right after it, without any curl."""

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.processes import wait_for_sync
from tests.helpers import REPO_DIR
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

COMPOSE_FILE = REPO_DIR / "compose.yaml"
EXAMPLE_DOCUMENTS = 10  # examples/bookshelf/sdlc-studio: PRD, 2 epics, 4 stories, 2 plans, 1 bug


class Stack:
    """One compose project with its own name and host port; `down` removes all it made."""

    def __init__(self) -> None:
        self.name = dh.unique_name("lens-test-compose")
        self.port = dh.free_port()

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "-p", self.name, *args],
            env={**os.environ, "LENS_PORT": str(self.port)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def leftovers(self) -> list[str]:
        """Containers and volumes of this compose project, and the image it built."""
        label = f"label=com.docker.compose.project={self.name}"
        found = []
        for listing in (
            ["ps", "--all", "--quiet", "--filter", label],
            ["volume", "ls", "--quiet", "--filter", label],
            ["image", "ls", "--quiet", f"{self.name}-backend"],  # built images carry no label
        ):
            listed = subprocess.run(["docker", *listing], capture_output=True, text=True)
            found += listed.stdout.split()
        return found


@pytest.fixture
def stack(docker_ready: None) -> Iterator[Stack]:
    stack = Stack()
    try:
        yield stack
    finally:
        down = stack.compose("down", "--volumes", "--rmi", "local", "--timeout", "10")
        assert down.returncode == 0, down.stderr
        assert stack.leftovers() == []


def services(stack: Stack) -> list[dict[str, Any]]:
    """`docker compose ps` as JSON (one object per line in current Compose versions)."""
    listed = stack.compose("ps", "--all", "--format", "json").stdout.strip()
    if listed.startswith("["):
        return json.loads(listed)
    return [json.loads(line) for line in listed.splitlines()]


def test_compose_up_serves_the_example_project(stack: Stack) -> None:
    # --wait returns once the healthcheck reports healthy (or fails).
    up = stack.compose("up", "--detach", "--build", "--wait", "--wait-timeout", "120")
    assert up.returncode == 0, up.stdout + up.stderr
    [backend] = services(stack)
    assert (backend["Service"], backend["Health"]) == ("backend", "healthy"), backend

    url = f"http://127.0.0.1:{stack.port}"
    assert dh.api("GET", url + dh.HEALTH_PATH).json()["ready"] is True
    with httpx.Client(base_url=url, timeout=10) as client:
        project = wait_for_sync(client, "bookshelf")  # registered by the projects root, not us
    assert project["sync_status"] == "synced", project
    assert project["document_count"] == EXAMPLE_DOCUMENTS
    found = dh.api("GET", url + "/api/v1/search", params={"q": "isbn", "project": "bookshelf"})
    assert found.json()["total"] >= 1

    inspect = subprocess.run(
        ["docker", "inspect", backend["ID"]], capture_output=True, text=True, check=True
    )
    [container] = json.loads(inspect.stdout)
    assert container["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    mounts = {mount["Destination"]: mount for mount in container["Mounts"]}
    assert mounts["/data/projects"]["RW"] is False
    assert mounts["/data/projects"]["Source"] == str(REPO_DIR / "examples")
    assert mounts["/data/db"]["Type"] == "volume"
    assert mounts["/data/db"]["Name"] == f"{stack.name}_db"
