"""Migrations are frozen history: they never import the application they outlive."""

import ast
import sqlite3
from pathlib import Path

import pytest

from sdlc_lens.db.models import documents
from sdlc_lens.db.staging import _stored_files_sql
from tests.helpers import BACKEND_DIR, downgrade, migrate

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


def test_upgrading_a_0005_database_adds_connections_and_keeps_every_project(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    migrate(url, "0005_links_key_first")
    project = (
        "web", "Web", None, "github", "https://github.com/acme/web", "dev", "docs", "ghp_old1",
        7, 1, "b" * 40,
    )  # fmt: skip
    columns = (
        "slug, name, sdlc_path, source_type, repo_url, repo_branch, repo_path, access_token, "
        "connection_id, auto_sync, last_synced_commit_sha"
    )
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        conn.execute(
            f"INSERT INTO projects ({columns}, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 't', 't')",
            project,
        )
    migrate(url)
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        assert conn.execute(f"SELECT {columns} FROM projects").fetchall() == [project]
        conn.execute(
            "INSERT INTO github_connections (label, login, access_token, created_at, updated_at) "
            "VALUES ('Work', 'octocat', 'enc:v1:x', 't', 't')"
        )
        with pytest.raises(sqlite3.IntegrityError):  # labels are unique in any case
            conn.execute(
                "INSERT INTO github_connections (label, login, access_token, created_at, "
                "updated_at) VALUES ('WORK', 'octocat', 'x', 't', 't')"
            )
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT name FROM projects WHERE connection_id = 1"
        ).fetchall()
    assert "ix_projects_connection_id" in str(plan)
    downgrade(url, "0005_links_key_first")
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        assert conn.execute(f"SELECT {columns} FROM projects").fetchall() == [project]
    assert "github_connections" not in tables and "ix_projects_connection_id" not in tables


def test_0007_lets_a_repository_resync_read_blob_ids_from_the_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    migrate(url)
    repository = "EXPLAIN QUERY PLAN " + _stored_files_sql(("blob_sha",))
    folder = "EXPLAIN QUERY PLAN " + _stored_files_sql(("file_size", "file_mtime_ns"))
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        plans = [str(conn.execute(query, (1,)).fetchall()) for query in (repository, folder)]
    assert all("COVERING INDEX ix_documents_sync_fingerprint" in plan for plan in plans)
    downgrade(url, "0006_github_connections")
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        before = str(conn.execute(repository, (1,)).fetchall())
    assert "COVERING INDEX" not in before
