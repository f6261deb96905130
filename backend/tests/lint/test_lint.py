"""Everything lints clean: ruff (Python), mypy (types of src/), hadolint (Dockerfile),
shellcheck (shell scripts)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent
SHELL_SCRIPTS = [BACKEND_DIR / "docker-entrypoint.sh", REPO_DIR / ".ci" / "run"]
PYTHON_DIRS = ["src", "tests", "migrations", "benchmarks", "harness", "image"]


def _tool(name: str) -> str:
    """The tool from the project's virtualenv (or PATH); missing is a failure, not a skip."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    path = shutil.which(name, path=search)
    assert path, f"{name} not found: run `uv sync` (it is a dev dependency)"
    return path


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, cwd=BACKEND_DIR
    )


def test_dockerfile_passes_hadolint() -> None:
    # Default failure threshold: any finding, down to style and info, fails.
    result = _run([_tool("hadolint"), "--no-color", str(BACKEND_DIR / "Dockerfile")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_pass_shellcheck() -> None:
    scripts = [script for script in SHELL_SCRIPTS if script.is_file()]
    assert BACKEND_DIR / "docker-entrypoint.sh" in scripts
    result = _run(
        [_tool("shellcheck"), "--severity=style", "--external-sources", *map(str, scripts)]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_passes_ruff_lint_and_format() -> None:
    ruff = _tool("ruff")
    lint = _run([ruff, "check", "--no-cache", *PYTHON_DIRS])
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run([ruff, "format", "--check", "--no-cache", *PYTHON_DIRS])
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_src_passes_mypy_strict() -> None:
    # The settings ([tool.mypy] in pyproject.toml: strict, files = src) are the only ones.
    result = _run([_tool("mypy")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout
