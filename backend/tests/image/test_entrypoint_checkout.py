"""docker-entrypoint.sh run from a source checkout (`cd backend && uv run ./docker-entrypoint.sh`).

No Docker needed: the same script, with the project's virtualenv on PATH, a temporary database
and a free port.
"""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.processes import HEALTH_PATH, free_port
from sdlc_lens.db.schema import EXIT_SCHEMA_TOO_NEW
from tests.helpers import migrate
from tests.image import docker_helpers as dh

ENTRYPOINT = dh.BACKEND_DIR / "docker-entrypoint.sh"


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SDLC_LENS_") and key != "PYTHONPATH"
    }
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "")])
    env["SDLC_LENS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'db' / 'lens.db'}"
    env["SDLC_LENS_HOST"] = "127.0.0.1"
    env.update(overrides)
    return env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    proc = subprocess.Popen(
        [str(ENTRYPOINT)],
        cwd=dh.BACKEND_DIR,
        env=_env(tmp_path, SDLC_LENS_PORT=str(port), SDLC_LENS_LOG_LEVEL="info"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: teardown can end every process in it
    )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + HEALTH_PATH, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_migrates_serves_and_stops_on_sigterm(
    serve: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    proc, url = serve
    assert dh.wait_until(lambda: _healthy(url) or proc.poll() is not None, 30, 0.05)
    assert proc.poll() is None, proc.communicate()
    assert (tmp_path / "db" / "lens.db").is_file()
    assert httpx.get(url + "/api/v1/projects").status_code == 200  # an access-log line

    proc.send_signal(signal.SIGTERM)
    output, errors = proc.communicate(timeout=15)
    # Uvicorn re-raises the SIGTERM it handled once shut down (in a container, as PID 1, it
    # exits 0 instead).
    assert proc.returncode in (0, -signal.SIGTERM), output
    markers = [
        "applying database migrations",
        "Running upgrade",
        "database migrations complete",
        "Application startup complete",
        "Application shutdown complete",
    ]
    positions = [output.find(marker) for marker in markers]
    assert -1 not in positions and positions == sorted(positions), output

    # One stream, one format, for the entrypoint, Alembic, the app and Uvicorn (access log too).
    assert errors == ""
    names = dh.logger_names(output)
    assert {"docker-entrypoint", "alembic.runtime.migration", "sdlc_lens.main"} <= names, names
    assert {"uvicorn.error", "uvicorn.access"} <= names, names
    assert '"GET /api/v1/projects HTTP/1.1" 200' in output


def test_invalid_settings_stop_the_start_before_migrating(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(ENTRYPOINT)],
        env=_env(tmp_path, SDLC_LENS_LOG_LEVEL="loud"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    assert dh.logger_names(lines[0]) == {"sdlc_lens.preflight"}
    assert " ERROR [sdlc_lens.preflight] invalid setting SDLC_LENS_LOG_LEVEL=loud: " in lines[0]
    assert not (tmp_path / "db" / "lens.db").exists()  # nothing migrated


def test_migration_failure_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    database = tmp_path / "not-a-db.sqlite"
    database.write_bytes(b"definitely not sqlite " * 100)
    proc = subprocess.run(
        [str(ENTRYPOINT)],
        cwd=tmp_path,  # the script finds alembic.ini next to itself, not in the CWD
        env=_env(tmp_path, SDLC_LENS_DATABASE_URL=f"sqlite:///{database}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    lines = [line for line in proc.stdout.splitlines() if "database migration failed" in line]
    assert len(lines) == 1, proc.stdout
    assert dh.logger_names(lines[0]) == {"docker-entrypoint"}
    assert " ERROR [docker-entrypoint] " in lines[0]
    assert f"sqlite:///{database}" in lines[0]
    assert "Application startup" not in proc.stdout + proc.stderr


def test_a_command_argument_runs_instead_of_the_server(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(ENTRYPOINT), "sh", "-c", "echo ran $0 with $SDLC_LENS_HOST", "child"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ran child with 127.0.0.1"
    assert "migrations" not in proc.stderr
    assert not (tmp_path / "db").exists()


def test_an_older_version_refuses_a_newer_schema_in_one_line(tmp_path: Path) -> None:
    """A downgrade: the database was migrated by a newer version (a revision these scripts do
    not have). One ERROR line says so and what to do; exit 3; nothing changed, no server."""
    database = tmp_path / "db" / "lens.db"
    migrate(f"sqlite:///{database}")
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    before = database.read_bytes()
    proc = subprocess.run(
        [str(ENTRYPOINT)], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == EXIT_SCHEMA_TOO_NEW == 3, proc.stdout
    lines = proc.stdout.splitlines()
    assert [dh.logger_names(line) for line in lines] == [
        {"sdlc_lens.migrations"},  # applying database migrations ...
        {"sdlc_lens.migrations"},
    ], proc.stdout
    assert " ERROR [sdlc_lens.migrations] the database " in lines[1]
    assert "schema revision 0099_from_the_future, which SDLC Lens" in lines[1]
    assert "Downgrading is not supported: run that newer version again" in lines[1]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert database.read_bytes() == before
