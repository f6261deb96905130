"""The repository picker (SPEC-3 §17): GET /connections/repos, POST /projects/github/repos
and has-sdlc-studio, against a GitHub API stand-in with real pagination."""

from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from harness.github_api import GitHubStandIn
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from sdlc_lens.services.connections.github import MAX_PAGES, PER_PAGE
from sdlc_lens.services.connections.repos import MAX_REPOS
from sdlc_lens.services.tokens import TokenCipher
from tests.helpers import assert_error, insert_connection

C = "/api/v1/connections"
REPOS = "/api/v1/projects/github/repos"


def connect(client: TestClient, label: str, token: str) -> int:
    response = client.post(C, json={"label": label, "access_token": token})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def listed(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(f"{C}/repos", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(repos: list[dict[str, Any]]) -> list[str]:
    return [repo["full_name"] for repo in repos]


def test_no_connections_list_nothing(github_client: TestClient) -> None:
    assert listed(github_client) == {"repos": [], "degraded": []}


def test_pages_are_followed_along_the_link_header(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user("ghp_a", "alice", repos=[f"alice/r{n:03d}" for n in range(250)])
    response = github_client.post(REPOS, json={"access_token": "ghp_a", "search": "R24"})
    assert names(response.json()["repositories"]) == [f"alice/r24{n}" for n in range(10)]
    pages = github.seen("/user/repos")
    assert [request.query.get("page", ["1"])[0] for request in pages] == ["1", "2", "3"]
    assert all(request.query["per_page"] == [str(PER_PAGE)] for request in pages)


def test_the_answer_is_sorted_and_cut_at_200(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user("ghp_a", "alice", repos=[f"alice/r{n:03d}" for n in reversed(range(250))])
    repos = github_client.post(REPOS, json={"access_token": "ghp_a"}).json()["repositories"]
    assert names(repos) == [f"alice/r{n:03d}" for n in range(MAX_REPOS)]
    assert repos[0] == {
        "full_name": "alice/r000",
        "owner": "alice",
        "name": "r000",
        "private": False,
        "default_branch": "main",
        "description": "The r000 repository",
    }


def test_organisations_repositories_are_listed_and_deduplicated(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user("ghp_a", "alice", repos=["alice/notes", "acme/web"], orgs=["acme", "Beta"])
    github.add_org("acme", ["acme/web", "acme/api"])
    github.add_org("Beta", ["Beta/site"])
    repos = github_client.post(REPOS, json={"access_token": "ghp_a"}).json()["repositories"]
    # Sorted as people read names: case does not split the list.
    assert names(repos) == ["acme/api", "acme/web", "alice/notes", "Beta/site"]


def test_the_first_connection_wins_a_repository_both_list(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user("ghp_a", "alice", repos=["acme/web", "alice/notes"])
    github.add_user("ghp_b", "bob", repos=["acme/web", "bob/dots"])
    first, second = (
        connect(github_client, "First", "ghp_a"),
        connect(github_client, "Second", "ghp_b"),
    )
    body = listed(github_client)
    assert body["degraded"] == []
    owners = {
        repo["full_name"]: (repo["connection_id"], repo["connection_label"])
        for repo in body["repos"]
    }
    assert owners == {
        "acme/web": (first, "First"),
        "alice/notes": (first, "First"),
        "bob/dots": (second, "Second"),
    }
    assert names(body["repos"]) == sorted(owners)


@pytest.mark.parametrize(
    ("search", "found"), [("WEB", ["acme/web"]), ("ACME/", ["acme/api", "acme/web"]), ("nope", [])]
)
def test_search_is_a_case_insensitive_substring_of_full_name(
    github_client: TestClient, github: GitHubStandIn, search: str, found: list[str]
) -> None:
    github.add_user("ghp_a", "alice", repos=["acme/web", "acme/api", "alice/Website-notes"])
    connect(github_client, "Work", "ghp_a")
    expected = found + (["alice/Website-notes"] if search == "WEB" else [])
    assert names(listed(github_client, search=search)["repos"]) == expected
    # The same filter on the one-credential route, in the body or the query string.
    by_body = github_client.post(REPOS, json={"connection_id": 1, "search": search})
    by_query = github_client.post(f"{REPOS}?search={search}", json={"connection_id": 1})
    assert (
        names(by_body.json()["repositories"]) == names(by_query.json()["repositories"]) == expected
    )


def test_a_search_finds_repositories_beyond_the_first_200(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user("ghp_a", "alice", repos=[f"alice/r{n:03d}" for n in range(300)])
    connect(github_client, "Work", "ghp_a")
    assert names(listed(github_client, search="r29")["repos"])[-1] == "alice/r299"


def test_a_list_stops_after_the_page_cap_and_says_so(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user(
        "ghp_a", "alice", repos=[f"alice/r{n:04d}" for n in range(MAX_PAGES * PER_PAGE + 50)]
    )
    connect(github_client, "Work", "ghp_a")
    body = listed(github_client)
    assert len(github.seen("/user/repos")) == MAX_PAGES
    assert len(body["repos"]) == MAX_REPOS
    assert body["degraded"] == [
        {
            "connection_id": 1,
            "label": "Work",
            "reason": "only the first 1000 entries of /user/repos listed",
        }
    ]


def test_a_next_page_on_another_host_is_never_asked(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    """A `Link` header could send the token anywhere: only the API's own origin is followed."""
    github.add_user("ghp_a", "alice", repos=[f"alice/r{n:03d}" for n in range(150)])
    github.link_host = "http://127.0.0.2:9"
    response = github_client.post(REPOS, json={"access_token": "ghp_a"})
    assert_error(response, 502, "GITHUB_ERROR", "next page of /user/repos is on another host")


def test_connections_that_cannot_list_are_degraded_not_fatal(
    github_client: TestClient, github: GitHubStandIn, database_url: str
) -> None:
    github.add_user("ghp_good", "alice", repos=["alice/notes"], orgs=["acme", "closed"])
    github.add_org("acme", ["acme/web"])
    github.forbidden_orgs.add("closed")
    github.add_user("ghp_dead", "bob")
    github.add_user("ghp_slow", "carol", repos=["carol/x"])
    github.add_user("ghp_noorgs", "dave", repos=["dave/y"])
    connect(github_client, "Good", "ghp_good")
    connect(github_client, "Dead", "ghp_dead")
    connect(github_client, "Slow", "ghp_slow")
    connect(github_client, "No orgs", "ghp_noorgs")
    insert_connection(database_url, TokenCipher(Fernet.generate_key().decode()).seal("x"), "Lost")
    del github.logins["ghp_dead"]  # revoked since
    github.rate_limited["ghp_slow"] = "remaining"
    github.broken_paths["/user/orgs"] = 403  # fine-grained tokens may not list organisations
    body = listed(github_client)
    assert names(body["repos"]) == ["alice/notes", "dave/y"]
    reasons = {entry["label"]: entry["reason"] for entry in body["degraded"]}
    assert reasons["Good"].startswith("its organisations could not be listed (GitHub answered 403")
    assert reasons["No orgs"].startswith("its organisations could not be listed")
    assert reasons["Dead"] == "GitHub refused the token (401): it is wrong, expired or revoked"
    assert reasons["Slow"].startswith("GitHub is rate limiting this token; try again in")
    assert "cannot be decrypted" in reasons["Lost"] and "enter it again" in reasons["Lost"]
    assert [entry["connection_id"] for entry in body["degraded"]] == [1, 2, 3, 4, 5]
    assert all("\n" not in reason for reason in reasons.values())
    # Organisations listable again: one forbidden organisation is one line, the rest listed.
    del github.broken_paths["/user/orgs"]
    body = listed(github_client)
    assert names(body["repos"]) == ["acme/web", "alice/notes", "dave/y"]
    reasons = {entry["label"]: entry["reason"] for entry in body["degraded"]}
    assert reasons["Good"] == (
        "the repositories of closed are not listed (GitHub answered 403 to GET /orgs/closed/repos)"
    )


def test_an_unreachable_github_degrades_every_connection(database_url: str) -> None:
    insert_connection(database_url, "ghp_a", "Work")
    settings = Settings(database_url=database_url, github_api_url="http://127.0.0.1:9")
    with TestClient(create_app(settings)) as client:
        body = listed(client)
    assert body["repos"] == []
    [entry] = body["degraded"]
    assert entry["reason"].startswith("GitHub could not be reached (ConnectError")


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({}, 400, "VALIDATION_ERROR", "Provide exactly one of 'access_token' or 'connection_id'"),
        (None, 400, "VALIDATION_ERROR", "Provide exactly one of 'access_token' or 'connection_id'"),
        ({"access_token": "ghp_a", "connection_id": 1}, 400, "VALIDATION_ERROR", "exactly one"),
        ({"access_token": None, "connection_id": None}, 400, "VALIDATION_ERROR", "exactly one"),
        ({"connection_id": 77}, 404, "NOT_FOUND", "Connection not found"),
        ({"access_token": "ghp_wrong"}, 401, "AUTH_FAILED", "GitHub refused the token"),
        ({"connection_id": 2}, 401, "AUTH_FAILED", "cannot be decrypted"),
        ({"access_token": "ghp_limited"}, 429, "RATE_LIMITED", "try again in 42 s"),
        ({"access_token": "ghp_failing"}, 502, "GITHUB_ERROR", "GitHub answered 500"),
        ({"access_token": 5}, 422, "VALIDATION_ERROR", "access_token"),
        ({"connection_id": "1"}, 422, "VALIDATION_ERROR", "connection_id"),
        ({"access_token": "ghp_a", "search": "x" * 201}, 422, "VALIDATION_ERROR", "search"),
    ],
)
@pytest.mark.parametrize("route", [REPOS, f"{REPOS}/acme/web/has-sdlc-studio"])
def test_the_repository_routes_errors(
    github_client: TestClient,
    github: GitHubStandIn,
    database_url: str,
    route: str,
    body: Any,
    status: int,
    code: str,
    message: str,
) -> None:
    github.add_user("ghp_a", "alice", repos=["acme/web"])
    github.add_user("ghp_limited", "slow")
    github.rate_limited["ghp_limited"] = "retry"
    github.failing_tokens["ghp_failing"] = 500
    connect(github_client, "Work", "ghp_a")
    insert_connection(database_url, TokenCipher(Fernet.generate_key().decode()).seal("x"), "Lost")
    if "has-sdlc-studio" in route and body and "search" in body:
        body = {**body, "search": None, "branch": "a..b"}
        status, message = 422, "branch is not a valid git branch name"
    response = github_client.post(route, json=body)
    assert_error(response, status, code, message)
    if status == 429:
        assert response.headers["retry-after"] == "42"


def test_has_sdlc_studio_asks_for_the_folder_on_the_branch(
    github_client: TestClient, github: GitHubStandIn
) -> None:
    github.add_user("ghp_a", "alice")
    github.add_folder("acme/web", "sdlc-studio")
    github.add_folder("acme/api", "sdlc-studio", ref="develop")
    connect(github_client, "Work", "ghp_a")

    def has(repo: str, **body: Any) -> bool:
        response = github_client.post(
            f"{REPOS}/{repo}/has-sdlc-studio", json={"connection_id": 1, **body}
        )
        assert response.status_code == 200, response.text
        return bool(response.json()["has_sdlc_studio"])

    assert has("acme/web") is True
    assert has("acme/api") is False  # not on the default branch
    assert has("acme/api", branch="develop") is True
    assert has("acme/missing") is False  # a repository GitHub does not show is a 404 too
    asked = github.seen("/repos/acme/api/contents/sdlc-studio")
    assert [request.query.get("ref") for request in asked] == [None, ["develop"]]


@pytest.mark.parametrize(
    "path",
    ["-acme/web", "ac_me/web", "a" * 40 + "/web", "acme/we b", "acme/..", "acme/" + "r" * 101],
)
def test_has_sdlc_studio_refuses_names_github_cannot_have(
    github_client: TestClient, github: GitHubStandIn, path: str
) -> None:
    github.add_user("ghp_a", "alice")
    response = github_client.post(f"{REPOS}/{path}/has-sdlc-studio", json={"access_token": "ghp_a"})
    assert response.status_code in (404, 422), response.text
    assert github.requests == []
