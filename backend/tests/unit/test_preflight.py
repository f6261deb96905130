"""`python -m sdlc_lens.preflight`: what the entrypoint learns, and what an operator reads when a
setting is wrong (exit 2, one line naming the variable, no traceback)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sdlc_lens.preflight import EXIT_INVALID_SETTINGS


def run_preflight(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SDLC_LENS_")}
    return subprocess.run(
        [sys.executable, "-m", "sdlc_lens.preflight"],
        env={**clean, "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_prints_the_values_the_entrypoint_needs(tmp_path: Path) -> None:
    database = tmp_path / "a b" / "lens.db"  # a space in the path survives the shell's `read`
    done = run_preflight(
        tmp_path,
        SDLC_LENS_PORT="9000",
        SDLC_LENS_LOG_LEVEL="Warning",
        SDLC_LENS_DATABASE_URL=f"sqlite:///{database}",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"0.0.0.0 9000 warning sqlite:///{database}\n"
    assert done.stderr == ""
    assert database.parent.is_dir()  # created, so that its permissions could be checked


def test_defaults_come_from_the_settings_class(tmp_path: Path) -> None:
    done = run_preflight(tmp_path)
    assert done.returncode == 0, done.stderr
    default = f"sqlite:///{tmp_path}/.local/share/sdlc-lens/sdlc_lens.db"
    assert done.stdout.split() == ["0.0.0.0", "8000", "info", default]


@pytest.mark.parametrize(
    ("variable", "value", "shown", "reason"),
    [
        ("SDLC_LENS_LOG_LEVEL", "loud", "loud", "'INFO' or 'DEBUG'"),
        ("SDLC_LENS_PORT", "eighty", "eighty", "valid integer"),
        ("SDLC_LENS_PORT", "0", "0", "greater than or equal to 1"),
        ("SDLC_LENS_DATABASE_URL", "not a url", "not a url", "not a database URL"),
        (
            "SDLC_LENS_DATABASE_URL",
            "postgresql://lens:hunter2@db/lens",
            "postgresql://lens:***@db/lens",
            "only SQLite is supported",
        ),
        (
            "SDLC_LENS_DATABASE_URL",
            "sqlite://lens:hunter2@/data/lens.db",
            "sqlite://lens:***@/data/lens.db",
            "no user, password or host",
        ),
        # An origin a browser never sends would silently match nothing.
        ("SDLC_LENS_CORS_ORIGINS", "localhost:5173", "localhost:5173", "scheme://host[:port]"),
        (
            "SDLC_LENS_CORS_ORIGINS",
            "http://ok.example, lens.lan",
            "http://ok.example, lens.lan",
            "got 'lens.lan'",
        ),
        ("SDLC_LENS_CORS_ORIGINS", "http://a.example/app", "http://a.example/app", "got"),
        ("SDLC_LENS_CORS_ORIGINS", "http://a.example:99999", "http://a.example:99999", "got"),
        ("SDLC_LENS_CORS_ORIGINS", "https://", "https://", "scheme://host[:port]"),
        # A token is never shown, not even a wrong one.
        ("SDLC_LENS_API_TOKEN", "hunter2 hunter2 hunter2", "(hidden)", "at least 16 visible"),
        ("SDLC_LENS_API_TOKEN", "hunter2", "(hidden)", "at least 16 visible"),
    ],
)
def test_an_invalid_setting_is_one_line_and_exit_2(
    tmp_path: Path, variable: str, value: str, shown: str, reason: str
) -> None:
    done = run_preflight(tmp_path, **{variable: value})
    assert done.returncode == EXIT_INVALID_SETTINGS == 2
    assert done.stdout == ""  # the entrypoint reads nothing it could start with
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"ERROR [sdlc_lens.preflight] invalid setting {variable}={shown}: " in lines[0]
    assert reason in lines[0]
    assert "hunter2" not in done.stderr


def test_each_invalid_setting_gets_its_own_line(tmp_path: Path) -> None:
    done = run_preflight(tmp_path, SDLC_LENS_LOG_LEVEL="loud", SDLC_LENS_PORT="-1")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert "SDLC_LENS_PORT=-1" in lines[0] and "SDLC_LENS_LOG_LEVEL=loud" in lines[1]


def test_a_database_folder_that_cannot_be_created_is_an_invalid_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    url = f"sqlite:///{blocker}/db/lens.db"
    done = run_preflight(tmp_path, SDLC_LENS_DATABASE_URL=url)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"invalid setting SDLC_LENS_DATABASE_URL={url}: " in lines[0]
    assert f"cannot create the database folder {blocker}/db" in lines[0]
    assert "fix: chown -R" in lines[0]


def test_a_token_file_that_cannot_be_read_or_is_given_twice(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-secret"
    done = run_preflight(tmp_path, SDLC_LENS_API_TOKEN_FILE=str(missing))
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].endswith(
        f"invalid setting SDLC_LENS_API_TOKEN_FILE={missing}: cannot read the token file "
        f"{missing} (No such file or directory)"
    )
    secret = tmp_path / "secret"
    secret.write_text("hunter2-hunter2-hunter2\n")
    done = run_preflight(
        tmp_path,
        SDLC_LENS_API_TOKEN_FILE=str(secret),
        SDLC_LENS_API_TOKEN="hunter3-hunter3-hunter3",
    )
    assert done.returncode == 2
    assert "set SDLC_LENS_API_TOKEN or this, not both" in done.stderr
    assert "hunter" not in done.stderr.replace(str(tmp_path), "")
