"""Path errors say which check failed, for which resolved path, and what to do about it."""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from harness.processes import WITHOUT_MODE_OVERRIDE, start_server
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import assert_error, migrate

HINT = "paths are as the container sees them"
MOUNT_EXAMPLE = "-v /host/path:/data/projects/name:ro"


def create(client: TestClient, path: str | Path) -> httpx.Response:
    return client.post("/api/v1/projects", json={"name": "P", "sdlc_path": str(path)})


def assert_hint(response: httpx.Response, in_container: bool) -> None:
    """The mount hint, in a container only: where a path that is not there was not mounted."""
    message = response.json()["error"]["message"]
    assert (HINT in message and MOUNT_EXAMPLE in message) is in_container, message
    assert "\n" not in message


def assert_no_mount_hint(response: httpx.Response) -> None:
    """No mount hint: the path is there, so mounting is not what is wrong."""
    message = response.json()["error"]["message"]
    assert HINT not in message and "mount" not in message, message


def test_a_missing_folder_names_the_resolved_path(
    client: TestClient, tmp_path: Path, in_container: bool
) -> None:
    (tmp_path / "projects").mkdir()
    response = create(client, f"{tmp_path}/projects/../projects/./acme/")
    expected = f"Project sdlc-studio path does not exist on filesystem: {tmp_path}/projects/acme"
    assert_error(response, 400, "PATH_NOT_FOUND", expected)
    assert_hint(response, in_container)


def test_a_relative_path_is_echoed_as_resolved(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    response = create(client, "sdlc-studio")
    assert_error(response, 400, "PATH_NOT_FOUND", f"on filesystem: {tmp_path / 'sdlc-studio'}")


def test_a_file_is_not_a_folder(client: TestClient, tmp_path: Path, in_container: bool) -> None:
    (tmp_path / "prd.md").write_text("# PRD\n")
    response = create(client, tmp_path / "prd.md")
    expected = f"Project sdlc-studio path is a file, not a folder: {tmp_path / 'prd.md'}"
    assert_error(response, 400, "PATH_NOT_A_DIRECTORY", expected)
    assert_no_mount_hint(response)


def test_a_folder_outside_the_allowed_base_names_both(
    database_url: str, tmp_path: Path, in_container: bool
) -> None:
    base = tmp_path / "allowed"
    base.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (base / "link").symlink_to(outside)
    settings = Settings(database_url=database_url, allowed_project_base=base)
    with TestClient(create_app(settings)) as client:
        response = create(client, base / "link")
    assert_error(response, 400, "PATH_OUTSIDE_BASE", "sdlc_path must be within the allowed base")
    message = response.json()["error"]["message"]
    assert f"base {base} (SDLC_LENS_ALLOWED_PROJECT_BASE): {outside}" in message
    assert_hint(response, in_container)


def test_nothing_is_told_about_paths_outside_the_base(database_url: str, tmp_path: Path) -> None:
    """Outside the base, a missing path and a file get the same answer as a real folder."""
    base = tmp_path / "allowed"
    base.mkdir()
    (tmp_path / "file.md").write_text("x")
    settings = Settings(database_url=database_url, allowed_project_base=base)
    with TestClient(create_app(settings)) as client:
        for path in (tmp_path / "missing", tmp_path / "file.md", tmp_path):
            assert_error(create(client, path), 400, "PATH_OUTSIDE_BASE")


def test_control_characters_and_long_paths_stay_one_short_line(
    client: TestClient, tmp_path: Path
) -> None:
    response = create(client, f"{tmp_path}/a\x00b\nc")
    assert_error(response, 400, "PATH_NOT_FOUND", r"a\x00b\x0ac")
    response = create(client, f"{tmp_path}/{'a' * 5000}")
    assert_error(response, 400, "PATH_NOT_FOUND")
    assert len(response.json()["error"]["message"]) < 1000


def test_update_gets_the_same_path_errors(
    client: TestClient, tmp_path: Path, in_container: bool
) -> None:
    assert create(client, tmp_path).status_code == 201
    (tmp_path / "notes.md").write_text("x")
    response = client.put("/api/v1/projects/p", json={"sdlc_path": str(tmp_path / "notes.md")})
    assert_error(response, 400, "PATH_NOT_A_DIRECTORY", str(tmp_path / "notes.md"))
    assert_no_mount_hint(response)


@pytest.fixture
def unreadable(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "locked" / "sdlc-studio"
    folder.mkdir(parents=True)
    folder.chmod(0o000)
    yield folder
    folder.chmod(0o755)


def test_an_unreadable_folder_names_the_service_uid(tmp_path: Path, unreadable: Path) -> None:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    server = start_server(database, tmp_path / "server.log", wrapper=WITHOUT_MODE_OVERRIDE)
    try:
        body = {"name": "Locked", "sdlc_path": str(unreadable)}
        response = httpx.post(f"{server.base_url}/api/v1/projects", json=body, timeout=5)
        uid = os.geteuid()
        expected = f"not readable by the service user (uid {uid}): {unreadable}"
        assert_error(response, 400, "PATH_NOT_READABLE", expected)
        # It is there (mounted, in a container): what it needs is a mode or an owner.
        assert_no_mount_hint(response)
        assert_error(response, 400, "PATH_NOT_READABLE", f"let uid {uid} read it")
        assert_error(response, 400, "PATH_NOT_READABLE", "chmod -R a+rX")
        assert_error(response, 400, "PATH_NOT_READABLE", f"chown -R {uid}")
        # A folder below one it cannot enter: the same answer, not "does not exist".
        (unreadable.parent / "inner").mkdir(mode=0o755)
        unreadable.parent.chmod(0o000)
        body = {"name": "Inner", "sdlc_path": str(unreadable.parent / "inner")}
        response = httpx.post(f"{server.base_url}/api/v1/projects", json=body, timeout=5)
        assert_error(response, 400, "PATH_NOT_READABLE", f"chown -R {uid}")
    finally:
        unreadable.parent.chmod(0o755)
        server.stop(signal.SIGKILL)
