"""Image tests: the backend image is built once per session; every container is removed after.

Without a Docker engine these tests skip, except when the CI environment variable is set:
then they fail, so a CI machine without Docker cannot pass silently.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.image import docker_helpers as dh

# No Ryuk reaper container (it would need a registry pull); the `lab` fixture cleans up.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

# Figures measured during the session, printed in the terminal summary.
MEASURED: dict[str, str] = {}


@pytest.fixture(scope="session")
def docker_ready() -> None:
    reason = dh.docker_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but Docker is unavailable: {reason}", pytrace=False)
    pytest.skip(f"Docker unavailable: {reason}")


@pytest.fixture(scope="session")
def image(docker_ready: None) -> Iterator[str]:
    """The backend image, built from the working tree as the README builds it (no arguments)."""
    tag = f"sdlc-lens-backend:pytest-{uuid.uuid4().hex[:8]}"
    result = dh.build_image(tag)
    MEASURED["build time (cache as found)"] = f"{result.seconds:.1f} s"
    try:
        yield tag
    finally:
        dh.remove_image(tag)


@pytest.fixture(scope="session")
def sample_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project to mount into containers (read-only): a generated tree."""
    return dh.write_sample_tree(tmp_path_factory.mktemp("mounted"))


@pytest.fixture
def lab(docker_ready: None) -> Iterator[dh.Lab]:
    """Creates containers and volumes for one test and removes all of them afterwards."""
    with dh.lab() as tracker:
        yield tracker


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MEASURED:
        terminalreporter.section("image measurements")
        for name, value in MEASURED.items():
            terminalreporter.write_line(f"{name}: {value}")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: a new test cannot slip through
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the Docker engine (the `docker_ready` fixture, which `image` and
    `lab` take) carries the `image` marker, so the everyday loop (`-m "not image and not
    fuzz"`) never builds an image, whatever a new test file forgets. The tests here that run
    the image's scripts without Docker stay in the loop."""
    for item in items:
        if "docker_ready" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.image)
