"""Build, run and probe the backend image for the image tests.

Everything here talks to the local Docker engine: images are built with the `docker build` CLI
(BuildKit; docker-py cannot use it) and containers are run with testcontainers. The image's
timings are the benchmarks' business (benchmarks/image.py).
"""

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import httpx
from docker.errors import DockerException, NotFound
from testcontainers.core.container import DockerContainer

from harness.processes import HEALTH_PATH
from tests.fixtures import fixture_trees, write_fixture_tree

BACKEND_DIR = Path(__file__).resolve().parents[2]
# The project the image tests mount: a generated tree (tests/fixtures.py), readable by the
# image's user, with this many documents (every .md but the `_index.md` registries).
SAMPLE_TREE = "recipe-box"
SAMPLE_DOCUMENTS = len(fixture_trees()[SAMPLE_TREE].types)
BASE_IMAGE = "python:3.12-slim"
APP_PORT = 8000
# Files the Dockerfile reads from the build context (a temporary copy needs no more).
CONTEXT_FILES = (
    "Dockerfile",
    ".dockerignore",
    "pyproject.toml",
    "uv.lock",
    "alembic.ini",
    "docker-entrypoint.sh",
)
CONTEXT_DIRS = ("src", "migrations")


# The one format of every line the service prints: entrypoint, Alembic, the app and Uvicorn.
LOG_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \[([\w.-]+)\] \S"
)


def logger_names(output: str) -> set[str]:
    """The logger names of `output`'s lines; fails on any line that is not in the log format."""
    names = set()
    for line in output.splitlines():
        match = LOG_LINE.match(line)
        assert match, f"not in the log format: {line!r}\n{output}"
        names.add(match.group(1))
    return names


class BuildError(RuntimeError):
    """`docker build` failed; the message carries its output."""

    def __init__(self, returncode: int, output: str) -> None:
        super().__init__(f"docker build exited {returncode}:\n{output[-6000:]}")
        self.returncode = returncode
        self.output = output


@dataclass
class BuildResult:
    tag: str
    seconds: float
    output: str


def write_sample_tree(root: Path) -> Path:
    """The sample project below `root`, every file readable by the image's user."""
    return write_fixture_tree(root, SAMPLE_TREE)


def pyproject_version(backend_dir: Path = BACKEND_DIR) -> str:
    """The package version declared in pyproject.toml."""
    with (backend_dir / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def docker_unavailable_reason() -> str | None:
    """None when the docker CLI and engine both answer, else why not."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        client = docker.from_env()
        try:
            client.ping()
        finally:
            client.close()
    except DockerException as exc:
        return f"the Docker engine does not answer: {exc}"
    return None


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def build_image(
    tag: str,
    context: Path = BACKEND_DIR,
    *,
    build_args: dict[str, str] | None = None,
    extra_args: Iterable[str] = (),
    dockerfile: Path | None = None,
    timeout: float = 600,
) -> BuildResult:
    """`DOCKER_BUILDKIT=1 docker build` with plain progress; raises BuildError on failure."""
    args = ["docker", "build", "--progress=plain", "-t", tag]
    if dockerfile is not None:
        args += ["-f", str(dockerfile)]
    for name, value in (build_args or {}).items():
        args += ["--build-arg", f"{name}={value}"]
    args += [*extra_args, str(context)]
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    started = time.perf_counter()
    proc = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.perf_counter() - started
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise BuildError(proc.returncode, output)
    return BuildResult(tag=tag, seconds=seconds, output=output)


def build_context_listing(context: Path, *, timeout: float = 300) -> list[str]:
    """The files `docker build` would send from `context` (its .dockerignore applied).

    Builds `FROM scratch / COPY . /` with the local exporter into a temporary folder, so no
    image is created; returns POSIX paths relative to the context, sorted.
    """
    with _temporary_dir("lens-ctx-") as work:
        probe = work / "Dockerfile.context-probe"
        probe.write_text("FROM scratch\nCOPY . /\n")
        out = work / "out"
        args = [
            "docker", "build", "--progress=plain", "-f", str(probe),
            "--output", f"type=local,dest={out}", str(context),
        ]  # fmt: skip
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        proc = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise BuildError(proc.returncode, proc.stdout + proc.stderr)
        return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.is_dir())


def copy_build_context(dest: Path, source: Path = BACKEND_DIR) -> Path:
    """Copy what the Dockerfile reads, to build a modified variant without touching the repo."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in CONTEXT_FILES:
        shutil.copy2(source / name, dest / name)
    for name in CONTEXT_DIRS:
        shutil.copytree(source / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def image_size_bytes(tag: str) -> int:
    client = docker.from_env()
    try:
        return int(client.images.get(tag).attrs["Size"])
    finally:
        client.close()


def image_attrs(tag: str) -> dict[str, Any]:
    client = docker.from_env()
    try:
        return client.images.get(tag).attrs
    finally:
        client.close()


def remove_image(reference: str) -> None:
    """Remove a tag (and its image once nothing else refers to it)."""
    subprocess.run(["docker", "image", "rm", "-f", reference], capture_output=True, check=False)


# ------------------------------------------------------------------------------------------
# Containers
# ------------------------------------------------------------------------------------------


@dataclass
class Lab:
    """Tracks every container and named volume a test creates, and removes them all."""

    created: list[DockerContainer] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def container(
        self,
        image: str,
        *,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        ports: Iterable[int] = (APP_PORT,),
        volumes: dict[str, tuple[str, str]] | None = None,
        tmpfs: Iterable[str] = (),
        start: bool = True,
        **docker_kwargs: Any,
    ) -> DockerContainer:
        """Create (and start) a container; `ports` are published on 127.0.0.1, random host ports.

        `volumes` maps a host path or volume name to (container path, "rw"|"ro"); any other
        docker-py `containers.create` option (read_only, cap_drop, network_mode, ...) passes
        through.
        """
        container = DockerContainer(image, command=command, env=dict(env or {}))
        container.with_name(unique_name("lens-test"))
        for port in ports:
            # docker-py: a 1-tuple (ip,) publishes on that interface with a random host port.
            container.ports[f"{port}/tcp"] = ("127.0.0.1",)  # type: ignore[assignment]
        for source, (target, mode) in (volumes or {}).items():
            container.with_volume_mapping(source, target, mode)
        for path in tmpfs:
            container.with_tmpfs_mount(path)
        if docker_kwargs:
            container.with_kwargs(**docker_kwargs)
        self.created.append(container)
        if start:
            container.start()
        return container

    def run(
        self, image: str, command: list[str], *, timeout: float = 60, **kwargs: Any
    ) -> tuple[int, str]:
        """Run a command container to completion: (exit code, logs)."""
        container = self.container(image, command=command, ports=(), **kwargs)
        code = wait_exited(container, timeout=timeout)
        return code, logs(container)

    def volume(self) -> str:
        """A new named volume, removed with the lab."""
        name = unique_name("lens-test-vol")
        client = docker.from_env()
        try:
            client.volumes.create(name)
        finally:
            client.close()
        self.volumes.append(name)
        return name

    def close(self) -> None:
        """Remove every container (with its anonymous volumes), then every named volume."""
        errors: list[str] = []
        for container in reversed(self.created):
            wrapped = container._container
            if wrapped is None:
                continue
            try:
                wrapped.remove(force=True, v=True)
            except NotFound:
                pass
            except DockerException as exc:  # keep going: the rest must still be removed
                errors.append(f"container {wrapped.name}: {exc}")
        self.created.clear()
        client = docker.from_env()
        try:
            for name in self.volumes:
                try:
                    client.volumes.get(name).remove(force=True)
                except NotFound:
                    pass
                except DockerException as exc:
                    errors.append(f"volume {name}: {exc}")
        finally:
            client.close()
        self.volumes.clear()
        if errors:
            raise RuntimeError("cleanup failed: " + "; ".join(errors))


@contextlib.contextmanager
def lab() -> Iterator[Lab]:
    """`with lab() as l:` ... every container and volume is gone afterwards, even on failure."""
    tracker = Lab()
    try:
        yield tracker
    finally:
        tracker.close()


def host_port(container: DockerContainer, port: int = APP_PORT) -> int:
    """The 127.0.0.1 port that `port` of the container is published on."""
    wrapped = container.get_wrapped_container()
    wrapped.reload()
    bindings = wrapped.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
    for binding in bindings:
        if binding.get("HostIp") in ("127.0.0.1", "0.0.0.0", ""):
            return int(binding["HostPort"])
    raise AssertionError(f"port {port} is not published: {bindings}")


def base_url(container: DockerContainer, port: int = APP_PORT) -> str:
    return f"http://127.0.0.1:{host_port(container, port)}"


def logs(container: DockerContainer) -> str:
    """stdout and stderr, interleaved in arrival order (as `docker logs` shows them)."""
    return container.get_wrapped_container().logs(stdout=True, stderr=True).decode(errors="replace")


def stderr_of(container: DockerContainer) -> str:
    """What the container wrote to stderr alone."""
    return (
        container.get_wrapped_container().logs(stdout=False, stderr=True).decode(errors="replace")
    )


def state(container: DockerContainer) -> dict[str, Any]:
    wrapped = container.get_wrapped_container()
    wrapped.reload()
    return wrapped.attrs["State"]


def exec_in(
    container: DockerContainer,
    command: list[str],
    *,
    user: str = "",
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Run a command in the running container; (exit code, combined output)."""
    result = container.get_wrapped_container().exec_run(command, user=user, environment=env)
    return int(result.exit_code), result.output.decode(errors="replace")


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _health_status(url: str) -> int | None:
    try:
        return httpx.get(url + HEALTH_PATH, timeout=2.0).status_code
    except httpx.HTTPError:
        return None


def wait_healthy(container: DockerContainer, *, port: int = APP_PORT, timeout: float = 30) -> str:
    """Poll health until it answers 200; returns the base URL. Fails with the logs if not."""
    url = base_url(container, port)

    def ready() -> bool:
        if _health_status(url) == 200:
            return True
        if state(container)["Status"] == "exited":
            raise AssertionError(f"container exited while starting:\n{logs(container)}")
        return False

    if not wait_until(ready, timeout, interval=0.02):
        raise AssertionError(f"no 200 from {url}{HEALTH_PATH} in {timeout}s:\n{logs(container)}")
    return url


def wait_exited(container: DockerContainer, timeout: float = 30) -> int:
    """Wait for the container to stop by itself; returns its exit code."""
    result = container.get_wrapped_container().wait(timeout=timeout)
    return int(result["StatusCode"])


def wait_for_log(container: DockerContainer, text: str, timeout: float = 15) -> bool:
    return wait_until(lambda: text in logs(container), timeout, interval=0.05)


def stop(container: DockerContainer, timeout: int = 10) -> tuple[float, int]:
    """`docker stop -t timeout`: SIGTERM, SIGKILL after `timeout`. (seconds taken, exit code)."""
    wrapped = container.get_wrapped_container()
    started = time.perf_counter()
    wrapped.stop(timeout=timeout)
    seconds = time.perf_counter() - started
    return seconds, wait_exited(container, timeout=timeout + 5)


def api(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, timeout=kwargs.pop("timeout", 10.0), **kwargs)


@contextlib.contextmanager
def _temporary_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)
