"""Helpers shared by the tests: paths, migrations, polling a sync, envelope checks."""

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = BACKEND_DIR.parent
CORPUS_DIR = REPO_DIR.parent / "shared" / "corpus"


def migrate(database_url: str, revision: str = "head") -> None:
    """Run the real Alembic migrations against `database_url`."""
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `{relative path: text or bytes}` below `root`; return `root`."""
    for rel_path, text in files.items():
        path = root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return root


def wait_for_sync(client: TestClient, slug: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll a project until its sync has finished, as the frontend does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        project = client.get(f"/api/v1/projects/{slug}").json()
        if project["sync_status"] != "syncing":
            return project
        time.sleep(0.02)
    raise AssertionError(f"sync of {slug} did not finish within {timeout}s")


def wait_until_runner_idle(client: TestClient, timeout: float = 60.0) -> None:
    """Wait until the background worker has done everything queued so far (syncs, purges)."""
    runner = client.app.state.sync_runner  # type: ignore[attr-defined]
    runner._executor.submit(lambda: None).result(timeout=timeout)


def register(client: TestClient, name: str, path: Path | str) -> dict[str, Any]:
    """Create a project and return its JSON, failing loudly if that did not work."""
    response = client.post("/api/v1/projects", json={"name": name, "sdlc_path": str(path)})
    assert response.status_code == 201, response.text
    return response.json()


def sync(client: TestClient, slug: str) -> dict[str, Any]:
    """Trigger a sync and wait for its outcome."""
    response = client.post(f"/api/v1/projects/{slug}/sync")
    assert response.status_code == 202, response.text
    return wait_for_sync(client, slug)


def assert_error(response: Any, status: int, code: str, message: str | None = None) -> None:
    """The response is the error envelope with this status, code and message substring."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    if message is not None:
        assert message in body["error"]["message"], body
