"""Image figures: size, build times, `docker run` to healthy, `docker stop`.

Everything goes through the docker CLI and the local engine. Only the image and containers
made here are removed afterwards; nothing else of the engine's is touched.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from benchmarks.results import Effort, ImageFigures, Results, Runs
from harness import BACKEND_DIR
from harness.processes import HEALTH_PATH, free_port

BASE_IMAGE = "python:3.12-slim"
APP_PORT = 8000
# What a copy of the build context leaves out; the copied .dockerignore filters the rest.
_NOT_CONTEXT = shutil.ignore_patterns(
    ".venv", "tests", "benchmarks", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


def measure_image(results: Results, effort: Effort) -> None:
    """Size, build times, run-to-healthy and stop of the image built from this tree."""
    reason = docker_unavailable_reason()
    if reason is not None:
        results.not_available["image"] = reason
        return
    tag = f"sdlc-lens-backend:bench-{uuid.uuid4().hex[:10]}"  # private: no one else's tag
    try:
        cold_build = time_cold_build(tag)
        results.image = ImageFigures(
            cold_build=Runs(samples=[cold_build]),
            one_file_rebuild=Runs(samples=[time_one_file_rebuild() for _ in range(3)]),
            size=image_size_mb(tag),
            base_size=image_size_mb(BASE_IMAGE),
            run_to_healthy=Runs(samples=[time_to_healthy(tag) for _ in range(effort.image_runs)]),
            stop=Runs(samples=[time_to_stop(tag) for _ in range(max(3, effort.image_runs // 2))]),
        )
    finally:
        remove_image(tag)


def docker_unavailable_reason() -> str | None:
    """None when the docker CLI and engine both answer, else why not."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    probe = _docker("version", "--format", "{{.Server.Version}}", check=False)
    if probe.returncode != 0:
        return f"the Docker engine does not answer: {probe.stderr.strip()}"
    return None


def build(tag: str, context: Path = BACKEND_DIR, *options: str) -> float:
    """Seconds `docker build` takes (BuildKit, as the README builds it); fails loudly."""
    started = time.perf_counter()
    result = _docker(
        "build", "--progress=plain", "-t", tag, *options, str(context), check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"docker build exited {result.returncode}:\n{result.stderr[-4000:]}")
    return seconds


def time_cold_build(tag: str) -> float:
    """`docker build --no-cache`: every step runs again; the engine's build cache is left alone.

    BuildKit's cache mounts (apt lists, uv's downloads) survive `--no-cache`, so packages are
    not fetched again: the figure is the build's own work, not the network's.
    """
    return build(tag, BACKEND_DIR, "--no-cache")


def time_one_file_rebuild() -> float:
    """Rebuild after changing one application source file (in a temporary copy of the context).

    Uses a scratch tag and removes the images it made, so no modified image stays behind.
    """
    scratch = f"sdlc-lens-backend:rebuild-{uuid.uuid4().hex[:10]}"
    images: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="lens-rebuild-") as work:
            context = Path(work) / "backend"
            shutil.copytree(BACKEND_DIR, context, ignore=_NOT_CONTEXT)
            build(scratch, context)  # warm: the same content as the repo
            images.append(_image_id(scratch))
            module = context / "src" / "sdlc_lens" / "healthcheck.py"
            module.write_text(module.read_text() + f"\n# rebuild probe {uuid.uuid4().hex}\n")
            seconds = build(scratch, context)
            images.append(_image_id(scratch))
            return seconds
    finally:
        remove_image(scratch)
        for image_id in images:
            _remove_if_untagged(image_id)  # the warm build may be the repo's own, tagged image


def image_size_mb(reference: str) -> float:
    """The image's size as `docker image ls` counts it, in MB."""
    return int(_docker("image", "inspect", "--format", "{{.Size}}", reference).stdout) / 1e6


def remove_image(reference: str) -> None:
    """Remove a tag (and its image once nothing else refers to it)."""
    _docker("image", "rm", "-f", reference, check=False)


def time_to_healthy(image: str, *, timeout: float = 60) -> float:
    """Seconds from `docker run -d` to the first 200 on the health endpoint."""
    with _detached(image) as (_name, url, started):
        while not _healthy(url):
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{image} not healthy within {timeout}s")
            time.sleep(0.01)
        return time.perf_counter() - started


def time_to_stop(image: str, *, timeout: int = 10) -> float:
    """Seconds `docker stop -t timeout` takes on a healthy container."""
    with _detached(image) as (name, url, started):
        while not _healthy(url):
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"{image} not healthy within 60s")
            time.sleep(0.02)
        stopping = time.perf_counter()
        _docker("stop", "-t", str(timeout), name)
        return time.perf_counter() - stopping


@contextlib.contextmanager
def _detached(image: str) -> Iterator[tuple[str, str, float]]:
    """`docker run -d` (a fresh anonymous volume): (name, base URL, start time); removed after."""
    port = free_port()
    name = f"lens-bench-{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    _docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:{APP_PORT}", image)
    try:
        yield name, f"http://127.0.0.1:{port}", started
    finally:
        _docker("rm", "-fv", name, check=False)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + HEALTH_PATH, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _image_id(reference: str) -> str:
    return _docker("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


def _remove_if_untagged(image_id: str) -> None:
    tags = _docker("image", "inspect", "--format", "{{len .RepoTags}}", image_id, check=False)
    if tags.returncode == 0 and tags.stdout.strip() == "0":
        _docker("image", "rm", image_id, check=False)


def _docker(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, env=env)
