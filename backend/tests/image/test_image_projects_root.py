"""Loud mistakes in the container (issue 19 item 3): the image runs as uid 10001, so modes apply
to it, and paths are the container's, so the hints are the container's: an empty or unreadable
projects mount is a warning in health and `GET /` that names what to fix on the host, and each
path error gets the hint that fits its cause."""

from pathlib import Path

import httpx
import pytest

from tests.helpers import eventually, write_tree
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

PRD = "# PRD\n\n> **Status:** Approved\n"
SUMMARY = "projects root /data/projects: "  # discovery's last line
ROOT = "SDLC_LENS_PROJECTS_ROOT=/data/projects"


def warnings_once_discovered(container: dh.DockerContainer) -> list[str]:
    """The health's warnings, once discovery has run; `GET /` says the same; health is 200."""
    url = dh.wait_healthy(container)
    eventually(lambda: SUMMARY in dh.logs(container), "discovery's summary line")
    health = httpx.get(url + "/api/v1/system/health", timeout=10)
    assert health.status_code == 200 and health.json()["ready"] is True, health.text
    warnings: list[str] = health.json()["warnings"]
    assert httpx.get(url + "/", timeout=10).json()["warnings"] == warnings
    return warnings


def test_a_mount_without_projects_and_each_path_mistake_get_their_own_hint(
    image: str, lab: dh.Lab, tmp_path: Path
) -> None:
    root = write_tree(
        tmp_path / "projects", {"locked/sdlc-studio/prd.md": PRD, "notes/prd.md": PRD}
    )
    (root / "notes" / "prd.md").rename(root / "prd.md")  # a document, not a project folder
    (root / "locked").chmod(0o700)  # owned by root: uid 10001 may not enter it
    container = lab.container(
        image,
        env={"SDLC_LENS_PROJECTS_ROOT": "/data/projects"},
        volumes={str(root): ("/data/projects", "ro")},
    )
    [warning] = warnings_once_discovered(container)
    assert warning.startswith(f"{ROOT} has no sdlc-studio folder: expected ")
    assert "expected /data/projects/<project>/sdlc-studio/ " in warning
    assert "check the host folder you mount there (LENS_PROJECTS_DIR with compose)" in warning
    assert "uid 10001 cannot look into locked: on the host, let uid 10001 read it" in warning
    assert f"WARNING [sdlc_lens.services.projects.discovery] {warning}" in dh.logs(container)

    url = dh.base_url(container)
    with httpx.Client(base_url=url, timeout=10) as client:

        def error(path: str) -> dict[str, str]:
            response = client.post("/api/v1/projects", json={"name": "P", "sdlc_path": path})
            assert response.status_code == 400, response.text
            found: dict[str, str] = response.json()["error"]
            return found

        unreadable = error("/data/projects/locked/sdlc-studio")
        assert unreadable["code"] == "PATH_NOT_READABLE"
        assert "(uid 10001)" in unreadable["message"]
        assert "on the host, let uid 10001 read it" in unreadable["message"]
        assert (
            "chmod -R a+rX <host folder>, or chown -R 10001 <host folder>" in unreadable["message"]
        )
        assert "mount" not in unreadable["message"]

        a_file = error("/data/projects/prd.md")
        assert a_file == {
            "code": "PATH_NOT_A_DIRECTORY",
            "message": "Project sdlc-studio path is a file, not a folder: /data/projects/prd.md",
        }

        missing = error("/data/projects/acme")
        assert missing["code"] == "PATH_NOT_FOUND"
        assert "mount the host folder into the container" in missing["message"]


def test_an_unreadable_projects_mount_names_uid_10001(
    image: str, lab: dh.Lab, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "projects", {"acme/sdlc-studio/prd.md": PRD})
    root.chmod(0o700)
    container = lab.container(
        image,
        env={"SDLC_LENS_PROJECTS_ROOT": "/data/projects"},
        volumes={str(root): ("/data/projects", "ro")},
    )
    [warning] = warnings_once_discovered(container)
    assert warning == (
        f"{ROOT} is not readable by uid 10001: on the host, let uid 10001 read it and enter "
        "the folders above it: chmod -R a+rX <host folder>, or chown -R 10001 <host folder>"
    )
