"""Health, the error envelope everywhere, API docs, start-up recovery."""

import re
import sqlite3
import tomllib
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from sdlc_lens import __version__
from sdlc_lens.config import Settings
from sdlc_lens.db.schema import MIGRATION_HEAD
from sdlc_lens.healthcheck import HEALTH_PATH
from sdlc_lens.main import create_app
from tests.fixtures import write_fixture_tree
from tests.helpers import (
    BACKEND_DIR,
    assert_error,
    db_file,
    migrate,
    register,
    sync,
    write_tree,
)


def test_health_when_ready(client: TestClient) -> None:
    response = client.get(HEALTH_PATH)
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "database": "connected",
        "version": __version__,
        "migration_ok": True,
        "fts_ok": True,
        "ready": True,
        "warnings": [],
    }


def test_version_is_the_package_version() -> None:
    pyproject = tomllib.loads((BACKEND_DIR / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]


def test_migration_head_constant_matches_the_scripts() -> None:
    script = ScriptDirectory.from_config(Config(str(BACKEND_DIR / "alembic.ini")))
    assert script.get_current_head() == MIGRATION_HEAD


def test_health_is_503_when_migrations_are_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"  # never migrated
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get(HEALTH_PATH)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy" and body["database"] == "connected"
    assert body["migration_ok"] is False and body["ready"] is False


def test_health_is_503_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "db-is-a-folder").mkdir()
    url = f"sqlite:///{tmp_path / 'db-is-a-folder'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get(HEALTH_PATH)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unhealthy",
        "database": "disconnected",
        "version": __version__,
        "migration_ok": False,
        "fts_ok": False,
        "ready": False,
        "warnings": [],
    }


def test_health_reports_a_missing_index_without_creating_it(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as client:
        with sqlite3.connect(db_file(database_url)) as conn:
            conn.execute("DROP TABLE documents_fts")
        response = client.get(HEALTH_PATH)
        assert response.status_code == 503
        assert response.json()["fts_ok"] is False and response.json()["migration_ok"] is True
        with sqlite3.connect(db_file(database_url)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "documents_fts" not in tables


def test_startup_recreates_and_refills_a_missing_index(database_url: str, tmp_path: Path) -> None:
    tree = write_fixture_tree(tmp_path, "recipe-box")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        register(client, "Tasks", tree)
        sync(client, "tasks")
    with sqlite3.connect(db_file(database_url)) as conn:
        conn.execute("DROP TRIGGER documents_fts_insert")
        conn.execute("DROP TRIGGER documents_fts_delete")
        conn.execute("DROP TRIGGER documents_fts_update")
        conn.execute("DROP TABLE documents_fts")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.get(HEALTH_PATH).status_code == 200
    with sqlite3.connect(db_file(database_url)) as conn:
        hits = conn.execute(
            "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'quantity'"
        ).fetchone()[0]
        expected = sum(
            "quantity" in p.read_text().lower() for p in tree.rglob("*.md") if p.name != "_index.md"
        )
    assert hits == expected > 0


def test_interrupted_sync_is_marked_on_startup(database_url: str, tmp_path: Path) -> None:
    write_tree(tmp_path / "p", {"prd.md": "# PRD\n"})
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        register(client, "P", tmp_path / "p")
    with sqlite3.connect(db_file(database_url)) as conn:
        conn.execute("UPDATE projects SET sync_status = 'syncing'")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        project = client.get("/api/v1/projects/p").json()
        assert project["sync_status"] == "error"
        assert "interrupted" in project["sync_error"] and "sync again" in project["sync_error"]
        # And it can be synced again straight away.
        assert sync(client, "p")["sync_status"] == "synced"


def test_unknown_api_route_uses_the_envelope(client: TestClient) -> None:
    assert_error(client.get("/api/v1/nothing/here"), 404, "NOT_FOUND")
    assert_error(client.get("/api/v2/projects"), 404, "NOT_FOUND")


def test_wrong_method_uses_the_envelope(client: TestClient) -> None:
    response = client.patch("/api/v1/projects")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "allow" in {k.lower() for k in response.headers}


def test_unexpected_errors_never_leak_their_text(settings: Settings) -> None:
    app = create_app(settings)

    def explode() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    app.add_api_route("/api/v1/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/explode")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "INTERNAL", "message": "Internal server error"}}
    assert "secret" not in response.text


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_api_docs_are_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_everything_from_this_server(client: TestClient, page: str) -> None:
    """Offline docs: no CDN, no web fonts, no online validator; every asset is served here."""
    html = client.get(page).text
    assert "http://" not in html and "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".png") for a in assets)
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].startswith(ASSET_TYPES[Path(asset).suffix])
        assert len(response.content) > 1000
    spec_url = re.search(r"(?:url: '|spec-url=\")(/[^'\"]+)", html)
    assert spec_url and spec_url.group(1) == "/openapi.json"
    if page == "/docs":
        assert '"validatorUrl": null' in html


def test_openapi_lists_the_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/system/health", "/api/v1/projects", "/api/v1/projects/{slug}/sync"} <= set(
        paths
    )


def test_migrations_create_the_database_folder(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "lens.db"
    migrate(f"sqlite+aiosqlite:///{target}")
    with sqlite3.connect(target) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"projects", "documents", "documents_fts", "alembic_version"} <= tables
    assert mode == "wal"


def test_the_root_names_the_product_and_links_the_docs_and_health(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "SDLC Lens" and body["version"] == __version__
    assert body["health"] == HEALTH_PATH and body["docs"] == "/docs"
    assert body["warnings"] == []  # no SDLC_LENS_PROJECTS_ROOT: nothing to warn of
    for link in (body["docs"], body["redoc"], body["health"], body["openapi"]):
        assert client.get(link).status_code == 200, link
