"""Project sources (SPEC-3 §16.1): `local`, `github` and `git` projects, their validation
messages, and PUT's semantics (omitted = unchanged, explicit nulls detach and delete)."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.api.schemas.projects import SourceTypeName
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from sdlc_lens.services.projects.sources import SourceType
from tests.helpers import assert_error, db_file, insert_connection

P = "/api/v1/projects"
GITHUB = "https://github.com/acme/web"


def post(client: TestClient, **body: Any) -> Any:
    return client.post(P, json=body)


def put(client: TestClient, slug: str, **body: Any) -> Any:
    return client.put(f"{P}/{slug}", json=body)


def sql(client: TestClient, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run SQL on the app's database file directly."""
    with sqlite3.connect(db_file(client.app.state.settings.database_url)) as conn:  # type: ignore[attr-defined]
        return conn.execute(statement, params).fetchall()


def add_connection(client: TestClient, label: str = "Work") -> int:
    database_url = client.app.state.settings.database_url  # type: ignore[attr-defined]
    return insert_connection(database_url, "ghp_conn", label)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "proj" / "sdlc-studio"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def enterprise(database_url: str) -> Iterator[TestClient]:
    """An app whose GitHub is an Enterprise server."""
    settings = Settings(database_url=database_url, github_url="https://ghe.example.com/")
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_github_project_is_created_with_its_defaults(client: TestClient) -> None:
    response = post(client, name="Web", source_type="github", repo_url=GITHUB, sdlc_path="")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source_type"] == "github" and body["sdlc_path"] is None
    assert (body["repo_url"], body["repo_branch"], body["repo_path"]) == (
        GITHUB,
        "main",
        "sdlc-studio",
    )
    assert body["masked_token"] is None and body["connection_id"] is None
    assert body["sync_status"] == "never_synced" and body["last_synced_commit_sha"] is None
    assert client.get(f"{P}/web").json() == body


def test_every_field_the_frontend_sends_on_create_is_kept(client: TestClient) -> None:
    connection = add_connection(client)
    response = post(
        client,
        name="Web",
        source_type="github",
        repo_url=GITHUB + ".git/",
        repo_branch="release/2.x",
        repo_path="docs/sdlc-studio/",
        connection_id=connection,
        access_token="ghp_abcdefgh1234",
        auto_sync=True,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["repo_url"] == GITHUB + ".git/"
    assert (body["repo_branch"], body["repo_path"]) == ("release/2.x", "docs/sdlc-studio")
    assert body["connection_id"] == connection and body["auto_sync"] is True
    assert body["masked_token"] == "****1234"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/web",
        "https://github.com/acme/web.git",
        "https://github.com/acme/web/",
        "https://GitHub.com/Acme-Inc/my.repo_1",
    ],
)
def test_github_urls_in_the_accepted_forms(client: TestClient, url: str) -> None:
    response = post(client, name="R", source_type="github", repo_url=url)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "url",
    [
        "http://github.com/acme/web",
        "https://gitlab.com/acme/web",
        "https://github.com/acme",
        "https://github.com/acme/web/tree/main",
        "https://github.com/acme/..",
        "https://github.com.evil.example/acme/web",
        "https://ghe.example.com/acme/web",
        "git@github.com:acme/web.git",
    ],
)
def test_other_github_urls_are_422_naming_the_form(client: TestClient, url: str) -> None:
    response = post(client, name="R", source_type="github", repo_url=url)
    message = "repo_url must be https://github.com/{owner}/{repo} (optionally ending in .git)"
    assert_error(response, 422, "VALIDATION_ERROR", message)
    assert client.get(P).json() == []


def test_github_enterprise_urls_are_accepted_under_the_github_url(enterprise: TestClient) -> None:
    response = post(
        enterprise, name="R", source_type="github", repo_url="https://ghe.example.com/acme/web"
    )
    assert response.status_code == 201, response.text
    response = post(enterprise, name="S", source_type="github", repo_url="https://x.io/a/b")
    assert_error(
        response,
        422,
        "VALIDATION_ERROR",
        "https://github.com/{owner}/{repo} or https://ghe.example.com/{owner}/{repo}",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'sdlc_path' is required for local source type"),
        ({"source_type": "local", "sdlc_path": " "}, "'sdlc_path' is required for local source"),
        ({"source_type": "github"}, "'repo_url' is required for github source type"),
        ({"source_type": "github", "repo_url": " "}, "'repo_url' is required for github source"),
        ({"source_type": "git", "repo_url": None}, "'repo_url' is required for git source type"),
        ({"source_type": "svn", "repo_url": GITHUB}, "source_type: Input should be"),
    ],
)
def test_required_fields_per_source_type(
    client: TestClient, body: dict[str, Any], message: str
) -> None:
    assert_error(post(client, name="P", **body), 422, "VALIDATION_ERROR", message)
    assert client.get(P).json() == []


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/team/repo.git",
        "http://192.168.1.10:3000/team/repo",
        "HTTPS://Git.Example.com/repo",
    ],
)
def test_git_urls_over_http_are_accepted(client: TestClient, url: str) -> None:
    response = post(client, name="R", source_type="git", repo_url=url, repo_path=".")
    assert response.status_code == 201, response.text
    assert response.json()["repo_path"] == "."


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc", "must be an http:// or https:// URL"),
        ("ssh://git@example.com/repo.git", "must be an http:// or https:// URL"),
        ("ext::sh -c touch% /tmp/pwned", "must not contain spaces"),
        ("ext::sh", "must be an http:// or https:// URL"),
        ("/srv/git/repo.git", "must be an http:// or https:// URL"),
        ("../repo", "must be an http:// or https:// URL"),
        ("git@example.com:team/repo.git", "must be an http:// or https:// URL"),
        ("git://example.com/repo.git", "must be an http:// or https:// URL"),
        ("https://", "must be an http:// or https:// URL"),
        ("https://example.com:99999/repo", "must be an http:// or https:// URL"),
        ("https://bob:hunter2@example.com/repo", "must not contain credentials"),
        ("https://hunter2@example.com/repo", "use access_token"),
        ("https://example.com/repo?x=1", "no query"),
        ("https://example.com/re\npo", "control characters"),
        ("https://example.com/a repo", "spaces"),
    ],
)
def test_git_urls_that_could_reach_the_servers_disk_or_carry_secrets_are_422(
    client: TestClient, url: str, message: str
) -> None:
    response = post(client, name="R", source_type="git", repo_url=url)
    assert_error(response, 422, "VALIDATION_ERROR", message)
    assert "hunter2" not in response.text
    assert client.get(P).json() == []


@pytest.mark.parametrize(
    "branch",
    ["a..b", "-x", "/x", "x/", "x.", "x.lock", "a/.hidden", "a b", "a~1", "a^", "a:b", "a?",
     "a*", "a[", "a\\b", "a@{1}", "@", "a//b", "tab\tbranch", "x" * 201],
)  # fmt: skip
def test_branches_git_would_refuse_are_422(client: TestClient, branch: str) -> None:
    response = post(client, name="R", source_type="git", repo_url=GITHUB, repo_branch=branch)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert client.get(P).json() == []


@pytest.mark.parametrize(
    "repo_path", ["/abs", "a/../b", "..", "a//b", "a/./b", ".git/x", "a\\b", "a\x00b", "a\nb"]
)
def test_repo_paths_outside_the_tree_are_422(client: TestClient, repo_path: str) -> None:
    response = post(client, name="R", source_type="git", repo_url=GITHUB, repo_path=repo_path)
    assert_error(response, 422, "VALIDATION_ERROR", "repo_path must be a folder inside")


@pytest.mark.parametrize(("repo_path", "stored"), [("", ""), (".", "."), ("a b/c/", "a b/c")])
def test_repo_root_and_folders(client: TestClient, repo_path: str, stored: str) -> None:
    response = post(client, name="R", source_type="git", repo_url=GITHUB, repo_path=repo_path)
    assert response.status_code == 201, response.text
    assert response.json()["repo_path"] == stored


def test_connections_are_for_github_projects_only(client: TestClient, folder: Path) -> None:
    connection = add_connection(client)
    response = post(client, name="R", source_type="git", repo_url=GITHUB, connection_id=connection)
    assert_error(response, 422, "VALIDATION_ERROR", "'connection_id' is only for github")
    response = post(client, name="L", sdlc_path=str(folder), connection_id=connection)
    assert_error(response, 422, "VALIDATION_ERROR", "'connection_id' is only for github")
    response = post(client, name="G", source_type="github", repo_url=GITHUB, connection_id=999)
    assert_error(response, 422, "VALIDATION_ERROR", "'connection_id' 999 is not a stored")
    assert client.get(P).json() == []


@pytest.mark.parametrize(
    ("token", "masked"),
    [("a", "****"), ("abcd", "****"), ("abcde", "****bcde"), ("ghp_" + "x" * 36, "****xxxx")],
)
def test_masked_token_shows_at_most_the_last_four(
    client: TestClient, token: str, masked: str
) -> None:
    response = post(client, name="R", source_type="github", repo_url=GITHUB, access_token=token)
    assert response.json()["masked_token"] == masked
    assert "access_token" not in response.json()


@pytest.mark.parametrize("token", ["", "has space", "line\n", "ünïcode", "x" * 1001])
def test_tokens_that_cannot_go_into_a_header_are_422(client: TestClient, token: str) -> None:
    response = post(client, name="R", source_type="github", repo_url=GITHUB, access_token=token)
    assert_error(response, 422, "VALIDATION_ERROR", "access_token")
    assert client.get(P).json() == []


# PUT (SPEC-3 §16.1 "PUT semantics")


@pytest.fixture
def web(client: TestClient) -> dict[str, Any]:
    """A github project with a token and a stored connection, synced at some commit."""
    connection = add_connection(client)
    body = post(
        client,
        name="Web",
        source_type="github",
        repo_url=GITHUB,
        access_token="ghp_secret0001",
        connection_id=connection,
    ).json()
    sql(client, "UPDATE projects SET last_synced_commit_sha = ?", "a" * 40)
    return {**body, "last_synced_commit_sha": "a" * 40}


def project(client: TestClient, slug: str = "web") -> dict[str, Any]:
    return client.get(f"{P}/{slug}").json()


def test_omitted_fields_are_left_alone(client: TestClient, web: dict[str, Any]) -> None:
    response = put(client, "web", name="Web 2")
    assert response.status_code == 200, response.text
    assert response.json() == {**web, "name": "Web 2"}


def test_explicit_nulls_detach_the_connection_and_delete_the_token(
    client: TestClient, web: dict[str, Any]
) -> None:
    assert put(client, "web", connection_id=None).json()["connection_id"] is None
    assert project(client)["masked_token"] == "****0001"  # the token is another field
    assert put(client, "web", access_token=None).json()["masked_token"] is None
    assert sql(client, "SELECT access_token, connection_id FROM projects") == [(None, None)]


def test_a_new_token_or_connection_replaces_the_old(
    client: TestClient, web: dict[str, Any]
) -> None:
    other = add_connection(client, "Other")
    body = put(client, "web", access_token="ghp_new9999", connection_id=other).json()
    assert (body["masked_token"], body["connection_id"]) == ("****9999", other)
    assert body["last_synced_commit_sha"] == "a" * 40  # same place: re-syncs stay incremental


@pytest.mark.parametrize(
    "change",
    [
        {"repo_url": "https://github.com/acme/other"},
        {"repo_branch": "develop"},
        {"repo_path": "docs"},
        {"source_type": "git"},
    ],
)
def test_another_place_makes_the_next_sync_a_full_one(
    client: TestClient, web: dict[str, Any], change: dict[str, Any]
) -> None:
    body = put(client, "web", **change).json()
    assert body["last_synced_commit_sha"] is None
    assert {key: body[key] for key in change} == change


@pytest.mark.parametrize(
    "change",
    [
        {"name": "W"},
        {"auto_sync": True},
        {"access_token": "t0ken"},
        {"repo_path": "sdlc-studio/"},  # the same folder, written differently
    ],
)
def test_other_edits_keep_the_synced_commit(
    client: TestClient, web: dict[str, Any], change: dict[str, Any]
) -> None:
    assert put(client, "web", **change).json()["last_synced_commit_sha"] == "a" * 40


def test_the_frontends_put_is_honoured(client: TestClient, folder: Path) -> None:
    """The six keys the SPA sends, for a folder turned into a repository and back."""
    post(client, name="Acme", sdlc_path=str(folder))
    connection = add_connection(client)
    body = put(
        client,
        "acme",
        name="Acme Web",
        sdlc_path=None,
        auto_sync=True,
        access_token="ghp_frontend42",
        connection_id=connection,
        source_type="github",
        repo_url=GITHUB,
    ).json()
    assert body["name"] == "Acme Web" and body["auto_sync"] is True
    assert (body["source_type"], body["sdlc_path"]) == ("github", None)
    assert (body["masked_token"], body["connection_id"]) == ("****nd42", connection)
    # Back to a folder: connections are for GitHub only, so it is detached.
    body = put(client, "acme", source_type="local", sdlc_path=str(folder)).json()
    assert (body["source_type"], body["sdlc_path"], body["connection_id"]) == (
        "local",
        str(folder),
        None,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source_type": "local"}, "'sdlc_path' is required for local source type"),
        ({"repo_url": None}, "'repo_url' is required for github source type"),
        ({"source_type": "git"}, None),  # the connection goes, the URL stays: fine
        ({"repo_url": "file:///etc"}, "repo_url must be https://github.com/"),
        ({"source_type": "git", "repo_url": "ssh://h/r"}, "http:// or https://"),
        ({"source_type": "git", "connection_id": 1}, "'connection_id' is only for github"),
        ({"connection_id": 424242}, "'connection_id' 424242 is not a stored connection"),
        ({"repo_branch": "a..b"}, "repo_branch is not a valid git branch name"),
        ({"repo_branch": None}, "'repo_branch' cannot be null"),
        ({"source_type": None}, "'source_type' cannot be null"),
        ({"access_token": ""}, "access_token"),
    ],
)
def test_a_refused_put_stores_nothing(
    client: TestClient, web: dict[str, Any], change: dict[str, Any], message: str | None
) -> None:
    response = put(client, "web", **change)
    if message is None:
        assert response.status_code == 200, response.text
        return
    assert_error(response, 422, "VALIDATION_ERROR", message)
    assert project(client) == web


def test_put_checks_a_new_folder_as_on_create(client: TestClient, web: dict[str, Any]) -> None:
    response = put(client, "web", source_type="local", sdlc_path="/nonexistent/folder")
    assert_error(response, 400, "PATH_NOT_FOUND")
    assert project(client) == web


def test_an_unknown_project_is_404_after_the_body_is_checked(client: TestClient) -> None:
    assert_error(put(client, "nope", repo_branch="a..b"), 404, "NOT_FOUND")
    assert_error(put(client, "nope", source_type="ftp"), 422, "VALIDATION_ERROR")


def test_the_request_models_name_every_source_type() -> None:
    assert set(get_args(SourceTypeName)) == {kind.value for kind in SourceType}
