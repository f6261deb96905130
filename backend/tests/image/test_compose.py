"""`docker compose` from the repository root: the one-command deployment the README starts
with, its settings, its failures, and the backup and restore steps the README gives."""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.processes import HEALTH_PATH, free_port, wait_for_sync
from tests.helpers import REPO_DIR, eventually
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

COMPOSE_FILE = REPO_DIR / "compose.yaml"
EXAMPLE_DOCUMENTS = 10  # examples/bookshelf/sdlc-studio: PRD, 2 epics, 4 stories, 2 plans, 1 bug
TOKEN = "compose-token-0123456789abcdef"
SPA = "http://spa.example:5173"
# Compose 2.25-2.26 starts every line of `docker compose logs` with an erase-line code of its
# own, even into a pipe (docker/compose#11727, fixed in later releases); not the service's.
COMPOSE_ERASE_LINE = re.compile(r"^\x1b\[2K", re.MULTILINE)


class Stack:
    """One compose project with its own name and host port; `down` removes all it made.

    `directory` is the project directory, where Compose reads `.env`: the repository root, or
    a folder of the test's own whose backend/ and examples/ link to the repository's.
    """

    def __init__(self, directory: Path = REPO_DIR) -> None:
        self.name = dh.unique_name("lens-test-compose")
        self.port = free_port()
        self.directory = directory
        self.shell: dict[str, str] = {"LENS_PORT": str(self.port)}

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        # The test's own SDLC_LENS_* variables (SDLC_LENS_TEST_CORPUS) stay out of Compose.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SDLC_LENS_")}
        return subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "--project-directory",
             str(self.directory), "-p", self.name, *args],
            env={**env, **self.shell},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )  # fmt: skip

    def up(self) -> subprocess.CompletedProcess[str]:
        """The README's command (plus a bound on the wait, so a broken test cannot hang)."""
        return self.compose("up", "--detach", "--build", "--wait", "--wait-timeout", "120")

    def logs(self) -> str:
        return self.compose("logs", "--no-log-prefix").stdout

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


def own_directory(tmp_path: Path, dotenv: str = "") -> Path:
    """A project directory with this `.env`, as a clone with a `.env` file would be."""
    directory = tmp_path / "checkout"
    directory.mkdir()
    for name in ("backend", "examples"):
        (directory / name).symlink_to(REPO_DIR / name)
    if dotenv:
        (directory / ".env").write_text(dotenv)
    return directory


@pytest.fixture
def stacks(docker_ready: None) -> Iterator[list[Stack]]:
    """Stacks a test starts (append them); each is taken down with its volumes and image."""
    started: list[Stack] = []
    yield started
    for stack in started:
        down = stack.compose("down", "--volumes", "--rmi", "local", "--timeout", "10")
        assert down.returncode == 0, down.stderr
        assert stack.leftovers() == []


def services(stack: Stack) -> list[dict[str, Any]]:
    """`docker compose ps` as JSON (one object per line in current Compose versions)."""
    listed = stack.compose("ps", "--all", "--format", "json").stdout.strip()
    if listed.startswith("["):
        return json.loads(listed)
    return [json.loads(line) for line in listed.splitlines()]


def inspect(container_id: str) -> dict[str, Any]:
    done = subprocess.run(
        ["docker", "inspect", container_id], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)[0]


def test_compose_up_serves_the_example_project(stacks: list[Stack]) -> None:
    stacks.append(stack := Stack())
    up = stack.up()
    assert up.returncode == 0, up.stdout + up.stderr
    [backend] = services(stack)
    assert (backend["Service"], backend["Health"]) == ("backend", "healthy"), backend

    url = f"http://127.0.0.1:{stack.port}"
    assert dh.api("GET", url + HEALTH_PATH).json()["ready"] is True
    with httpx.Client(base_url=url, timeout=10) as client:
        project = wait_for_sync(client, "bookshelf")  # registered by the projects root, not us
        version = client.get("/api/v1/version").json()
    assert project["sync_status"] == "synced", project
    assert project["document_count"] == EXAMPLE_DOCUMENTS
    found = dh.api("GET", url + "/api/v1/search", params={"q": "isbn", "project": "bookshelf"})
    assert found.json()["total"] >= 1

    container = inspect(backend["ID"])
    assert container["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    mounts = {mount["Destination"]: mount for mount in container["Mounts"]}
    assert mounts["/data/projects"]["RW"] is False
    assert mounts["/data/projects"]["Source"] == str(REPO_DIR / "examples")
    assert mounts["/data/db"]["Type"] == "volume"
    assert mounts["/data/db"]["Name"] == f"{stack.name}_db"
    # The image Compose built carries the version, as the one `docker build` makes does.
    labels = dh.image_attrs(container["Image"])["Config"]["Labels"]
    assert (
        labels["org.opencontainers.image.version"] == version["version"] == dh.pyproject_version()
    )

    # No terminal escape codes: the service's own output (docker logs), and Compose's view of
    # it once Compose's own line prefix is taken off. Every line is in the one log format.
    own_output = subprocess.run(
        ["docker", "logs", backend["ID"]], capture_output=True, text=True, check=True
    )
    assert "\x1b" not in own_output.stdout + own_output.stderr
    logs = COMPOSE_ERASE_LINE.sub("", stack.logs())
    assert "\x1b[" not in logs
    assert {"docker-entrypoint", "sdlc_lens.main", "uvicorn.access"} <= dh.logger_names(logs)


def test_settings_reach_the_service_from_dotenv_and_the_shell(
    stacks: list[Stack], tmp_path: Path
) -> None:
    dotenv = (
        f"SDLC_LENS_LOG_LEVEL=DEBUG\nSDLC_LENS_CORS_ORIGINS={SPA}\n"
        "SDLC_LENS_SERCH_BUDGET_SECONDS=5\n"  # misspelt: named at start
    )
    stacks.append(stack := Stack(own_directory(tmp_path, dotenv)))
    stack.shell["SDLC_LENS_API_TOKEN"] = TOKEN
    # LENS_PORT may carry an address: published on that interface only.
    stack.shell["LENS_PORT"] = f"127.0.0.1:{stack.port}"
    up = stack.up()
    assert up.returncode == 0, up.stdout + up.stderr
    url = f"http://127.0.0.1:{stack.port}"

    preflight = dh.api(
        "OPTIONS",
        url + "/api/v1/projects",
        headers={"Origin": SPA, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers.get("access-control-allow-origin") == SPA  # from .env
    body = {"name": "Again", "sdlc_path": "/data/projects/bookshelf"}
    assert dh.api("POST", url + "/api/v1/projects", json=body).status_code == 401  # from shell
    created = dh.api(
        "POST", url + "/api/v1/projects", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert created.status_code == 201, created.text

    logs = stack.logs()
    assert " DEBUG [sdlc_lens." in logs  # from .env
    assert (
        "SDLC_LENS_SERCH_BUDGET_SECONDS is not a setting and is ignored; did you mean "
        "SDLC_LENS_SEARCH_BUDGET_SECONDS?"
    ) in logs
    assert TOKEN not in logs
    # The settings nobody set keep the image's defaults: the database is on the volume.
    [backend] = services(stack)
    code = subprocess.run(
        ["docker", "exec", backend["ID"], "test", "-s", "/data/db/sdlc_lens.db"], check=False
    ).returncode
    assert code == 0
    bindings = inspect(backend["ID"])["HostConfig"]["PortBindings"]["8000/tcp"]
    assert [binding["HostIp"] for binding in bindings] == ["127.0.0.1"]


def test_an_edit_under_examples_shows_without_a_click(stacks: list[Stack], tmp_path: Path) -> None:
    """The example is followed (SDLC_LENS_AUTO_SYNC_DISCOVERED): editing a document on the
    host, under the read-only mount, is enough. A copy of examples/ is edited, not the repo's."""
    directory = tmp_path / "checkout"
    directory.mkdir()
    (directory / "backend").symlink_to(REPO_DIR / "backend")
    shutil.copytree(REPO_DIR / "examples", directory / "examples")
    stacks.append(stack := Stack(directory))
    up = stack.up()
    assert up.returncode == 0, up.stdout + up.stderr
    url = f"http://127.0.0.1:{stack.port}"
    story = directory / "examples/bookshelf/sdlc-studio/stories/US0004-reading-streaks.md"
    with httpx.Client(base_url=url, timeout=10) as client:
        project = wait_for_sync(client, "bookshelf")
        assert (project["auto_sync"], project["auto_sync_mode"]) == (True, "watch")
        document = "/api/v1/projects/bookshelf/documents/story/US0004-reading-streaks"
        assert client.get(document).json()["status"] == "Draft"
        story.write_text(story.read_text().replace("**Status:** Draft", "**Status:** Done"))
        eventually(lambda: client.get(document).json()["status"] == "Done", "the edit")


def test_up_wait_fails_when_the_service_never_becomes_healthy(stacks: list[Stack]) -> None:
    """A bad setting: the container exits 2 and restarts, and `up --wait` says so and fails
    instead of printing `Started`; the logs name the setting."""
    stacks.append(stack := Stack())
    stack.shell["SDLC_LENS_CORS_ORIGINS"] = "localhost:5173"
    up = stack.up()
    assert up.returncode != 0, up.stdout + up.stderr
    assert "unhealthy" in up.stderr or "exited" in up.stderr, up.stderr
    assert (
        "invalid setting SDLC_LENS_CORS_ORIGINS=localhost:5173: each origin must be "
        "scheme://host[:port]"
    ) in stack.logs()


RESTORE = (
    "rm -f /data/db/sdlc_lens.db-wal /data/db/sdlc_lens.db-shm"
    " && cp /restore.db /data/db/sdlc_lens.db"
)


def test_backup_during_a_sync_and_restore_into_a_fresh_volume(
    stacks: list[Stack], tmp_path: Path
) -> None:
    """The README's backup and restore commands, word for word."""
    stacks.append(stack := Stack())
    assert stack.up().returncode == 0
    url = f"http://127.0.0.1:{stack.port}"
    with httpx.Client(base_url=url, timeout=10) as client:
        wait_for_sync(client, "bookshelf")
        # A project that exists only in the database: a fresh volume would not have it.
        body = {"name": "Archive", "sdlc_path": "/data/projects/bookshelf"}
        assert client.post("/api/v1/projects", json=body).status_code == 201
        assert client.post("/api/v1/projects/archive/sync").status_code == 202
        wait_for_sync(client, "archive")
        expected = client.get("/api/v1/projects/archive/documents").json()["items"]
        assert len(expected) == EXAMPLE_DOCUMENTS

        assert client.post("/api/v1/projects/bookshelf/sync").status_code == 202  # meanwhile
        backup = stack.compose(
            "exec", "-T", "backend", "python", "-m", "sdlc_lens.backup", "/data/db/backup-test.db"
        )
        assert backup.returncode == 0, backup.stderr
        assert backup.stdout.startswith("backup written: /data/db/backup-test.db ("), backup.stdout
    copied = stack.compose("cp", "backend:/data/db/backup-test.db", str(tmp_path / "backup.db"))
    assert copied.returncode == 0, copied.stderr

    # A fresh volume: the archive project is gone.
    assert stack.compose("down", "--volumes", "--timeout", "10").returncode == 0
    assert stack.up().returncode == 0
    assert dh.api("GET", url + "/api/v1/projects/archive").status_code == 404

    # Restore: stop, copy the file into the volume (stale -wal/-shm removed), start.
    assert stack.compose("stop", "backend").returncode == 0
    restored = stack.compose(
        "run", "--rm", "--no-deps", "-v", f"{tmp_path / 'backup.db'}:/restore.db:ro",
        "backend", "sh", "-c", RESTORE,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert stack.up().returncode == 0
    with httpx.Client(base_url=url, timeout=10) as client:
        project = wait_for_sync(client, "archive")
        assert project["document_count"] == EXAMPLE_DOCUMENTS
        assert client.get("/api/v1/projects/archive/documents").json()["items"] == expected
