"""What an operator sees when the container starts: one log format on stdout, a one-line
reason when a setting or the database folder is wrong, and no start-up spent compiling."""

import re
from pathlib import Path

import httpx
import pytest

from harness.processes import wait_for_sync
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

SERVICE_UID = 10001
IMPORT_LINE = re.compile(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s+(\S+)\s*$", re.MULTILINE)
# Run inside the image: which of the named modules come from a .py file without a .pyc next to
# it (in __pycache__; in the packages' zip, a .pyc is found before its .py)? Python would
# compile those in memory at every start, since nobody may write the image's files. Prints
# the number checked, then the missing names.
MISSING_BYTECODE = """
import importlib.util, os, sys
checked, missing = 0, []
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        continue  # a module loaded by file path (Alembic's migration scripts)
    origin = (spec.origin or "") if spec is not None else ""
    if origin.endswith(".pyc"):
        checked += 1  # loaded from bytecode: a zip's, or a .pyc beside its module
        continue
    if not origin.endswith(".py"):
        continue  # built in, frozen or a C extension: no bytecode to have
    checked += 1
    if not os.path.exists(importlib.util.cache_from_source(spec.origin)):
        missing.append(name)
print(checked, *missing)
"""


def start_refused(lab: dh.Lab, image: str, **kwargs: object) -> tuple[int, list[str]]:
    """Start a container that must stop by itself: (exit code, the lines of its stdout)."""
    container = lab.container(image, ports=(), **kwargs)  # type: ignore[arg-type]
    code = dh.wait_exited(container, timeout=60)
    assert dh.stderr_of(container) == ""
    return code, dh.logs(container).splitlines()


def test_one_log_format_on_stdout(image: str, lab: dh.Lab) -> None:
    container = lab.container(image)
    url = dh.wait_healthy(container)
    assert dh.api("GET", url + "/api/v1/projects").status_code == 200
    dh.stop(container)

    assert dh.stderr_of(container) == ""
    output = dh.logs(container)
    names = dh.logger_names(output)  # fails on any line in another format
    assert {"docker-entrypoint", "alembic.runtime.migration", "sdlc_lens.main"} <= names, names
    assert {"uvicorn.error", "uvicorn.access"} <= names, names
    assert '"GET /api/v1/projects HTTP/1.1" 200' in output


def test_an_invalid_setting_stops_the_start_with_one_line(image: str, lab: dh.Lab) -> None:
    code, lines = start_refused(lab, image, env={"SDLC_LENS_LOG_LEVEL": "chatty"})
    assert code == 2
    assert len(lines) == 1, lines
    assert dh.logger_names(lines[0]) == {"sdlc_lens.preflight"}
    assert "invalid setting SDLC_LENS_LOG_LEVEL=chatty: Input should be" in lines[0]


def test_a_database_folder_the_service_user_cannot_write(
    image: str, lab: dh.Lab, tmp_path: Path
) -> None:
    """A bind mount owned by root (as `mkdir` on the host leaves it): the fix is a chown."""
    host_folder = tmp_path / "db"
    host_folder.mkdir(mode=0o755)
    code, lines = start_refused(lab, image, volumes={str(host_folder): ("/data/db", "rw")})
    assert code == 2
    assert len(lines) == 1, lines
    assert "invalid setting SDLC_LENS_DATABASE_URL=sqlite:////data/db/sdlc_lens.db: " in lines[0]
    assert f"/data/db is not writable by uid {SERVICE_UID}" in lines[0]
    assert f"chown -R {SERVICE_UID}:{SERVICE_UID} " in lines[0]
    assert list(host_folder.iterdir()) == []  # nothing migrated


def test_another_uid_with_the_default_data_folder(image: str, lab: dh.Lab) -> None:
    """`docker run --user 12345`: /data/db belongs to uid 10001, so one line says what to do."""
    code, lines = start_refused(lab, image, user="12345:12345")
    assert code == 2
    assert len(lines) == 1, lines
    assert "/data/db is not writable by uid 12345 (gid 12345)" in lines[0]
    assert "fix: chown -R 12345:12345 the host folder or volume mounted at /data/db" in lines[0]


def test_every_module_a_start_imports_is_precompiled(
    image: str, lab: dh.Lab, sample_tree: Path
) -> None:
    """The builder's standard-library warm-up list must cover what a real session imports."""
    profile = {"PYTHONPROFILEIMPORTTIME": "1"}  # each Python process lists its imports
    container = lab.container(
        image, env=profile, volumes={str(sample_tree): ("/data/projects/recipe-box", "ro")}
    )
    url = dh.wait_healthy(container, timeout=60)
    body = {"name": "Recipe Box", "sdlc_path": "/data/projects/recipe-box"}
    assert dh.api("POST", url + "/api/v1/projects", json=body).status_code == 201
    assert dh.api("POST", url + "/api/v1/projects/recipe-box/sync").status_code == 202
    with httpx.Client(base_url=url, timeout=10) as client:
        assert wait_for_sync(client, "recipe-box")["sync_status"] == "synced"
    for path in (
        "/api/v1/projects/recipe-box/documents?per_page=5",
        "/api/v1/projects/recipe-box/documents/story/US0002-add-a-recipe",
        "/api/v1/projects/recipe-box/stats",
        "/api/v1/search?q=pantry",
        "/docs",
        "/openapi.json",
    ):
        assert dh.api("GET", url + path).status_code == 200, path
    code, probe = dh.exec_in(container, ["python", "-m", "sdlc_lens.healthcheck"], env=profile)
    assert code == 0, probe
    dh.stop(container)

    # -X importtime lists the modules `import` statements load (importlib.import_module's,
    # such as the app module Uvicorn is given, are not listed; their own imports are).
    modules = sorted(set(IMPORT_LINE.findall(dh.logs(container) + probe)))
    expected = {
        "alembic.command",
        "uvicorn.main",
        "sdlc_lens.api.routes",
        "sdlc_lens.listen_address",
    }
    assert expected <= set(modules), expected - set(modules)
    code, output = lab.run(image, ["python", "-c", MISSING_BYTECODE, *modules])
    assert code == 0, output
    checked, *missing = output.split()
    assert int(checked) > 300, output  # the session really was recorded
    assert missing == [], f"imported at start without bytecode in the image: {missing}"
