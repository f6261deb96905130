"""A re-sync that finds nothing changed reads every stored fingerprint from an index and
writes nothing but the project's state (issue 18: 100,000 documents in about a second).

With the text inline in `documents`, any statement that visits the project's rows (rather
than an index, or a partial index of the few rows it needs) costs a page or more per
document: 0.2 s at 100,000 for a statement that changed nothing.
"""

import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import (
    db_file,
    markdown,
    recorded_statements,
    synced_project,
    wait_until_runner_idle,
)

FILES = {f"stories/US{n:04d}-s.md": markdown(f"US{n:04d}: Story {n}") for n in range(30)}
# Partial indexes of rows a sync rarely has (unseen ones; rows of a sync cut short).
FEW_ROWS = ("ix_documents_unseen", "ix_documents_dying")


def rows_visited(plan: list[tuple[Any, ...]]) -> list[str]:
    """The steps of a query plan that read `documents` rows one by one, by project."""
    steps = [str(step[-1]) for step in plan]
    return [
        step
        for step in steps
        if re.match(r"(SCAN|SEARCH) documents\b", step)
        and "COVERING INDEX" not in step
        and "INTEGER PRIMARY KEY" not in step
        and not any(index in step for index in FEW_ROWS)
    ]


def snapshot(database: Path) -> tuple[list[Any], list[Any]]:
    with sqlite3.connect(database) as conn:
        documents = conn.execute("SELECT * FROM documents ORDER BY id").fetchall()
        index = conn.execute("SELECT * FROM documents_fts_docsize ORDER BY id").fetchall()
    return documents, index


def test_a_no_change_resync_reads_no_document_row_and_writes_no_document(
    client: TestClient, tmp_path: Path, database_url: str
) -> None:
    slug = synced_project(client, tmp_path, "Same", FILES)
    # Written an hour ago: a file modified within the last seconds is read again
    # (folder.RACY_WINDOW_NS); the first re-sync stores the stamps of these.
    an_hour_ago = time.time() - 3600
    for path in (tmp_path / "Same").rglob("*.md"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert client.post(f"/api/v1/projects/{slug}/sync").status_code == 202
    wait_until_runner_idle(client)
    database = db_file(database_url)
    before = snapshot(database)
    project = client.get(f"/api/v1/projects/{slug}").json()

    with recorded_statements(client.app.state.engine) as seen:  # type: ignore[attr-defined]
        assert client.post(f"/api/v1/projects/{slug}/sync").status_code == 202
        wait_until_runner_idle(client)

    after = client.get(f"/api/v1/projects/{slug}").json()
    assert after["sync_status"] == "synced" and after["document_count"] == len(FILES)
    assert after["last_synced_at"] >= project["last_synced_at"]
    assert snapshot(database) == before  # not one row or index entry rewritten
    statements = [sql for sql, _ in seen if re.search(r"\bdocuments\b", sql)]
    assert any("ix_documents_unseen" in sql for sql in statements)  # the reset of unseen rows
    with sqlite3.connect(database) as conn:
        visits = {
            sql: rows_visited(conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
            for sql in statements
            if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT"))
        }
    assert visits and not {sql: steps for sql, steps in visits.items() if steps}
