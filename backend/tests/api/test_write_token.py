"""SDLC_LENS_API_TOKEN: with it, changes need `Authorization: Bearer <token>`; reads never do."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import register, wait_for_sync

TOKEN = "s3cret-token-for-tests-0123456789"
SPA = "http://spa.example:5173"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def protected(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    (tmp_path / "acme" / "stories").mkdir(parents=True)
    (tmp_path / "acme" / "stories" / "US0001-a.md").write_text(
        "# US0001: A\n\n> **Status:** Done\n"
    )
    settings = Settings(database_url=database_url, api_token=TOKEN, cors_origins=SPA)
    with TestClient(create_app(settings)) as client:
        yield client


def writes(tmp_path: Path) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every state-changing request of the API, on project `acme`."""
    return [
        ("POST", "/api/v1/projects", {"name": "Other", "sdlc_path": str(tmp_path / "acme")}),
        ("PUT", "/api/v1/projects/acme", {"name": "Acme 2"}),
        ("POST", "/api/v1/projects/acme/sync", None),
        ("DELETE", "/api/v1/projects/acme", None),
    ]


def test_every_change_without_the_token_is_401_and_changes_nothing(
    protected: TestClient, tmp_path: Path
) -> None:
    created = protected.post(
        "/api/v1/projects",
        json={"name": "Acme", "sdlc_path": str(tmp_path / "acme")},
        headers=BEARER,
    )
    assert created.status_code == 201
    before = protected.get("/api/v1/projects/acme").json()
    for method, path, body in writes(tmp_path):
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-wrong-token-0"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
            {"Authorization": f"Bearer {TOKEN}x"},
        ):
            response = protected.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"]["code"] == "UNAUTHORIZED"
            assert TOKEN not in response.text
    assert protected.get("/api/v1/projects/acme").json() == before
    assert [p["slug"] for p in protected.get("/api/v1/projects").json()] == ["acme"]


def test_every_change_with_the_token_goes_through(protected: TestClient, tmp_path: Path) -> None:
    answers = []
    for method, path, body in writes(tmp_path):
        if method == "PUT":  # the project must exist first
            created = protected.post(
                "/api/v1/projects",
                json={"name": "Acme", "sdlc_path": str(tmp_path / "acme")},
                headers={"Authorization": f"bearer  {TOKEN} "},  # any case, spaces around
            )
            assert created.status_code == 201, created.text
        answers.append(protected.request(method, path, json=body, headers=BEARER).status_code)
        if method == "POST" and path.endswith("/sync"):
            assert wait_for_sync(protected, "acme")["document_count"] == 1
    assert answers == [201, 200, 202, 204]


def test_reads_preflights_and_head_stay_open(protected: TestClient, tmp_path: Path) -> None:
    created = protected.post(
        "/api/v1/projects",
        json={"name": "Acme", "sdlc_path": str(tmp_path / "acme")},
        headers=BEARER,
    )
    assert created.status_code == 201
    for path in ("/", "/api/v1/projects", "/api/v1/projects/acme", "/api/v1/system/health",
                 "/api/v1/version", "/api/v1/search?q=a", "/openapi.json", "/docs"):  # fmt: skip
        assert protected.get(path).status_code == 200, path
        assert protected.head(path).status_code == 200, path
    preflight = protected.options(
        "/api/v1/projects",
        headers={
            "Origin": SPA,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_a_refused_change_still_carries_cors_headers(protected: TestClient) -> None:
    """A browser app must be able to read the 401 to tell its user what is missing."""
    response = protected.post("/api/v1/projects", json={}, headers={"Origin": SPA})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == SPA


def test_without_the_setting_changes_need_no_token(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    assert register(client, "Acme", tmp_path / "acme")["slug"] == "acme"
    assert client.delete("/api/v1/projects/acme").status_code == 204
    assert "securitySchemes" not in client.get("/openapi.json").json()["components"]


def test_the_description_documents_the_token_on_changes_only(protected: TestClient) -> None:
    description = protected.get("/openapi.json").json()
    scheme = description["components"]["securitySchemes"]["writeToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, operations in description["paths"].items():
        for method, operation in operations.items():
            is_write = method in ("post", "put", "patch", "delete")
            assert ("security" in operation) == is_write, (method, path)
            assert ("401" in operation["responses"]) == is_write, (method, path)
    # The documented 401 is the one a real request gets.
    answer = description["paths"]["/api/v1/projects"]["post"]["responses"]["401"]
    media = answer["content"]["application/json"]
    validator = Draft202012Validator({**media["schema"], "components": description["components"]})
    real = protected.post("/api/v1/projects", json={})
    assert list(validator.iter_errors(real.json())) == []
    assert real.json() == media["example"]


def test_the_token_can_come_from_a_file(database_url: str, tmp_path: Path) -> None:
    secret = tmp_path / "lens_token"
    secret.write_text(TOKEN + "\n")  # as `echo` and secret managers write it
    settings = Settings(database_url=database_url, api_token_file=str(secret))
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/projects", json={}).status_code == 401
        assert client.post("/api/v1/projects", json={}, headers=BEARER).status_code == 422
