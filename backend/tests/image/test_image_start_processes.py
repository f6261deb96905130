"""How a start spends its time: two Python processes, Alembic then Uvicorn, and the settings
check inside the first, before anything is migrated (issue 18: a quicker start)."""

from pathlib import Path
from typing import Any

import pytest

from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

# Python imports `sitecustomize` at every start (site.py), from PYTHONPATH too: this one
# appends the new process's command line to a file, so the test counts every Python process
# the entrypoint starts, whatever starts it.
RECORDER = """\
import os, sys
with open("/probe-out/starts", "a", encoding="utf-8") as log:
    log.write(" ".join([os.path.basename(sys.argv[0] or "python"), *sys.argv[1:]]) + "\\n")
"""
NO_HEALTHCHECK = {"test": ["NONE"]}  # Docker's own probe would start Python processes too


def recorded_start(
    lab: dh.Lab, image: str, tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[Any, Path]:
    """Start the image with the recorder: (container, the file it writes)."""
    probe, out, database = tmp_path / "probe", tmp_path / "out", tmp_path / "db"
    for folder in (probe, out, database):
        folder.mkdir()
    for writable in (out, database):
        writable.chmod(0o777)  # for the service user
    (probe / "sitecustomize.py").write_text(RECORDER)
    container = lab.container(
        image,
        env={"PYTHONPATH": "/probe", **(env or {})},
        volumes={
            str(probe): ("/probe", "ro"),
            str(out): ("/probe-out", "rw"),
            str(database): ("/data/db", "rw"),
        },
        healthcheck=NO_HEALTHCHECK,
    )
    return container, out / "starts"


def test_a_start_runs_two_python_processes_alembic_then_uvicorn(
    image: str, lab: dh.Lab, tmp_path: Path
) -> None:
    container, starts = recorded_start(lab, image, tmp_path)
    dh.wait_healthy(container)
    processes = starts.read_text().splitlines()
    assert len(processes) == 2, processes
    alembic, uvicorn = processes
    assert alembic.startswith("alembic ") and alembic.endswith(" upgrade head"), alembic
    assert uvicorn.startswith("uvicorn --factory sdlc_lens.main:create_app --host 0.0.0.0 "), (
        uvicorn
    )
    assert "--port 8000 --log-level info" in uvicorn, uvicorn


def test_invalid_settings_stop_the_first_process_before_any_migration(
    image: str, lab: dh.Lab, tmp_path: Path
) -> None:
    container, starts = recorded_start(lab, image, tmp_path, {"SDLC_LENS_PORT": "eighty"})
    assert dh.wait_exited(container, timeout=60) == 2
    lines = dh.logs(container).splitlines()
    assert len(lines) == 1, lines
    assert " ERROR [sdlc_lens.preflight] invalid setting SDLC_LENS_PORT=eighty: " in lines[0]
    assert len(starts.read_text().splitlines()) == 1  # Alembic's, which stopped
    assert list((tmp_path / "db").iterdir()) == []  # nothing migrated
