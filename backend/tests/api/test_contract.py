"""The OpenAPI description tells the truth: every documented answer of every route is
produced by a real request here, and its body validates against the documented schema.

The response models forbid unknown keys and require every key (api/schemas/common.py), and
their JSON Schemas say so; validating a body against the description is therefore also
validating it against its response model, which replaces hand-kept key sets.

To document a new route or status: add a `Case` to CASES. `test_every_documented_answer_
has_a_case` fails until the description and the table agree.
"""

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from harness.github_api import GitHubStandIn
from sdlc_lens.api.middleware import MAX_BODY_BYTES
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.fixtures import write_fixture_tree
from tests.helpers import db_file, insert_connection, register, sync

Setup = Callable[[TestClient, Path], None]


def nothing(_client: TestClient, _tmp_path: Path) -> None:
    """No data: a fresh, migrated database."""


def acme(client: TestClient, tmp_path: Path) -> None:
    """Project `acme` on an empty folder, never synced."""
    (tmp_path / "acme").mkdir()
    register(client, "Acme", tmp_path / "acme")


def tasks(client: TestClient, tmp_path: Path) -> None:
    """Project `tasks`, synced from the 38-document recipe-box fixture tree."""
    register(client, "Tasks", write_fixture_tree(tmp_path, "recipe-box"))
    sync(client, "tasks")


def acme_syncing(client: TestClient, tmp_path: Path) -> None:
    """Project `acme` with a sync claimed and queued: the worker is busy until the app stops."""
    acme(client, tmp_path)
    runner = client.app.state.sync_runner  # type: ignore[attr-defined]
    runner._executor.submit(runner._stopping.wait)
    assert client.post("/api/v1/projects/acme/sync").status_code == 202


def checkups_busy(client: TestClient, tmp_path: Path) -> None:
    """Project `tasks`, with every place of the health check's worker and queue taken."""
    tasks(client, tmp_path)
    workers = client.app.state.checkup_workers  # type: ignore[attr-defined]
    while len(workers._admitted) < workers._capacity:
        workers._admitted[object()] = lambda: None


def index_missing(client: TestClient, _tmp_path: Path) -> None:
    """The full-text index table is gone (health and search report it)."""
    with sqlite3.connect(db_file(database_file(client))) as conn:
        conn.execute("DROP TABLE documents_fts")


# Tokens the GitHub stand-in knows (see the `github` fixture), and one it refuses.
GOOD, LIMITED, FAILING, REFUSED = "ghp_good", "ghp_limited", "ghp_failing", "ghp_refused"


def connection(client: TestClient, _tmp_path: Path) -> None:
    """Connection 1, `Work`, with a token GitHub accepts."""
    body = {"label": "Work", "access_token": GOOD}
    assert client.post("/api/v1/connections", json=body).status_code == 201


def stored_connection(token: str) -> Setup:
    """Connection 1 stored with `token` as it is (not checked with GitHub)."""
    return lambda client, _tmp_path: insert_connection(database_file(client), token) and None


def connection_in_use(client: TestClient, tmp_path: Path) -> None:
    connection(client, tmp_path)
    body = {"name": "Web", "source_type": "github", "repo_url": "https://github.com/a/web"}
    assert client.post(P, json={**body, "connection_id": 1}).status_code == 201


def database_file(client: TestClient) -> str:
    return client.app.state.settings.database_url  # type: ignore[attr-defined]


def folder_body(name: str, folder: str) -> Callable[[Path], dict[str, str]]:
    return lambda tmp_path: {"name": name, "sdlc_path": str(tmp_path / folder)}


def fixed(body: Any) -> Callable[[Path], Any]:
    return lambda _tmp_path: body


TOO_BIG = b"x" * (MAX_BODY_BYTES + 1)


@dataclass(frozen=True)
class Case:
    """One real request and the documented answer it gets."""

    method: str
    route: str  # the path as the description names it, e.g. /api/v1/projects/{slug}
    status: int
    path: str = ""  # the concrete path; defaults to `route`
    setup: Setup = nothing
    body: Callable[[Path], Any] | None = None  # JSON body, from the test's tmp folder
    content: bytes | None = None  # raw body instead of JSON
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} {self.status}"


P = "/api/v1/projects"
ACME = f"{P}/acme"
TASKS = f"{P}/tasks"
NOPE = f"{P}/nope"
DOC = f"{P}/{{slug}}/documents/{{doc_type}}/{{doc_id}}"
C = "/api/v1/connections"
REPOS = f"{P}/github/repos"

CASES = [
    Case("GET", "/", 200),
    Case("GET", "/api/v1/system/health", 200),
    Case("GET", "/api/v1/system/health", 503, setup=index_missing),
    Case("GET", "/api/v1/version", 200),
    Case("GET", P, 200, setup=tasks),
    Case("GET", P, 200, setup=tasks, params={"limit": 1, "offset": 0}),
    Case("GET", P, 422, params={"limit": 0}),
    Case("POST", P, 201, body=folder_body("Acme", "."), setup=nothing),
    Case("POST", P, 400, body=folder_body("Acme", "missing")),
    Case("POST", P, 409, body=folder_body("Acme", "acme"), setup=acme),
    Case("POST", P, 413, content=TOO_BIG),
    Case("POST", P, 422, body=fixed({})),
    Case("GET", f"{P}/{{slug}}", 200, path=TASKS, setup=tasks),
    Case("GET", f"{P}/{{slug}}", 404, path=NOPE),
    Case("PUT", f"{P}/{{slug}}", 200, path=ACME, setup=acme, body=fixed({"name": "Acme 2"})),
    Case("PUT", f"{P}/{{slug}}", 400, path=ACME, setup=acme, body=folder_body("A", "gone")),
    Case("PUT", f"{P}/{{slug}}", 404, path=NOPE, body=fixed({"name": "x"})),
    Case("PUT", f"{P}/{{slug}}", 413, path=ACME, setup=acme, content=TOO_BIG),
    Case("PUT", f"{P}/{{slug}}", 422, path=ACME, setup=acme, body=fixed({})),
    Case("DELETE", f"{P}/{{slug}}", 204, path=ACME, setup=acme),
    Case("DELETE", f"{P}/{{slug}}", 404, path=NOPE),
    Case("POST", f"{P}/{{slug}}/sync", 202, path=f"{ACME}/sync", setup=acme),
    Case("POST", f"{P}/{{slug}}/sync", 404, path=f"{NOPE}/sync"),
    Case("POST", f"{P}/{{slug}}/sync", 409, path=f"{ACME}/sync", setup=acme_syncing),
    Case(
        "POST",
        f"{P}/{{slug}}/sync",
        422,
        path=f"{ACME}/sync",
        setup=acme,
        params={"allow_empty": "maybe"},
    ),
    Case("GET", f"{P}/{{slug}}/documents", 200, path=f"{TASKS}/documents", setup=tasks),
    Case("GET", f"{P}/{{slug}}/documents", 404, path=f"{NOPE}/documents"),
    Case("GET", f"{P}/{{slug}}/documents", 422, path=f"{TASKS}/documents", params={"page": 0}),
    Case("GET", DOC, 200, path=f"{TASKS}/documents/epic/EP0001-recipe-catalogue", setup=tasks),
    Case("GET", DOC, 404, path=f"{TASKS}/documents/epic/EP9999", setup=tasks),
    Case(
        "GET",
        f"{DOC}/related",
        200,
        path=f"{TASKS}/documents/epic/EP0001-recipe-catalogue/related",
        setup=tasks,
    ),
    Case("GET", f"{DOC}/related", 404, path=f"{TASKS}/documents/epic/EP9999/related", setup=tasks),
    Case("GET", f"{P}/{{slug}}/health-check", 200, path=f"{TASKS}/health-check", setup=tasks),
    Case("GET", f"{P}/{{slug}}/health-check", 404, path=f"{NOPE}/health-check"),
    Case(
        "GET", f"{P}/{{slug}}/health-check", 503, path=f"{TASKS}/health-check", setup=checkups_busy
    ),
    Case("GET", f"{P}/{{slug}}/stats", 200, path=f"{TASKS}/stats", setup=tasks),
    Case("GET", f"{P}/{{slug}}/stats", 404, path=f"{NOPE}/stats"),
    Case("GET", "/api/v1/stats", 200, setup=tasks),
    Case("GET", "/api/v1/search", 200, setup=tasks, params={"q": "task"}),
    Case("GET", "/api/v1/search", 422, params={"q": ""}),
    Case("GET", "/api/v1/search", 503, setup=index_missing, params={"q": "task"}),
    *(
        Case("POST", C, status, setup=setup, body=body, content=content)
        for status, setup, body, content in (
            (201, nothing, fixed({"label": "Work", "access_token": GOOD}), None),
            (400, nothing, None, b"\xc3("),
            (401, nothing, fixed({"label": "Work", "access_token": REFUSED}), None),
            (409, connection, fixed({"label": "work", "access_token": GOOD}), None),
            (413, nothing, None, TOO_BIG),
            (422, nothing, fixed({"label": "Work"}), None),
            (429, nothing, fixed({"label": "Work", "access_token": LIMITED}), None),
            (502, nothing, fixed({"label": "Work", "access_token": FAILING}), None),
        )
    ),
    Case("GET", C, 200, setup=connection),
    Case("GET", f"{C}/repos", 200, setup=connection, params={"search": "web"}),
    Case("GET", f"{C}/repos", 422, params={"search": "x" * 201}),
    *(
        Case(
            "PUT",
            f"{C}/{{connection_id}}",
            status,
            path=path,
            setup=setup,
            body=body,
            content=content,
        )
        for status, path, setup, body, content in (
            (200, f"{C}/1", connection, fixed({"access_token": GOOD}), None),
            (400, f"{C}/1", connection, None, b"\xc3("),
            (401, f"{C}/1", connection, fixed({"access_token": REFUSED}), None),
            (404, f"{C}/9", nothing, fixed({"access_token": GOOD}), None),
            (413, f"{C}/1", connection, None, TOO_BIG),
            (422, f"{C}/1", connection, fixed({}), None),
            (429, f"{C}/1", connection, fixed({"access_token": LIMITED}), None),
            (502, f"{C}/1", connection, fixed({"access_token": FAILING}), None),
        )
    ),
    *(
        Case("POST", f"{C}/{{connection_id}}/validate", status, path=path, setup=setup)
        for status, path, setup in (
            (200, f"{C}/1/validate", connection),
            (401, f"{C}/1/validate", stored_connection(REFUSED)),
            (404, f"{C}/9/validate", nothing),
            (422, f"{C}/{2**63}/validate", nothing),
            (429, f"{C}/1/validate", stored_connection(LIMITED)),
            (502, f"{C}/1/validate", stored_connection(FAILING)),
        )
    ),
    Case("DELETE", f"{C}/{{connection_id}}", 204, path=f"{C}/1", setup=connection),
    Case("DELETE", f"{C}/{{connection_id}}", 404, path=f"{C}/9"),
    Case("DELETE", f"{C}/{{connection_id}}", 409, path=f"{C}/1", setup=connection_in_use),
    Case("DELETE", f"{C}/{{connection_id}}", 422, path=f"{C}/{2**63}"),
    *(
        Case("POST", route, status, path=path, setup=setup, body=body, content=content)
        for route, path in (
            (REPOS, REPOS),
            (f"{REPOS}/{{owner}}/{{repo}}/has-sdlc-studio", f"{REPOS}/acme/web/has-sdlc-studio"),
        )
        for status, setup, body, content in (
            (200, connection, fixed({"connection_id": 1}), None),
            (400, nothing, fixed({}), None),
            (401, nothing, fixed({"access_token": REFUSED}), None),
            (404, nothing, fixed({"connection_id": 9}), None),
            (413, nothing, None, TOO_BIG),
            (422, nothing, fixed({"access_token": 5}), None),
            (429, nothing, fixed({"access_token": LIMITED}), None),
            (502, nothing, fixed({"access_token": FAILING}), None),
        )
    ),
]


@pytest.fixture(scope="module")
def description(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The OpenAPI description as the app serves it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unmigrated.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        return client.get("/openapi.json").json()


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubStandIn]:
    """GitHub's API, knowing GOOD (a user with a repository that has sdlc-studio/), LIMITED
    (rate limited) and FAILING (answered 500)."""
    with GitHubStandIn() as stand_in:
        stand_in.add_user(GOOD, "octocat", repos=["acme/web"])
        stand_in.add_folder("acme/web", "sdlc-studio")
        stand_in.add_user(LIMITED, "slow")
        stand_in.rate_limited[LIMITED] = "retry"
        stand_in.failing_tokens[FAILING] = 500
        yield stand_in


@pytest.fixture
def settings(database_url: str, github: GitHubStandIn) -> Settings:
    return Settings(database_url=database_url, log_level="DEBUG", github_api_url=github.url)


@pytest.fixture
def fresh_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def assert_valid(description: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """`instance` validates against `schema`, whose refs point into the description."""
    validator = Draft202012Validator({**schema, "components": description["components"]})
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in
                validator.iter_errors(instance)]  # fmt: skip
    assert problems == [], instance


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_documented_answer_matches_a_real_one(
    case: Case, description: dict[str, Any], fresh_client: TestClient, tmp_path: Path
) -> None:
    case.setup(fresh_client, tmp_path)
    response = fresh_client.request(
        case.method,
        case.path or case.route,
        params=case.params,
        json=case.body(tmp_path) if case.body else None,
        content=case.content,
        headers={"content-type": "application/json"} if case.content else None,
    )
    assert response.status_code == case.status, response.text
    documented = description["paths"][case.route][case.method.lower()]["responses"]
    assert str(case.status) in documented, f"{case.id} is not documented"
    content = documented[str(case.status)].get("content")
    if content is None:
        assert response.content == b"", "an undocumented body"
        return
    assert response.headers["content-type"] == "application/json"
    assert_valid(description, content["application/json"]["schema"], response.json())


def test_every_documented_answer_has_a_case(description: dict[str, Any]) -> None:
    documented = {
        f"{method.upper()} {route} {status}"
        for route, operations in description["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }
    assert documented == {case.id for case in CASES}


def test_no_framework_validation_schema_is_left(description: dict[str, Any]) -> None:
    """422 answers are the envelope, like every other error (not FastAPI's default body)."""
    assert "HTTPValidationError" not in str(description)
    for operations in description["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")) and "Health" not in str(answer):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}


def test_every_example_fits_its_schema(description: dict[str, Any]) -> None:
    checked = 0
    for name, schema in description["components"]["schemas"].items():
        for example in schema.get("examples", []):
            assert_valid(description, {"$ref": f"#/components/schemas/{name}"}, example)
            checked += 1
    for operations in description["paths"].values():
        for operation in operations.values():
            answers = list(operation["responses"].values())
            if "requestBody" in operation:
                answers.append(operation["requestBody"])
            for answer in answers:
                media = answer.get("content", {}).get("application/json", {})
                examples = [e["value"] for e in media.get("examples", {}).values()]
                examples += [media["example"]] if "example" in media else []
                for example in examples:
                    assert_valid(description, media["schema"], example)
                    checked += 1
    assert checked >= 20
