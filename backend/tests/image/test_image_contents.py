""".dockerignore keeps junk out of the build; the image holds only what the service runs."""

import re
import shutil
from pathlib import Path

import pytest

from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

# Things a developer's checkout accumulates; none may reach the build context.
DECOYS = {
    ".git/HEAD": "ref: refs/heads/main\n",
    ".venv/pyvenv.cfg": "home = /usr\n",
    ".env": "SDLC_LENS_DATABASE_URL=sqlite:////secret.db\n",
    ".env.local": "TOKEN=secret\n",
    "BENCHMARKS.md": "# numbers\n",
    "benchmarks/bench_sync.py": "print('bench')\n",
    "lens.db": "db",
    "lens.db-wal": "wal",
    "lens.db-shm": "shm",
    "data/local.sqlite3": "db",
    "src/sdlc_lens/local.db": "db",
    "src/sdlc_lens/__pycache__/main.cpython-312.pyc": "stale",
    "src/sdlc_lens/stale.pyc": "stale",
    "migrations/__pycache__/env.cpython-312.pyc": "stale",
    "migrations/versions/__pycache__/0001_initial.cpython-312.pyc": "stale",
    ".pytest_cache/v/cache/lastfailed": "{}",
    ".ruff_cache/CACHEDIR.TAG": "x",
    "src/.mypy_cache/CACHEDIR.TAG": "x",
    "notes.log": "log",
}
KEEP_ROOT_FILES = {"pyproject.toml", "uv.lock", "alembic.ini", "docker-entrypoint.sh"}


def _copy_checkout(dest: Path) -> Path:
    """The backend folder as a developer has it (tests, caches), minus the heavy .venv."""
    shutil.copytree(dh.BACKEND_DIR, dest, ignore=shutil.ignore_patterns(".venv"), symlinks=True)
    for relative, content in DECOYS.items():
        path = dest / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return dest


def test_build_context_holds_only_what_the_image_needs(docker_ready: None, tmp_path: Path) -> None:
    context = _copy_checkout(tmp_path / "backend")
    sent = set(dh.build_context_listing(context))

    leaked = sorted(
        path
        for path in sent
        if path in DECOYS
        or path.startswith(("tests/", ".git/", ".venv/", "benchmarks/"))
        or "__pycache__/" in path
        or path.endswith((".pyc", ".db", ".db-wal", ".db-shm", ".log"))
        or ".sqlite" in path
        or "/.env" in f"/{path}"
        or "_cache/" in path
    )
    assert not leaked, leaked

    # Everything the build needs is there: the package sources, the migrations, the lock.
    wanted = {p.relative_to(context).as_posix() for p in (context / "src").rglob("*.py")}
    wanted |= {
        p.relative_to(context).as_posix()
        for p in (context / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    wanted |= KEEP_ROOT_FILES | {"image/pack_site_packages.py"}
    assert wanted <= sent, sorted(wanted - sent)
    # ...and nothing else at the top level.
    assert {p.split("/", 1)[0] for p in sent} <= KEEP_ROOT_FILES | {"src", "migrations", "image"}
    assert [p for p in sent if p.startswith("image/")] == ["image/pack_site_packages.py"], sent


def test_image_has_no_tests_git_or_databases(image: str, lab: dh.Lab) -> None:
    script = (
        "ls -A /app; echo ---; "
        "find / -xdev \\( -name .git -o -name tests -o -name conftest.py "
        "-o -name '*.db' -o -name '*.db-wal' -o -name '*.db-shm' -o -name '*.sqlite*' "
        "-o -name .env -o -name BENCHMARKS.md \\) -print "
        "2>/dev/null; echo ---; "
        "python -c 'import sdlc_lens.main as m; print(m.__file__)'"
    )
    code, output = lab.run(image, ["sh", "-c", script])
    assert code == 0, output
    top, found, package = output.split("---\n")
    assert set(top.split()) == {".venv", "alembic.ini", "docker-entrypoint.sh", "migrations"}
    assert found.strip() == "", found
    # The venv's copy of the application (its zip: image/pack_site_packages.py), no other.
    assert package.strip().startswith("/app/.venv/lib/python3.12/sdlc_lens.zip/"), package


def test_a_traceback_through_the_application_shows_its_lines(image: str, lab: dh.Lab) -> None:
    """The application runs from a zip (image/pack_site_packages.py) that keeps its sources:
    an operator reading a traceback in the log (written through `logging`, as Uvicorn's and
    the app's are) sees each of its frames' line of code."""
    script = (
        "import logging\n"
        "from sdlc_lens.main import create_app\n"
        "try:\n"
        "    create_app(settings=42)\n"
        "except AttributeError:\n"
        "    logging.exception('start failed')\n"
    )
    code, output = lab.run(image, ["python", "-c", script])
    assert code == 0, output
    lines = output.splitlines()
    frame = re.compile(
        r'File "/app/\.venv/lib/python3\.12/sdlc_lens\.zip/sdlc_lens/main\.py", line (\d+)'
    )
    found = [(at, match) for at, line in enumerate(lines) if (match := frame.search(line))]
    assert found, output
    at, match = found[0]
    number = int(match[1])
    source = (dh.BACKEND_DIR / "src" / "sdlc_lens" / "main.py").read_text().splitlines()
    assert lines[at + 1].strip() == source[number - 1].strip(), output
