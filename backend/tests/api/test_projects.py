"""Projects API (SPEC §4): shapes, slugs, validation order, error codes, bad input."""

import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from sdlc_lens.services.projects import registry as projects_service
from sdlc_lens.services.projects.registry import slugify
from tests.fixtures import write_fixture_tree
from tests.helpers import assert_error, migrate, register, sync, wait_until_runner_idle


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "proj" / "sdlc-studio"
    path.mkdir(parents=True)
    return path


def test_create_returns_the_full_project(client: TestClient, folder: Path) -> None:
    response = client.post(
        "/api/v1/projects", json={"name": "Acme Portal", "sdlc_path": str(folder)}
    )
    assert response.status_code == 201
    body = response.json()  # its keys: test_contract.py checks them against the model
    assert body["slug"] == "acme-portal"
    assert body["name"] == "Acme Portal"
    assert body["sdlc_path"] == str(folder)
    assert body["source_type"] == "local"
    assert body["repo_branch"] == "main" and body["repo_path"] == "sdlc-studio"
    assert body["sync_status"] == "never_synced"
    assert body["last_synced_at"] is None and body["document_count"] == 0
    assert body["auto_sync"] is False and body["masked_token"] is None
    assert body["sync_progress"] is None
    # Explicit UTC offset, microsecond precision (SPEC §12: naive timestamps).
    assert body["created_at"].endswith("+00:00") and "." in body["created_at"]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Cool Project", "my-cool-project"),
        ("Hello @World #2024!", "hello-world-2024"),
        ("test__project", "test-project"),
        ("Café Ünïcode", "cafe-unicode"),
        ("  spaced  out  ", "spaced-out"),
        ("a - b", "a-b"),
        ("!!!", ""),
        ("   ", ""),
        ("日本語", ""),
    ],
)
def test_slug_rules(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_slug_examples_through_the_api(client: TestClient, folder: Path) -> None:
    assert register(client, "Hello @World #2024!", folder)["slug"] == "hello-world-2024"
    assert register(client, "Café Ünïcode", folder)["slug"] == "cafe-unicode"


def test_names_that_collide_on_slug_conflict(client: TestClient, folder: Path) -> None:
    register(client, "Hello World", folder)
    response = client.post(
        "/api/v1/projects", json={"name": "Hello_World", "sdlc_path": str(folder)}
    )
    assert_error(response, 409, "CONFLICT", "Project slug already exists")
    assert len(client.get("/api/v1/projects").json()) == 1


def test_list_is_ordered_by_creation_with_live_counts(client: TestClient, folder: Path) -> None:
    assert client.get("/api/v1/projects").json() == []
    for name in ("Zeta", "Alpha", "Mid"):
        register(client, name, folder)
    register(client, "Corpus", write_fixture_tree(folder.parent, "recipe-box"))
    sync(client, "corpus")
    listed = client.get("/api/v1/projects").json()
    assert [p["slug"] for p in listed] == ["zeta", "alpha", "mid", "corpus"]
    assert [p["document_count"] for p in listed] == [0, 0, 0, 38]


def test_the_list_pages_on_request_with_the_same_items_and_counts(
    client: TestClient, folder: Path
) -> None:
    for name in ("Zeta", "Alpha", "Mid", "Last"):
        register(client, name, folder)
    register(client, "Corpus", write_fixture_tree(folder.parent, "recipe-box"))
    sync(client, "corpus")
    whole = client.get("/api/v1/projects")
    assert whole.headers["X-Total-Count"] == "5"
    for limit, offset in ((2, 0), (2, 2), (2, 4), (3, 3), (1000, 0), (5, 7)):
        page = client.get("/api/v1/projects", params={"limit": limit, "offset": offset})
        assert page.status_code == 200
        # A slice of the whole list, the document counts included.
        assert page.json() == whole.json()[offset : offset + limit]
        assert page.headers["X-Total-Count"] == "5"
    assert client.get("/api/v1/projects", params={"offset": 3}).json() == whole.json()[3:]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "all"}):
        assert client.get("/api/v1/projects", params=bad).status_code == 422


def test_list_runs_a_fixed_number_of_queries(settings: Settings, folder: Path) -> None:
    app = create_app(settings)
    statements: list[str] = []
    event.listen(
        app.state.engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )

    def queries_for_list(client: TestClient) -> int:
        statements.clear()
        assert client.get("/api/v1/projects").status_code == 200
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    with TestClient(app) as client:
        register(client, "One", folder)
        with_one = queries_for_list(client)
        for index in range(12):
            register(client, f"Project {index}", folder)
        # The list, and the total it sends in X-Total-Count.
        assert queries_for_list(client) == with_one == 2


def test_get_unknown_project_is_404(client: TestClient) -> None:
    assert_error(client.get("/api/v1/projects/nope"), 404, "NOT_FOUND", "Project not found")


def test_update_renames_but_keeps_the_slug(client: TestClient, folder: Path) -> None:
    created = register(client, "Old Name", folder)
    response = client.put("/api/v1/projects/old-name", json={"name": "New Name"})
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "old-name" and body["name"] == "New Name"
    assert body["created_at"] == created["created_at"]
    assert client.get("/api/v1/projects/old-name").json()["name"] == "New Name"


def test_update_needs_at_least_one_field(client: TestClient, folder: Path) -> None:
    register(client, "P", folder)
    response = client.put("/api/v1/projects/p", json={})
    assert_error(response, 422, "VALIDATION_ERROR", "At least one field must be provided")
    response = client.put("/api/v1/projects/p", json={"unknown": 1})
    assert_error(response, 422, "VALIDATION_ERROR", "At least one field must be provided")


def test_update_explicit_null_token_counts_as_a_field(client: TestClient, folder: Path) -> None:
    register(client, "P", folder)
    assert client.put("/api/v1/projects/p", json={"connection_id": None}).status_code == 200
    assert client.put("/api/v1/projects/p", json={"access_token": None}).status_code == 200


def test_update_validates_the_body_before_looking_up_the_project(client: TestClient) -> None:
    assert_error(client.put("/api/v1/projects/ghost", json={}), 422, "VALIDATION_ERROR")
    assert_error(
        client.put("/api/v1/projects/ghost", json={"name": "x"}),
        404,
        "NOT_FOUND",
        "Project not found",
    )


def test_update_with_a_bad_path_persists_nothing(client: TestClient, folder: Path) -> None:
    register(client, "P", folder)
    response = client.put(
        "/api/v1/projects/p", json={"name": "Renamed", "sdlc_path": str(folder / "missing")}
    )
    assert_error(response, 400, "PATH_NOT_FOUND", "does not exist on filesystem")
    after = client.get("/api/v1/projects/p").json()
    assert after["name"] == "P" and after["sdlc_path"] == str(folder)


def test_update_name_only_does_not_recheck_the_path(client: TestClient, folder: Path) -> None:
    register(client, "P", folder)
    folder.rmdir()
    assert client.put("/api/v1/projects/p", json={"name": "Still here"}).status_code == 200


def test_update_repoints_to_a_new_folder(client: TestClient, folder: Path, tmp_path: Path) -> None:
    register(client, "P", folder)
    other = tmp_path / "other"
    other.mkdir()
    response = client.put("/api/v1/projects/p", json={"sdlc_path": str(other) + "/"})
    assert response.status_code == 200
    assert response.json()["sdlc_path"] == str(other)


def test_delete_removes_project_documents_and_index(client: TestClient, tmp_path: Path) -> None:
    register(client, "Tasks", write_fixture_tree(tmp_path, "recipe-box"))
    sync(client, "tasks")
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM documents").scalar() == 38
        # The FTS index answers for the project's words before the delete.
        hits = "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'recipe'"
        assert conn.exec_driver_sql(hits).scalar() > 0
    response = client.delete("/api/v1/projects/tasks")
    assert response.status_code == 204 and response.content == b""
    assert_error(client.get("/api/v1/projects/tasks"), 404, "NOT_FOUND")
    assert_error(client.delete("/api/v1/projects/tasks"), 404, "NOT_FOUND", "Project not found")
    # Gone for clients at once; the rows themselves are removed in the background.
    assert client.get("/api/v1/search", params={"q": "recipe"}).json()["total"] == 0
    wait_until_runner_idle(client)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM documents").scalar() == 0
        assert conn.exec_driver_sql(hits).scalar() == 0
        # The index's own row count: nothing stale is left behind.
        docsize = "SELECT count(*) FROM documents_fts_docsize"
        assert conn.exec_driver_sql(docsize).scalar() == 0


def count_rows(client: TestClient, sql: str) -> int:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(sql).scalar() or 0)


def test_a_large_delete_removes_rows_in_batches(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(projects_service, "PURGE_BATCH_ROWS", 10)  # 38 documents: 4 batches
    register(client, "Tasks", write_fixture_tree(tmp_path, "recipe-box"))
    sync(client, "tasks")
    register(client, "Other", write_fixture_tree(tmp_path, "garden-monitor"))
    kept = sync(client, "other")["document_count"]
    assert client.delete("/api/v1/projects/tasks").status_code == 204
    wait_until_runner_idle(client)
    assert count_rows(client, "SELECT count(*) FROM documents") == kept
    assert count_rows(client, "SELECT count(*) FROM documents_fts_docsize") == kept
    assert client.get("/api/v1/projects/other").json()["document_count"] == kept


def test_a_project_created_while_a_deleted_one_is_purged_starts_empty(
    client: TestClient, folder: Path
) -> None:
    register(client, "Tasks", write_fixture_tree(folder.parent, "recipe-box"))
    sync(client, "tasks")
    release = threading.Event()
    client.app.state.sync_runner._executor.submit(release.wait)  # type: ignore[attr-defined]
    try:
        assert client.delete("/api/v1/projects/tasks").status_code == 204
        # The deleted project's rows are still there: the new project must not inherit them.
        created = register(client, "Fresh", folder)
        assert created["document_count"] == 0
        assert client.get("/api/v1/projects/fresh/documents").json()["total"] == 0
    finally:
        release.set()
    wait_until_runner_idle(client)
    assert count_rows(client, "SELECT count(*) FROM documents") == 0
    assert client.get("/api/v1/projects/fresh").status_code == 200


def test_a_purge_cut_short_is_finished_at_the_next_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    migrate(url)
    with TestClient(create_app(Settings(database_url=url))) as client:
        register(client, "Tasks", write_fixture_tree(tmp_path, "recipe-box"))
        sync(client, "tasks")
    # What a stop in the middle of a purge leaves: the project row gone, its documents not.
    with sqlite3.connect(tmp_path / "lens.db") as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM projects")
    with TestClient(create_app(Settings(database_url=url))) as client:
        wait_until_runner_idle(client)
        assert count_rows(client, "SELECT count(*) FROM documents") == 0
        assert count_rows(client, "SELECT count(*) FROM documents_fts_docsize") == 0


# --- Bad input: every case gets a 4xx with the envelope, never a 500. ---------------------


def post(client: TestClient, **body: object):
    return client.post("/api/v1/projects", json=body)


def test_nonexistent_path_is_400(client: TestClient, tmp_path: Path) -> None:
    response = post(client, name="P", sdlc_path=str(tmp_path / "nope"))
    assert_error(response, 400, "PATH_NOT_FOUND", "Project sdlc-studio path does not exist")


def test_a_file_instead_of_a_folder_is_400(client: TestClient, tmp_path: Path) -> None:
    file = tmp_path / "prd.md"
    file.write_text("# PRD\n")
    response = post(client, name="P", sdlc_path=str(file))
    assert_error(response, 400, "PATH_NOT_A_DIRECTORY", f"is a file, not a folder: {file}")


def test_relative_path_resolves_against_the_server_directory(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here" / "sdlc-studio").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "here")
    response = post(client, name="Rel", sdlc_path="sdlc-studio")
    assert response.status_code == 201
    assert response.json()["sdlc_path"] == str(tmp_path / "here" / "sdlc-studio")
    assert_error(post(client, name="Rel2", sdlc_path="not-here"), 400, "PATH_NOT_FOUND")


def test_dot_dot_is_resolved_away(client: TestClient, folder: Path) -> None:
    dotted = f"{folder}/../sdlc-studio/./"
    response = post(client, name="Dots", sdlc_path=dotted)
    assert response.status_code == 201
    assert response.json()["sdlc_path"] == str(folder)


def test_nul_byte_in_path_is_400(client: TestClient, folder: Path) -> None:
    assert_error(post(client, name="P", sdlc_path=f"{folder}\x00/etc"), 400, "PATH_NOT_FOUND")


def test_five_thousand_character_path_is_400(client: TestClient, tmp_path: Path) -> None:
    long_path = str(tmp_path) + "/" + "a" * 5000
    assert_error(post(client, name="P", sdlc_path=long_path), 400, "PATH_NOT_FOUND")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "name: String should have at least 1 character"),
        ("x" * 201, "name: String should have at most 200 characters"),
        ("x" * 10_000, "name: String should have at most 200 characters"),
    ],
)
def test_bad_names_are_422(client: TestClient, folder: Path, name: str, message: str) -> None:
    assert_error(post(client, name=name, sdlc_path=str(folder)), 422, "VALIDATION_ERROR", message)


@pytest.mark.parametrize("name", ["   ", "!!!", "日本語"])
def test_names_that_slug_to_nothing_are_422(client: TestClient, folder: Path, name: str) -> None:
    response = post(client, name=name, sdlc_path=str(folder))
    assert_error(response, 422, "VALIDATION_ERROR", "produces an empty slug")


def test_two_hundred_character_name_is_accepted(client: TestClient, folder: Path) -> None:
    assert post(client, name="x" * 200, sdlc_path=str(folder)).status_code == 201


def test_missing_fields_are_named(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={})
    assert_error(response, 422, "VALIDATION_ERROR", "name: Field required")


def test_local_project_needs_a_path(client: TestClient) -> None:
    response = post(client, name="P")
    assert_error(response, 422, "VALIDATION_ERROR", "'sdlc_path' is required for local source type")
    assert_error(post(client, name="P", sdlc_path="  "), 422, "VALIDATION_ERROR")


def test_unknown_source_type_is_422(client: TestClient, folder: Path) -> None:
    response = post(client, name="P", sdlc_path=str(folder), source_type="ftp")
    assert_error(response, 422, "VALIDATION_ERROR", "source_type")


def test_unknown_json_fields_are_ignored(client: TestClient, folder: Path) -> None:
    response = post(client, name="P", sdlc_path=str(folder), colour="blue", slug="forced")
    assert response.status_code == 201
    assert response.json()["slug"] == "p"


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"not json", {"content-type": "application/json"}),
        (b'{"name": "P", ', {"content-type": "application/json"}),
        (b"[1, 2]", {"content-type": "application/json"}),
        (b"name=P", {"content-type": "application/x-www-form-urlencoded"}),
    ],
)
def test_non_json_bodies_are_422(client: TestClient, content: bytes, headers: dict) -> None:
    response = client.post("/api/v1/projects", content=content, headers=headers)
    assert_error(response, 422, "VALIDATION_ERROR")


def test_allowed_base_refuses_paths_outside(database_url: str, tmp_path: Path) -> None:
    base = tmp_path / "allowed"
    inside = base / "team" / "sdlc-studio"
    inside.mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (base / "sneaky").symlink_to(outside)
    settings = Settings(database_url=database_url, allowed_project_base=base)
    with TestClient(create_app(settings)) as client:
        assert post(client, name="In", sdlc_path=str(inside)).status_code == 201
        message = "sdlc_path must be within the allowed base"
        assert_error(
            post(client, name="Out", sdlc_path=str(outside)), 400, "PATH_OUTSIDE_BASE", message
        )
        # Through a symlink inside the base, and through `..`: both resolve outside.
        assert_error(
            post(client, name="Link", sdlc_path=str(base / "sneaky")),
            400,
            "PATH_OUTSIDE_BASE",
            message,
        )
        dotted = str(base / "team" / ".." / ".." / "elsewhere")
        response = post(client, name="Dots", sdlc_path=dotted)
        assert_error(response, 400, "PATH_OUTSIDE_BASE", message)
        response = client.put("/api/v1/projects/in", json={"sdlc_path": str(outside)})
        assert_error(response, 400, "PATH_OUTSIDE_BASE", message)
