"""The running container: start-up order, settings, users, volumes, failures, shutdown."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from testcontainers.core.container import DockerContainer

from harness.processes import HEALTH_PATH, wait_for_sync
from tests.image import docker_helpers as dh
from tests.image.conftest import MEASURED

pytestmark = pytest.mark.image

MIGRATION_FAILED = "database migration failed"


def start_all(lab: dh.Lab, image: str, specs: list[dict[str, Any]]) -> list[DockerContainer]:
    """Start several containers at once (each spec: keyword arguments of Lab.container)."""
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        return list(pool.map(lambda spec: lab.container(image, **spec), specs))


def in_order(text: str, *markers: str) -> bool:
    positions = [text.find(marker) for marker in markers]
    return -1 not in positions and positions == sorted(positions)


CONNECT = (
    "import socket, sys; sys.exit(socket.socket().connect_ex(('127.0.0.1', int(sys.argv[1]))))"
)


def connect_exit_code(container: DockerContainer, port: int) -> int:
    """0 when something inside the container accepts TCP connections on 127.0.0.1:port."""
    code, _ = dh.exec_in(container, ["python", "-c", CONNECT, str(port)])
    return code


def test_fresh_container_migrates_before_uvicorn_starts(image: str, lab: dh.Lab) -> None:
    container = lab.container(image)
    url = dh.wait_healthy(container)

    health = dh.api("GET", url + HEALTH_PATH)
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "healthy" and body["ready"] is True, body
    assert body["version"] == dh.pyproject_version()

    output = dh.logs(container)
    assert in_order(
        output,
        "applying database migrations",
        "Running upgrade  -> ",
        "database migrations complete",
        "Started server process",
        "Application startup complete",
    ), output
    code, current = dh.exec_in(container, ["alembic", "current"])
    assert code == 0 and "(head)" in current, current
    code, listing = dh.exec_in(container, ["stat", "-c", "%U %n", "/data/db/sdlc_lens.db"])
    assert code == 0 and listing.split()[0] == "lens", listing


def test_settings_from_the_environment_take_effect(image: str, lab: dh.Lab) -> None:
    moved, loopback, database, quiet = start_all(
        lab,
        image,
        [
            {"env": {"SDLC_LENS_PORT": "9000"}, "ports": (8000, 9000)},
            {"env": {"SDLC_LENS_HOST": "127.0.0.1"}},
            {"env": {"SDLC_LENS_DATABASE_URL": "sqlite+aiosqlite:////data/db/custom/lens.db"}},
            {"env": {"SDLC_LENS_LOG_LEVEL": "Warning"}},
        ],
    )

    # SDLC_LENS_PORT=9000: served on 9000, nothing listens on 8000.
    dh.wait_healthy(moved, port=9000)
    assert connect_exit_code(moved, 8000) != 0
    assert connect_exit_code(moved, 9000) == 0
    assert "Uvicorn running on http://0.0.0.0:9000" in dh.logs(moved)

    # SDLC_LENS_HOST=127.0.0.1: reachable inside the container only.
    assert dh.wait_for_log(loopback, "Uvicorn running on http://127.0.0.1:8000"), dh.logs(loopback)
    code, probe = dh.exec_in(loopback, ["python", "-m", "sdlc_lens.healthcheck"])
    assert code == 0, probe
    assert dh._health_status(dh.base_url(loopback)) is None

    # SDLC_LENS_DATABASE_URL (the aiosqlite spelling existing deployments use) moves the file,
    # for Alembic and the app alike.
    dh.wait_healthy(database)
    code, files = dh.exec_in(database, ["sh", "-c", "ls /data/db /data/db/custom"])
    assert code == 0, files
    assert "lens.db" in files and "sdlc_lens.db" not in files, files

    # SDLC_LENS_LOG_LEVEL=Warning: uvicorn and the app stop logging at INFO (any case accepted).
    url = dh.wait_healthy(quiet)
    dh.api("GET", url + HEALTH_PATH)
    output = dh.logs(quiet)
    for info_line in ("Application startup complete", "SDLC Lens", "GET /api/v1/system/health"):
        assert info_line not in output, output


def test_docker_run_arguments(image: str, lab: dh.Lab) -> None:
    # Options go to uvicorn, after the migrations.
    options = lab.container(image, command=["--no-access-log", "--timeout-keep-alive", "2"])
    url = dh.wait_healthy(options)
    assert dh.api("GET", url + HEALTH_PATH).status_code == 200
    output = dh.logs(options)
    assert "Running upgrade" in output
    assert "GET /api/v1/system/health" not in output, output

    # Anything else replaces the server, without migrating.
    code, output = lab.run(image, ["sh", "-c", "echo as $(id -un) in $(pwd)"])
    assert code == 0 and "as lens in /app" in output, output
    assert "applying database migrations" not in output
    code, output = lab.run(image, ["alembic", "heads"])
    assert code == 0 and "(head)" in output, output


def test_runs_as_non_root_and_cannot_change_the_application(image: str, lab: dh.Lab) -> None:
    container = lab.container(image)
    dh.wait_healthy(container)
    code, uid = dh.exec_in(
        container, ["sh", "-c", "id -u; awk '/^Uid:/ {print $2}' /proc/1/status"]
    )
    assert code == 0, uid
    exec_uid, server_uid = uid.split()
    assert exec_uid == server_uid != "0", uid

    # Nothing under /app is writable (test_image_hardening.py); the libraries are not either.
    code, output = dh.exec_in(container, ["touch", "/usr/local/lib/python3.12/intruder"])
    assert code != 0, "the standard library is writable by the service user"
    code, output = dh.exec_in(container, ["touch", "/data/db/writable"])
    assert code == 0, output


def test_data_persists_on_a_named_volume_and_is_ephemeral_without(image: str, lab: dh.Lab) -> None:
    volume = lab.volume()
    on_volume = {"volumes": {volume: ("/data/db", "rw")}}
    first, ephemeral = start_all(lab, image, [on_volume, {}])
    for container in (first, ephemeral):
        url = dh.wait_healthy(container)
        created = dh.api(
            "POST", url + "/api/v1/projects", json={"name": "Kept", "sdlc_path": "/data/projects"}
        )
        assert created.status_code == 201, created.text
    dh.stop(first)

    second, fresh = start_all(lab, image, [on_volume, {}])
    url = dh.wait_healthy(second)
    assert [p["slug"] for p in dh.api("GET", url + "/api/v1/projects").json()] == ["kept"]
    assert "Running upgrade" not in dh.logs(second)  # already at head: nothing to migrate

    url = dh.wait_healthy(fresh)
    assert dh.api("GET", url + "/api/v1/projects").json() == []


def test_migration_failure_stops_the_container(image: str, lab: dh.Lab) -> None:
    volume = lab.volume()
    volumes = {volume: ("/data/db", "rw")}
    code, output = lab.run(
        image,
        ["python", "-c", "open('/data/db/sdlc_lens.db', 'wb').write(b'not sqlite ' * 500)"],
        volumes=volumes,
    )
    assert code == 0, output

    container = lab.container(image, volumes=volumes)
    code = dh.wait_exited(container, timeout=30)
    output = dh.logs(container)
    assert code != 0, output
    assert "file is not a database" in output, output
    failure = next(line for line in output.splitlines() if MIGRATION_FAILED in line)
    assert "sqlite:////data/db/sdlc_lens.db" in failure, failure
    assert "Started server process" not in output


def test_port_in_use_inside_the_container_exits_with_an_error(image: str, lab: dh.Lab) -> None:
    holder = lab.container(image)
    dh.wait_healthy(holder)
    # A second server in the same network namespace finds port 8000 taken.
    clash = lab.container(
        image, ports=(), network_mode=f"container:{holder.get_wrapped_container().id}"
    )
    code = dh.wait_exited(clash, timeout=30)
    output = dh.logs(clash)
    assert code != 0, output
    assert "address already in use" in output, output
    assert "8000" in next(line for line in output.splitlines() if "already in use" in line)
    dh.wait_healthy(holder, timeout=5)  # the first one is unaffected


def test_sigterm_shuts_down_gracefully(image: str, lab: dh.Lab) -> None:
    container = lab.container(image)
    dh.wait_healthy(container)
    # exec'd: PID 1 is uvicorn itself, not a shell that would swallow the signal.
    code, cmdline = dh.exec_in(container, ["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"])
    assert code == 0 and "uvicorn" in cmdline and "bash" not in cmdline, cmdline

    timeout = 10
    seconds, exit_code = dh.stop(container, timeout=timeout)
    MEASURED["docker stop (test run)"] = f"{seconds:.2f} s"
    output = dh.logs(container)
    assert exit_code in (0, 143), f"exit {exit_code}:\n{output}"
    assert seconds < timeout, f"SIGTERM ignored: stopped only by SIGKILL after {seconds:.1f}s"
    assert in_order(
        output,
        "Shutting down",
        "shutting down: stopping background syncs",
        "Application shutdown complete",
        "Finished server process",
    ), output


def test_read_only_root_without_capabilities(image: str, lab: dh.Lab, sample_tree: Path) -> None:
    container = lab.container(
        image,
        volumes={
            lab.volume(): ("/data/db", "rw"),
            str(sample_tree): ("/data/projects/recipe-box", "ro"),
        },
        tmpfs=["/tmp"],
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"],
    )
    url = dh.wait_healthy(container)
    host_config = container.get_wrapped_container().attrs["HostConfig"]
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["CapDrop"] == ["ALL"]

    created = dh.api(
        "POST",
        url + "/api/v1/projects",
        json={"name": "Recipe Box", "sdlc_path": "/data/projects/recipe-box"},
    )
    assert created.status_code == 201, created.text
    assert dh.api("POST", url + "/api/v1/projects/recipe-box/sync").status_code == 202
    with httpx.Client(base_url=url, timeout=10) as client:
        project = wait_for_sync(client, "recipe-box")
    assert project["sync_status"] == "synced", project
    assert project["document_count"] == dh.SAMPLE_DOCUMENTS
    code, output = dh.exec_in(container, ["touch", "/intruder"])
    assert code != 0 and "Read-only file system" in output, output


def test_image_healthcheck_turns_healthy(image: str, lab: dh.Lab) -> None:
    default, moved = start_all(
        lab, image, [{}, {"env": {"SDLC_LENS_PORT": "9000"}, "ports": (9000,)}]
    )

    def health(container: DockerContainer) -> dict[str, Any]:
        return dh.state(container).get("Health") or {}

    # The first probe runs one --interval (10 s) after the start.
    for container in (default, moved):
        healthy = dh.wait_until(lambda c=container: health(c).get("Status") == "healthy", 40, 0.5)
        assert healthy, f"{health(container)}\n{dh.logs(container)}"
    assert "127.0.0.1:9000" in health(moved)["Log"][-1]["Output"]

    # The probe fails when nothing answers on the configured port.
    code, output = dh.exec_in(
        moved, ["python", "-m", "sdlc_lens.healthcheck"], env={"SDLC_LENS_PORT": "8000"}
    )
    assert code == 1 and "unhealthy" in output, output


def test_projects_must_lie_under_data_projects_unless_widened(image: str, lab: dh.Lab) -> None:
    # Without a base, `{"sdlc_path": "/"}` indexed every readable .md of the container
    # (101k documents in 124 s). The image allows /data/projects, where folders are mounted.
    default, widened = start_all(
        lab, image, [{}, {"env": {"SDLC_LENS_ALLOWED_PROJECT_BASE": "/usr"}}]
    )
    url = dh.wait_healthy(default)
    refused = dh.api("POST", url + "/api/v1/projects", json={"name": "All", "sdlc_path": "/"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "PATH_OUTSIDE_BASE"
    assert "/data/projects" in refused.json()["error"]["message"]
    inside = dh.api(
        "POST", url + "/api/v1/projects", json={"name": "P", "sdlc_path": "/data/projects"}
    )
    assert inside.status_code == 201, inside.text

    url = dh.wait_healthy(widened)
    body = {"name": "Lib", "sdlc_path": "/usr/local/lib"}
    assert dh.api("POST", url + "/api/v1/projects", json=body).status_code == 201
