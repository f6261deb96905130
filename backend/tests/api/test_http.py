"""HTTP hygiene on every route: body size, integer ranges, HEAD, Allow, racing writes."""

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from sdlc_lens.api.middleware import MAX_BODY_BYTES
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import assert_error, db_file, register


def json_body_of_size(size: int, **fields: str) -> bytes:
    """A JSON object with `fields`, padded by an ignored key to exactly `size` bytes."""
    empty = json.dumps({**fields, "padding": ""}).encode()
    body = json.dumps({**fields, "padding": "a" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


# --- Request bodies over 1 MiB: 413 with the envelope --------------------------------------


def test_a_body_of_exactly_the_limit_is_accepted(client: TestClient, tmp_path: Path) -> None:
    body = json_body_of_size(MAX_BODY_BYTES, name="At Limit", sdlc_path=str(tmp_path))
    response = client.post(
        "/api/v1/projects", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("method", "path"), [("POST", "/projects"), ("PUT", "/projects/p")])
def test_a_declared_length_over_the_limit_is_413(
    client: TestClient, tmp_path: Path, method: str, path: str
) -> None:
    register(client, "P", tmp_path)
    body = json_body_of_size(MAX_BODY_BYTES + 1, name="Too Big", sdlc_path=str(tmp_path))
    response = client.request(
        method, "/api/v1" + path, content=body, headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE", "larger than 1048576 bytes")
    assert response.headers["connection"] == "close"
    assert [p["name"] for p in client.get("/api/v1/projects").json()] == ["P"]


def test_a_route_without_a_body_never_runs_for_an_oversized_one(
    client: TestClient, tmp_path: Path
) -> None:
    register(client, "P", tmp_path)
    response = client.request("DELETE", "/api/v1/projects/p", content=b"x" * (MAX_BODY_BYTES + 1))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert client.get("/api/v1/projects/p").status_code == 200


# --- Integers outside SQLite's 64-bit range: 422, never 500 -------------------------------

INT64_MAX = 2**63 - 1


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_an_integer_body_field_outside_64_bits_is_422(
    client: TestClient, tmp_path: Path, value: int
) -> None:
    register(client, "P", tmp_path)
    response = client.put("/api/v1/projects/p", json={"connection_id": value})
    assert_error(response, 422, "VALIDATION_ERROR", "connection_id")
    assert client.get("/api/v1/projects/p").json()["connection_id"] is None


def test_the_64_bit_extremes_reach_the_database(client: TestClient) -> None:
    body = {"name": "P", "source_type": "github", "repo_url": "https://github.com/a/b"}
    assert client.post("/api/v1/projects", json=body).status_code == 201
    with sqlite3.connect(db_file(client.app.state.settings.database_url)) as conn:  # type: ignore[attr-defined]
        conn.execute(
            "INSERT INTO github_connections (id, label, login, access_token, created_at, "
            "updated_at) VALUES (?, 'max', 'octocat', 'x', 't', 't')",
            (INT64_MAX,),
        )
    response = client.put("/api/v1/projects/p", json={"connection_id": INT64_MAX})
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/projects/p").json()["connection_id"] == INT64_MAX
    response = client.put("/api/v1/projects/p", json={"connection_id": -(2**63)})
    assert_error(response, 422, "VALIDATION_ERROR", f"{-(2**63)} is not a stored connection")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/p/documents?page={n}",
        "/api/v1/projects/p/documents?per_page={n}",
        "/api/v1/search?q=task&page={n}",
    ],
)
def test_an_integer_query_parameter_outside_64_bits_is_422(
    client: TestClient, tmp_path: Path, path: str
) -> None:
    register(client, "P", tmp_path)
    assert_error(client.get(path.format(n=2**63)), 422, "VALIDATION_ERROR")
    assert client.get(path.format(n=INT64_MAX)).status_code == 200


# --- HEAD wherever GET works; Allow lists every method of the path -------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/system/health",
        "/api/v1/projects",
        "/api/v1/projects/p",
        "/api/v1/projects/p/documents",
        "/api/v1/projects/p/stats",
        "/api/v1/stats",
        "/api/v1/search?q=task",
        "/openapi.json",
        "/docs",
    ],
)
def test_head_answers_like_get_without_a_body(
    client: TestClient, tmp_path: Path, path: str
) -> None:
    register(client, "P", tmp_path)
    get = client.get(path)
    head = client.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))


def test_head_of_a_missing_resource_is_404_without_a_body(client: TestClient) -> None:
    response = client.head("/api/v1/projects/nope")
    assert response.status_code == 404 and response.content == b""


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/api/v1/projects", "GET, HEAD, POST"),
        ("POST", "/api/v1/projects/p", "GET, HEAD, PUT, DELETE"),
        ("GET", "/api/v1/projects/p/sync", "POST"),
        ("HEAD", "/api/v1/projects/p/sync", "POST"),
        ("DELETE", "/api/v1/system/health", "GET, HEAD"),
    ],
)
def test_405_lists_every_method_of_the_path(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    if method != "HEAD":
        assert_error(response, 405, "METHOD_NOT_ALLOWED")


# --- A create answers with what it created, whatever commits right after it ----------------


def test_a_delete_right_after_the_insert_does_not_turn_a_create_into_a_404(
    settings: Settings, tmp_path: Path
) -> None:
    """A DELETE commits the moment the create's INSERT has committed and its connection
    goes back to the pool: the create still answers 201 with the project it made."""
    app = create_app(settings)
    database = settings.database_url.removeprefix("sqlite:///")
    inserting: list[object] = []  # the DB-API connection that ran the INSERT
    deleted: list[int] = []  # rows the racing DELETE removed

    def note_insert(conn: Any, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PROJECTS"):
            inserting.append(conn.connection.dbapi_connection)

    def delete_once_the_insert_is_released(dbapi_connection: object, *_args: object) -> None:
        # Only the checkin of the connection that inserted: another connection going back
        # to the pool earlier would race the still-open INSERT and find the row absent.
        if inserting and dbapi_connection is inserting[0] and not deleted:
            with sqlite3.connect(database) as other:
                deleted.append(other.execute("DELETE FROM projects WHERE slug = 'racer'").rowcount)

    event.listen(app.state.engine, "after_cursor_execute", note_insert)
    event.listen(app.state.engine.pool, "checkin", delete_once_the_insert_is_released)
    with TestClient(app) as client:
        response = client.post("/api/v1/projects", json={"name": "Racer", "sdlc_path": "/tmp"})
        assert deleted == [1], "the racing DELETE did not remove the new row"
        assert response.status_code == 201, response.text
        assert response.json()["slug"] == "racer" and response.json()["document_count"] == 0
        assert_error(client.get("/api/v1/projects/racer"), 404, "NOT_FOUND")


# --- Text that no database or UTF-8 answer can hold: 422, never 500 ------------------------


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("POST", "/api/v1/projects", "name"),
        ("POST", "/api/v1/projects", "sdlc_path"),
        ("PUT", "/api/v1/projects/p", "sdlc_path"),
        ("PUT", "/api/v1/projects/p", "repo_url"),
        ("PUT", "/api/v1/projects/p", "repo_branch"),
        ("PUT", "/api/v1/projects/p", "access_token"),
    ],
)
def test_a_lone_surrogate_in_any_text_field_is_422(
    client: TestClient, tmp_path: Path, method: str, path: str, field: str
) -> None:
    register(client, "P", tmp_path)
    body = {"name": "Q", "sdlc_path": str(tmp_path), field: "x\\ud800y"}
    raw = json.dumps(body).replace("\\\\ud800", "\\ud800").encode()  # a JSON \u escape
    response = client.request(
        method, path, content=raw, headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "VALIDATION_ERROR", f"{field}: ")
