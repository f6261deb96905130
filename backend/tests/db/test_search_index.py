"""The full-text index: what it holds, how it follows `documents`, its migration and repair."""

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.db.engine import create_db_engine, write_transaction
from sdlc_lens.db.fts import INDEXED_CHARS, recreate_fts
from sdlc_lens.healthcheck import HEALTH_PATH
from sdlc_lens.main import create_app
from sdlc_lens.services.search.index import repair_search_index
from tests.helpers import downgrade, migrate

FTS_OBJECTS = (
    "SELECT type, name, sql FROM sqlite_master "
    "WHERE name = 'documents_fts' OR name LIKE 'documents_fts_%' AND type = 'trigger' "
    "ORDER BY name"
)
ALL_WORDS = (
    "SELECT term, doc, col, offset FROM temp.words ORDER BY term, doc, col, offset",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.words USING fts5vocab(main, documents_fts, instance)",
)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def add_document(db: sqlite3.Connection, doc_id: str, **columns: Any) -> int:
    """Insert one document (and its project on first use) straight into the table."""
    db.execute(
        "INSERT OR IGNORE INTO projects (id, slug, name, created_at, updated_at) "
        "VALUES (1, 'p', 'P', '2026-01-01', '2026-01-01')"
    )
    row = {
        "project_id": 1,
        "doc_type": "story",
        "doc_id": doc_id,
        "title": doc_id,
        "file_path": f"stories/{doc_id}.md",
        "file_hash": "0" * 64,
        "synced_at": "2026-01-01",
        "content": "",
        **columns,
    }
    if isinstance(row.get("metadata_json"), dict):
        row["metadata_json"] = json.dumps(row["metadata_json"])
    names = ", ".join(row)
    marks = ", ".join("?" * len(row))
    cursor = db.execute(f"INSERT INTO documents ({names}) VALUES ({marks})", list(row.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def hits(db: sqlite3.Connection, word: str) -> set[str]:
    return {
        doc_id
        for (doc_id,) in db.execute(
            "SELECT d.doc_id FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid "
            "WHERE documents_fts MATCH ?",
            (f'"{word}"',),
        )
    }


def indexed_words(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    db.execute(ALL_WORDS[1])
    return db.execute(ALL_WORDS[0]).fetchall()


def normalised(sql: str) -> str:
    return re.sub(r"\s*([(),;])\s*", r"\1", re.sub(r"\s+", " ", sql)).strip()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = tmp_path / "lens.db"
    migrate(url_of(path))
    with sqlite3.connect(path, isolation_level=None) as db:
        yield db


STORY = {
    "title": "Signin page",
    "content": "The user enters a password.",
    "status": "In Progress",
    "owner": "alice",
    "priority": "P1",
    "epic": "EP0007",
    "story": None,
    "depends_on": "US0002,US0003",
    "aliases": "LEGACY-12",
    "metadata_json": {"Reviewer": "bob", "Created": "2026-01-15"},
}


def test_the_index_holds_title_body_and_metadata_values_but_no_labels(
    database: sqlite3.Connection,
) -> None:
    add_document(database, "US0001-login", **STORY)
    title, body, values = ("signin",), ("password",), ("progress", "alice", "p1", "ep0007")
    references = ("us0003", "legacy", "bob", "2026", "us0001", "login")
    for word in (*title, *body, *values, *references):
        assert hits(database, word) == {"US0001-login"}, word
    for label in ("status", "owner", "reviewer", "created", "depends", "aliases", "priority"):
        assert hits(database, label) == set(), label


def test_the_triggers_follow_every_indexed_column(database: sqlite3.Connection) -> None:
    row_id = add_document(database, "US0001-login", **STORY)
    add_document(database, "US0002-other", content="Unrelated words.")
    changes = {
        "title": ("Logout page", "logout", "signin"),
        "content": ("Now about tokens.", "tokens", "password"),
        "doc_id": ("US0009-login", "us0009", "us0001"),
        "status": ("Blocked", "blocked", "progress"),
        "owner": ("carol", "carol", "alice"),
        "priority": ("P3", "p3", "p1"),
        "epic": ("EP0008", "ep0008", "ep0007"),
        "story": ("US0044", "us0044", None),
        "depends_on": ("US0005", "us0005", "us0003"),
        "aliases": ("OLD-99", "old", "legacy"),
        "metadata_json": (json.dumps({"Reviewer": "dave"}), "dave", "bob"),
    }
    doc_id = "US0001-login"
    for column, (value, new_word, old_word) in changes.items():
        database.execute(f"UPDATE documents SET {column} = ? WHERE id = ?", (value, row_id))
        doc_id = value if column == "doc_id" else doc_id
        assert hits(database, new_word) == {doc_id}, column
        if old_word is not None:
            assert hits(database, old_word) == set(), column
    # What the triggers maintained is exactly what a rebuild from the documents gives.
    maintained = indexed_words(database)
    with create_db_engine(url_of(Path(database_file(database)))).begin() as conn:
        recreate_fts(conn)
    assert indexed_words(database) == maintained
    database.execute("DELETE FROM documents WHERE id = ?", (row_id,))
    assert hits(database, "carol") == set()
    assert hits(database, "unrelated") == {"US0002-other"}


def database_file(db: sqlite3.Connection) -> str:
    return db.execute("PRAGMA database_list").fetchone()[2]


def test_each_column_is_indexed_up_to_its_first_mebicharacters(
    database: sqlite3.Connection,
) -> None:
    filler = "x " * (INDEXED_CHARS // 2)
    add_document(database, "US0001-big", content="start " + filler + "beyond", title="A title")
    assert hits(database, "start") == {"US0001-big"}
    assert hits(database, "beyond") == set()
    # The stored text itself is whole.
    (length,) = database.execute("SELECT length(content) FROM documents").fetchone()
    assert length == len("start " + filler + "beyond") > INDEXED_CHARS


def test_the_migration_and_the_repair_build_the_same_index(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.db"
    migrate(url_of(migrated))
    with sqlite3.connect(migrated) as db:
        by_migration = [
            (kind, name, normalised(sql)) for kind, name, sql in db.execute(FTS_OBJECTS)
        ]
    with create_db_engine(url_of(migrated)).begin() as conn:
        recreate_fts(conn)
    with sqlite3.connect(migrated) as db:
        by_repair = [(kind, name, normalised(sql)) for kind, name, sql in db.execute(FTS_OBJECTS)]
    assert [name for _, name, _ in by_repair] == [
        "documents_fts",
        "documents_fts_delete",
        "documents_fts_insert",
        "documents_fts_update",
    ]
    assert by_migration == by_repair


def test_upgrading_a_first_version_database_reindexes_its_documents(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    migrate(url_of(path), "0001_initial")
    with sqlite3.connect(path, isolation_level=None) as db:
        add_document(db, "US0001-login", **STORY)
        add_document(db, "US0002-other", content="Status: Done. Other words.")
        assert hits(db, "password") == {"US0001-login"}
        assert hits(db, "alice") == set()  # the first index had no metadata
    migrate(url_of(path))
    with sqlite3.connect(path, isolation_level=None) as db:
        assert hits(db, "password") == {"US0001-login"}
        assert hits(db, "alice") == {"US0001-login"}
        assert hits(db, "status") == {"US0002-other"}  # in its body only
        (indexed,) = db.execute("SELECT count(*) FROM documents_fts_docsize").fetchone()
        assert indexed == 2
        add_document(db, "US0003-new", content="A fresh password.")
        assert hits(db, "password") == {"US0001-login", "US0003-new"}
    with TestClient(create_app(Settings(database_url=url_of(path)))) as client:
        assert client.get(HEALTH_PATH).json()["ready"] is True
        body = client.get("/api/v1/search", params={"q": "alice"}).json()
        assert [item["doc_id"] for item in body["items"]] == ["US0001-login"]


def test_downgrading_restores_the_first_index(tmp_path: Path) -> None:
    path = tmp_path / "lens.db"
    migrate(url_of(path))
    with sqlite3.connect(path, isolation_level=None) as db:
        add_document(db, "US0001-login", **STORY)
    downgrade(url_of(path), "0001_initial")
    with sqlite3.connect(path, isolation_level=None) as db:
        assert hits(db, "password") == {"US0001-login"}
        assert hits(db, "alice") == set()
    migrate(url_of(path))
    with sqlite3.connect(path, isolation_level=None) as db:
        assert hits(db, "alice") == {"US0001-login"}


def test_repair_leaves_an_older_schema_to_the_migrations(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    migrate(url_of(path), "0001_initial")
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE documents_fts")
    assert repair_search_index(create_db_engine(url_of(path))) is False
    with sqlite3.connect(path) as db:
        assert "documents_fts" not in {name for _, name, _ in db.execute(FTS_OBJECTS)}


def test_repair_rebuilds_an_index_that_lost_a_trigger(database: sqlite3.Connection) -> None:
    add_document(database, "US0001-login", **STORY)
    before = indexed_words(database)
    database.execute("DROP TRIGGER documents_fts_update")
    engine = create_db_engine(url_of(Path(database_file(database))))
    assert repair_search_index(engine) is True
    assert repair_search_index(engine) is False  # complete now: nothing to do
    assert indexed_words(database) == before
    database.execute("UPDATE documents SET owner = 'carol'")
    assert hits(database, "carol") == {"US0001-login"}
    with write_transaction(engine) as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM documents_fts_docsize").scalar() == 1
