"""Stored GitHub connections (SPEC-3 §17): the five routes of the Settings page, against a
GitHub API stand-in that checks what it is sent."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from harness.github_api import GitHubStandIn
from harness.processes import free_port
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from sdlc_lens.services.connections.github import MAX_RESPONSE_BYTES
from sdlc_lens.services.tokens import ENCRYPTED_PREFIX
from tests.helpers import assert_error, db_file, insert_connection

C = "/api/v1/connections"
ALICE, BOB = "ghp_aliceToken0001", "ghp_bobToken0002"


@pytest.fixture
def github(github: GitHubStandIn) -> GitHubStandIn:
    github.add_user(ALICE, "alice", repos=["alice/notes"])
    github.add_user(BOB, "bob")
    return github


@contextmanager
def app(database_url: str, **settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url, **settings))) as client:
        yield client


def create(client: TestClient, label: str = "Work", token: str = ALICE) -> Any:
    return client.post(C, json={"label": label, "access_token": token})


def stored_tokens(client: TestClient) -> list[str]:
    with sqlite3.connect(db_file(client.app.state.settings.database_url)) as conn:  # type: ignore[attr-defined]
        return [row[0] for row in conn.execute("SELECT access_token FROM github_connections")]


def test_a_connection_is_stored_once_github_accepts_its_token(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    response = create(github_client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "label", "login", "masked_token", "created_at", "last_validated_at"}
    assert (body["label"], body["login"], body["masked_token"]) == ("Work", "alice", "****0001")
    assert body["created_at"] == body["last_validated_at"]
    assert github_client.get(C).json() == [body]
    # What GitHub was sent (SPEC-3 §17): its headers, the token as a bearer token.
    [request] = github.seen("/user")
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["authorization"] == f"Bearer {ALICE}"
    assert request.headers["user-agent"].startswith("sdlc-lens/")


def test_connections_are_listed_oldest_first(github_client: TestClient) -> None:
    assert github_client.get(C).json() == []
    for label in ("Zeta", "Alpha", "Mid"):
        assert create(github_client, label).status_code == 201
    assert [c["label"] for c in github_client.get(C).json()] == ["Zeta", "Alpha", "Mid"]


def test_a_refused_token_stores_nothing(github_client: TestClient) -> None:
    response = create(github_client, token="ghp_wrong")
    assert_error(response, 401, "INVALID_TOKEN", "GitHub refused the token (401)")
    assert "ghp_wrong" not in response.text
    assert github_client.get(C).json() == []


def test_a_taken_label_is_409_without_asking_github(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    create(github_client)
    asked = len(github.requests)
    response = create(github_client, "WORK", BOB)
    assert_error(response, 409, "LABEL_EXISTS", "A connection labelled 'WORK' already exists")
    assert len(github.requests) == asked
    assert len(github_client.get(C).json()) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"label": "", "access_token": ALICE}, "label: String should have at least 1"),
        ({"label": "   ", "access_token": ALICE}, "label: String should match pattern"),
        ({"label": "x" * 101, "access_token": ALICE}, "label: String should have at most 100"),
        ({"label": "Work", "access_token": ""}, "access_token"),
        ({"label": "Work", "access_token": "with space"}, "access_token"),
        ({"label": "Work"}, "access_token: Field required"),
        ({"access_token": ALICE}, "label: Field required"),
    ],
)
def test_bad_bodies_are_422_and_reach_no_github(
    github_client: TestClient, github: GitHubStandIn, body: dict[str, Any], message: str
) -> None:
    assert_error(github_client.post(C, json=body), 422, "VALIDATION_ERROR", message)
    assert github.requests == []


def test_a_hundred_character_label_is_accepted(github_client: TestClient) -> None:
    assert create(github_client, "x" * 100).status_code == 201


def test_a_new_token_is_checked_before_it_replaces_the_old(github_client: TestClient) -> None:
    connection = create(github_client).json()
    response = github_client.put(f"{C}/{connection['id']}", json={"access_token": "ghp_bad"})
    assert_error(response, 401, "INVALID_TOKEN")
    assert github_client.get(C).json() == [connection]
    assert stored_tokens(github_client) == [ALICE]
    response = github_client.put(f"{C}/{connection['id']}", json={"access_token": BOB})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["login"], body["masked_token"]) == ("bob", "****0002")
    assert (body["id"], body["label"], body["created_at"]) == (
        connection["id"],
        "Work",
        connection["created_at"],
    )
    assert body["last_validated_at"] > connection["last_validated_at"]
    assert stored_tokens(github_client) == [BOB]


def test_validate_refreshes_login_and_check_time(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    connection = create(github_client).json()
    github.logins[ALICE] = "alice-renamed"  # the user renamed their account
    time.sleep(0.001)
    response = github_client.post(f"{C}/{connection['id']}/validate")
    assert response.status_code == 200, response.text
    assert response.json()["login"] == "alice-renamed"
    assert response.json()["last_validated_at"] > connection["last_validated_at"]
    del github.logins[ALICE]  # revoked
    response = github_client.post(f"{C}/{connection['id']}/validate")
    assert_error(response, 401, "INVALID_TOKEN", "revoked")
    assert github_client.get(C).json()[0]["login"] == "alice-renamed"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", f"{C}/999", {"access_token": ALICE}),
        ("POST", f"{C}/999/validate", None),
        ("DELETE", f"{C}/999", None),
    ],
)
def test_unknown_connections_are_404(
    github_client: TestClient, github: GitHubStandIn, method: str, path: str, body: Any
) -> None:
    response = github_client.request(method, path, json=body)
    assert_error(response, 404, "NOT_FOUND", "Connection not found")
    assert github.requests == []


def test_a_connection_in_use_cannot_be_deleted(github_client: TestClient) -> None:
    connection = create(github_client).json()["id"]
    for name in ("Web", "Api"):
        body = {"name": name, "source_type": "github", "repo_url": "https://github.com/a/b"}
        github_client.post("/api/v1/projects", json={**body, "connection_id": connection})
    response = github_client.delete(f"{C}/{connection}")
    assert_error(
        response, 409, "CONNECTION_IN_USE", "Connection 'Work' is used by project(s) Api, Web"
    )
    assert len(github_client.get(C).json()) == 1
    for slug in ("web", "api"):
        github_client.put(f"/api/v1/projects/{slug}", json={"connection_id": None})
    assert github_client.delete(f"{C}/{connection}").status_code == 204
    assert github_client.get(C).json() == []
    # A project cannot name it any more.
    response = github_client.put("/api/v1/projects/web", json={"connection_id": connection})
    assert_error(response, 422, "VALIDATION_ERROR", "is not a stored connection")


@pytest.mark.parametrize(
    ("kind", "retry_after"), [("retry", 42), ("remaining", 600)]
)  # 429 + retry-after; 403 + x-ratelimit-remaining: 0 and a reset 600 s away
def test_rate_limits_are_429_passing_retry_after_on(
    github_client: TestClient, github: GitHubStandIn, kind: str, retry_after: int
) -> None:
    github.rate_limited[ALICE] = kind
    response = create(github_client)
    assert_error(response, 429, "RATE_LIMITED", "GitHub is rate limiting this token")
    assert abs(int(response.headers["retry-after"]) - retry_after) <= 2
    assert github_client.get(C).json() == []


def test_github_failures_are_502(github_client: TestClient, github: GitHubStandIn) -> None:
    github.broken_paths["/user"] = 500
    response = create(github_client)
    assert_error(response, 502, "GITHUB_ERROR", "GitHub answered 500 to GET /user")
    github.broken_paths["/user"] = 403  # a 403 that is no rate limit
    assert_error(create(github_client), 502, "GITHUB_ERROR", "GitHub answered 403")
    assert github_client.get(C).json() == []


def test_an_unreachable_github_is_502(database_url: str) -> None:
    with app(database_url, github_api_url=f"http://127.0.0.1:{free_port()}") as client:
        response = create(client)
    assert_error(response, 502, "GITHUB_ERROR", "GitHub could not be reached (ConnectError")


def test_a_slow_github_is_cut_at_the_timeout(database_url: str, github: GitHubStandIn) -> None:
    github.delay_seconds = 2
    settings = {"github_api_url": github.url, "github_timeout_seconds": 0.3}
    started = time.monotonic()
    with app(database_url, **settings) as client:
        response = create(client)
        elapsed = time.monotonic() - started
    assert_error(response, 502, "GITHUB_ERROR", "did not answer GET /user within 0.3 s")
    assert elapsed < 1.5


def test_an_oversized_answer_is_not_read_whole(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user("ghp_big", "big", repos=[f"big/r{n}" for n in range(100)])
    github.padding_bytes = MAX_RESPONSE_BYTES // 90  # 100 items: just over the cap
    response = github_client.post("/api/v1/projects/github/repos", json={"access_token": "ghp_big"})
    assert_error(response, 502, "GITHUB_ERROR", f"larger than {MAX_RESPONSE_BYTES} bytes")


def test_github_enterprise_serves_the_api_below_a_path(database_url: str) -> None:
    with (
        GitHubStandIn(prefix="/api/v3") as enterprise,
        app(database_url, github_api_url=enterprise.url) as client,
    ):
        enterprise.add_user(ALICE, "alice")
        assert create(client).json()["login"] == "alice"
        assert enterprise.seen("/user")


def test_tokens_are_stored_encrypted_with_a_key(database_url: str, github: GitHubStandIn) -> None:
    key = Fernet.generate_key().decode()
    with app(database_url, github_api_url=github.url, token_encryption_key=key) as client:
        connection = create(client).json()
        [stored] = stored_tokens(client)
        assert stored.startswith(ENCRYPTED_PREFIX) and ALICE not in stored
        assert client.post(f"{C}/{connection['id']}/validate").status_code == 200
        assert github.seen("/user")[-1].headers["authorization"] == f"Bearer {ALICE}"
    other = Fernet.generate_key().decode()
    with app(database_url, github_api_url=github.url, token_encryption_key=other) as client:
        assert client.get(C).json()[0]["masked_token"] is None
        response = client.post(f"{C}/{connection['id']}/validate")
        assert_error(response, 401, "INVALID_TOKEN", "cannot be decrypted")
        assert "enter it again" in response.json()["error"]["message"]
        # Entering it again is what fixes it.
        assert (
            client.put(f"{C}/{connection['id']}", json={"access_token": ALICE}).json()[
                "masked_token"
            ]
            == "****0001"
        )


def test_a_connection_inserted_with_a_plaintext_token_works_and_is_masked(
    github_client: TestClient,
) -> None:
    """A token stored before a key was set (or as a test inserts one)."""
    database_url = github_client.app.state.settings.database_url  # type: ignore[attr-defined]
    connection = insert_connection(database_url, BOB)
    assert github_client.get(C).json()[0]["masked_token"] == "****0002"
    assert github_client.post(f"{C}/{connection}/validate").json()["login"] == "bob"
