"""Migrations are frozen history: they never import the application they outlive."""

import ast
import sqlite3
from pathlib import Path

import pytest

from sdlc_lens.db.models import documents
from tests.helpers import BACKEND_DIR, migrate

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


def test_migrated_documents_keep_their_text_last(tmp_path: Path) -> None:
    # SQLite stores a row in column order and spills long text into overflow pages: a column
    # after `content` costs a walk of the document's text to read (the health check reads
    # several for every document). The migrated table matches the models, content last.
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    migrate(url)
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(documents)")]
    assert columns == [column.name for column in documents.columns]
    assert columns[-2:] == ["metadata_json", "content"]


def test_upgrading_a_0001_database_keeps_every_row_and_its_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    migrate(url, "0001_initial")
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        conn.execute(
            "INSERT INTO projects (slug, name, created_at, updated_at) VALUES ('p', 'P', 't', 't')"
        )
        conn.execute(
            "INSERT INTO documents (id, project_id, doc_type, doc_id, title, file_path, "
            "file_hash, synced_at, content) VALUES (7, 1, 'story', 'US0001-a', 'US0001: A', "
            "'stories/US0001-a.md', 'h', 't', 'Quokkas live on Rottnest.')"
        )
    migrate(url)
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        kept = conn.execute("SELECT id, doc_id, content FROM documents").fetchall()
        found = conn.execute(
            "SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'quokkas'"
        ).fetchall()
    assert kept == [(7, "US0001-a", "Quokkas live on Rottnest.")]
    assert found == [(7,)]
