"""An operator can trust SQLite's own check: `PRAGMA integrity_check` says `ok` on a healthy
database, with the SQLite the image runs (issue 15, "SQLite")."""

import sqlite3
from pathlib import Path

from tests.helpers import markdown, migrate, synced_app, write_tree


def integrity(database: Path) -> list[tuple[str]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("PRAGMA integrity_check").fetchall()


def test_integrity_check_says_ok_on_a_synced_database_with_links(tmp_path: Path) -> None:
    stories = {
        f"stories/US{n:04d}-s.md": markdown(
            f"US{n:04d}: S", Status="Done", Epic="EP0001", Depends_on="US0001, US0002"
        )
        for n in range(1, 40)
    }
    tree = write_tree(
        tmp_path / "p",
        {"epics/EP0001-e.md": markdown("EP0001: E", Aliases="EP-1"), **stories},
    )
    with synced_app(tmp_path, [("P", tree)]) as client:
        database = Path(client.database_file)  # type: ignore[attr-defined]
        with sqlite3.connect(database) as conn:
            links = conn.execute("SELECT count(*) FROM document_links").fetchone()[0]
            assert links > 100
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            # The full-text index's own check raises when it finds a problem.
            conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('integrity-check')")
        # SQLite 3.40 reported a "NULL value in document_links..." for every link row here.
        assert integrity(database) == [("ok",)], sqlite3.sqlite_version


def test_upgrading_to_key_first_links_keeps_every_link(tmp_path: Path) -> None:
    database = tmp_path / "lens.db"
    url = f"sqlite:///{database}"
    migrate(url, "0004_project_ids")
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT INTO projects (id, slug, name, created_at, updated_at) "
            "VALUES (1, 'p', 'P', 't', 't')"
        )
        conn.execute(
            "INSERT INTO documents (id, project_id, doc_type, doc_id, title, file_path, "
            "file_hash, synced_at, content) VALUES (3, 1, 'story', 'US0001', 'US0001: A', "
            "'a.md', 'h', 't', 'Body.')"
        )
        conn.executemany(
            "INSERT INTO document_links (document_id, project_id, kind, ref_key, position) "
            "VALUES (3, 1, ?, ?, ?)",
            [("ref", "US0001", 0), ("depends_on", "US0002", 0), ("depends_on", "US0003", 1)],
        )
    migrate(url)
    with sqlite3.connect(database) as conn:
        kept = conn.execute(
            "SELECT document_id, project_id, kind, ref_key, position FROM document_links "
            "ORDER BY kind, position"
        ).fetchall()
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT document_id FROM document_links "
            "WHERE project_id = 1 AND kind = 'ref' AND ref_key = 'US0001'"
        ).fetchall()
    assert kept == [
        (3, 1, "depends_on", "US0002", 0),
        (3, 1, "depends_on", "US0003", 1),
        (3, 1, "ref", "US0001", 0),
    ]
    assert "ix_document_links_key" in str(plan)
    assert integrity(database) == [("ok",)]
