"""Log lines name a project by its slug, as the API does, never by its internal id."""

import re
import signal
from pathlib import Path

import httpx

from harness.processes import start_server, wait_for_sync
from tests.helpers import migrate, write_tree


def test_a_project_is_named_by_its_slug_from_creation_to_removal(tmp_path: Path) -> None:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    write_tree(
        tmp_path / "acme",
        {f"stories/US{n:04d}-s.md": f"# US{n:04d}: S\n\n> **Status:** Done\n" for n in range(30)},
    )
    server = start_server(database, tmp_path / "server.log", log_level="DEBUG")
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            body = {"name": "Acme", "sdlc_path": str(tmp_path / "acme")}
            assert client.post("/api/v1/projects", json=body).status_code == 201
            assert client.post("/api/v1/projects/acme/sync").status_code == 202
            assert wait_for_sync(client, "acme")["document_count"] == 30
            assert client.delete("/api/v1/projects/acme").status_code == 204
        log = server.wait_for_log("rows of deleted project")
    finally:
        server.stop(signal.SIGTERM)
    assert re.search(r"removed \d+ rows of deleted project acme in ", log), log
    assert "sync of acme finished: synced" in log
    numbered = [line for line in log.splitlines() if re.search(r"project \d", line)]
    assert numbered == []
