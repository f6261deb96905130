"""Migrations are frozen history: they never import the application they outlive."""

import ast
from pathlib import Path

import pytest

from tests.helpers import BACKEND_DIR

VERSIONS = sorted((BACKEND_DIR / "migrations" / "versions").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", VERSIONS, ids=[path.stem for path in VERSIONS])
def test_a_migration_imports_no_application_code(path: Path) -> None:
    leaks = {name for name in imported_modules(path) if name.split(".")[0] == "sdlc_lens"}
    assert not leaks, f"{path.name} imports {sorted(leaks)}"
