"""One version everywhere, a changelog entry for it, and the interpreter pin uv reads."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

from sdlc_lens import __version__
from tests.helpers import BACKEND_DIR, REPO_DIR


def pyproject_version() -> str:
    with (BACKEND_DIR / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def test_the_version_is_the_same_in_every_place_that_states_it() -> None:
    """pyproject.toml, the package, the image label's default and uv.lock."""
    dockerfile = (BACKEND_DIR / "Dockerfile").read_text()
    [label_default] = re.findall(r"^ARG VERSION=(\S+)$", dockerfile, re.MULTILINE)
    with (BACKEND_DIR / "uv.lock").open("rb") as handle:
        [locked] = [
            p["version"] for p in tomllib.load(handle)["package"] if p["name"] == "sdlc-lens"
        ]
    assert {__version__, label_default, locked} == {pyproject_version()}


def test_the_changelog_has_an_entry_for_the_version() -> None:
    changelog = (REPO_DIR / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d\d-\d\d))?$", changelog, re.MULTILINE)
    assert headings[0] == ("Unreleased", "")
    released = [version for version, date in headings[1:] if date]
    assert released[0] == pyproject_version()  # the newest entry is the running version


def test_uv_takes_python_3_12_from_the_pin(tmp_path: Path) -> None:
    """`uv run --directory backend` asks for the pinned 3.12 (installed, or downloaded once)
    instead of the newest Python it can find or fetch; uv reads the pin in backend/, where it
    stops looking, not at the repository root."""
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "the tests run under uv (uv run ... pytest)"
    project = tmp_path / "backend"
    project.mkdir()
    for name in ("pyproject.toml", ".python-version"):
        shutil.copy(BACKEND_DIR / name, project / name)
    env = {k: v for k, v in os.environ.items() if k not in ("UV_PYTHON", "VIRTUAL_ENV")}
    found = subprocess.run(
        [uv, "python", "find", "--directory", str(project), "--no-python-downloads", "-v"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Using Python request `3.12` from version file" in found.stderr, found.stderr
    base_image = re.search(r"^ARG PYTHON_IMAGE=python:(\S+)-slim$",
                           (BACKEND_DIR / "Dockerfile").read_text(), re.MULTILINE)  # fmt: skip
    assert base_image is not None and base_image[1] == "3.12"  # the image runs the same Python
