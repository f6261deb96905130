"""CORS: a single-page app served from another origin can call the API when allowed."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.api.middleware import MAX_BODY_BYTES
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app

SPA = "http://spa.example:5173"
OTHER = "http://evil.example"
ACAO = "access-control-allow-origin"


@pytest.fixture
def cors_client(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, cors_origins=f"{SPA}/, http://second.example")
    with TestClient(create_app(settings)) as client:
        yield client


def preflight(client: TestClient, path: str, method: str, origin: str = SPA):
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type",
    }
    return client.options(path, headers=headers)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/projects"),
        ("POST", "/api/v1/projects"),
        ("PUT", "/api/v1/projects/acme"),
        ("DELETE", "/api/v1/projects/acme"),
        ("POST", "/api/v1/projects/acme/sync"),
        ("GET", "/api/v1/search"),
    ],
)
def test_preflights_from_an_allowed_origin_are_answered(
    cors_client: TestClient, method: str, path: str
) -> None:
    response = preflight(cors_client, path, method)
    assert response.status_code == 200
    assert response.headers[ACAO] == SPA
    assert method in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_simple_requests_and_errors_carry_the_origin(
    cors_client: TestClient, tmp_path: Path
) -> None:
    listed = cors_client.get("/api/v1/projects", headers={"Origin": SPA})
    assert listed.status_code == 200 and listed.headers[ACAO] == SPA
    created = cors_client.post(
        "/api/v1/projects",
        json={"name": "Acme", "sdlc_path": str(tmp_path)},
        headers={"Origin": "http://second.example"},
    )
    assert created.status_code == 201 and created.headers[ACAO] == "http://second.example"
    # The SPA must be able to read the error envelope too.
    missing = cors_client.get("/api/v1/projects/nope", headers={"Origin": SPA})
    assert missing.status_code == 404 and missing.headers[ACAO] == SPA
    too_big = cors_client.post(
        "/api/v1/projects",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Origin": SPA, "content-type": "application/json"},
    )
    assert too_big.status_code == 413 and too_big.headers[ACAO] == SPA


def test_other_origins_get_no_cors_headers(cors_client: TestClient) -> None:
    refused = preflight(cors_client, "/api/v1/projects", "POST", origin=OTHER)
    assert refused.status_code == 400 and ACAO not in refused.headers
    response = cors_client.get("/api/v1/projects", headers={"Origin": OTHER})
    assert response.status_code == 200 and ACAO not in response.headers


def test_without_the_setting_no_origin_is_allowed(client: TestClient) -> None:
    response = preflight(client, "/api/v1/projects", "POST")
    assert response.status_code == 405 and ACAO not in response.headers
    response = client.get("/api/v1/projects", headers={"Origin": SPA})
    assert response.status_code == 200 and ACAO not in response.headers


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        (None, []),
        ("", []),
        (" , ", []),
        ("http://a.example", ["http://a.example"]),
        (
            "http://a.example/, https://b.example:8443",
            ["http://a.example", "https://b.example:8443"],
        ),
        ("*", ["*"]),
    ],
)
def test_the_setting_is_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, value: str | None, origins: list[str]
) -> None:
    if value is None:
        monkeypatch.delenv("SDLC_LENS_CORS_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("SDLC_LENS_CORS_ORIGINS", value)
    assert Settings().cors_origins == origins


def test_a_form_post_from_another_site_does_not_start_a_sync(
    cors_client: TestClient, tmp_path: Path
) -> None:
    # CORS hides the answer from the page, not the request from the server: a plain form post
    # (a "simple request", no preflight) reached the route and started a sync.
    folder = tmp_path / "sdlc-studio"
    (folder / "stories").mkdir(parents=True)
    (folder / "stories" / "US0001-a.md").write_text("# US0001: A\n")
    assert cors_client.post(
        "/api/v1/projects", json={"name": "Acme", "sdlc_path": str(folder)}
    ).is_success
    form = {"Origin": OTHER, "content-type": "application/x-www-form-urlencoded"}
    response = cors_client.post("/api/v1/projects/acme/sync", headers=form)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "CROSS_SITE_REQUEST"
    assert "SDLC_LENS_CORS_ORIGINS" in response.json()["error"]["message"]
    assert cors_client.get("/api/v1/projects/acme").json()["sync_status"] == "never_synced"
    for method in ("PUT", "DELETE"):
        refused = cors_client.request(method, "/api/v1/projects/acme", headers={"Origin": OTHER})
        assert refused.status_code == 403, method
    assert cors_client.get("/api/v1/projects/acme").json()["name"] == "Acme"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl and scripts send no Origin
        {"Origin": SPA},  # listed in SDLC_LENS_CORS_ORIGINS
        {"Origin": "http://testserver"},  # the service's own pages (Host: testserver)
    ],
    ids=["no-origin", "allowed-origin", "same-origin"],
)
def test_writes_from_allowed_origins_go_through(
    cors_client: TestClient, tmp_path: Path, headers: dict[str, str]
) -> None:
    response = cors_client.post(
        "/api/v1/projects", json={"name": "Acme", "sdlc_path": str(tmp_path)}, headers=headers
    )
    assert response.status_code == 201, response.text


def test_without_cors_origins_only_same_origin_pages_may_write(client: TestClient) -> None:
    response = client.delete("/api/v1/projects/none", headers={"Origin": SPA})
    assert response.status_code == 403
    response = client.delete("/api/v1/projects/none", headers={"Origin": "null"})
    assert response.status_code == 403  # a sandboxed page or a local file
    assert client.delete("/api/v1/projects/none").status_code == 404


def test_any_origin_allowed_means_any_origin_may_write(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url, cors_origins="*"))) as client:
        assert client.delete("/api/v1/projects/x", headers={"Origin": OTHER}).status_code == 404
