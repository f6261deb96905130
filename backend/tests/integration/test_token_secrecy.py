"""A token never leaves the service (SPEC-3 §16.2): a full scenario of connections, the
repository picker and repository projects, synced from a real git server that checks the
token (basic auth), against a real Uvicorn logging at DEBUG and a GitHub API stand-in. Every
answer (status line, headers, body) and every log line is searched for every token used and
for every ciphertext stored: none is found."""

import re
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from harness.git_server import GitServer
from harness.github_api import GitHubStandIn
from harness.processes import start_server, wait_for_sync
from sdlc_lens.api.schemas.projects import TOKEN_PLACEHOLDER
from tests.git_repositories import documents, new_repository
from tests.helpers import migrate

# Each token is used once in the scenario, so that a leak says where it came from.
CONNECTION = "ghp_connectionSecret0001"
REPLACEMENT = "ghp_replacementSecret02"
PICKER = "ghp_pickerSecret000003"
PROJECT = "ghp_projectSecret00004"
PROJECT_NEW = "ghp_projectNewSecret05"
GIT_PROJECT = "glpat-gitProjectSecret6"
REFUSED = "ghp_refusedSecret000007"
LIMITED = "ghp_limitedSecret000008"
IN_URL = "urlSecret000009"
MALFORMED = "ghp_malformed Secret10"
TOKENS = (
    CONNECTION, REPLACEMENT, PICKER, PROJECT, PROJECT_NEW, GIT_PROJECT, REFUSED, LIMITED,
    IN_URL, MALFORMED,
)  # fmt: skip


class Recorder:
    """An API client that keeps every answer it got, as text, and every token value the
    database held after each request."""

    def __init__(self, client: httpx.Client, database: Path) -> None:
        self.client = client
        self.database = database
        self.answers: list[str] = []
        self.stored: set[str] = set()

    def __call__(self, method: str, path: str, status: int, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body)
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        self.answers.append(f"{method} {path} {response.status_code}\n{headers}\n{response.text}")
        self.stored.update(stored_secrets(self.database))
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None


def scenario(api: Recorder, git_url: str) -> None:
    """What a user does on the Settings page and the project form, failures included."""
    api("POST", "/api/v1/connections", 201, {"label": "Work", "access_token": CONNECTION})
    api("POST", "/api/v1/connections", 401, {"label": "Bad", "access_token": REFUSED})
    api("POST", "/api/v1/connections", 429, {"label": "Slow", "access_token": LIMITED})
    api("POST", "/api/v1/connections", 422, {"label": "Odd", "access_token": MALFORMED})
    api("GET", "/api/v1/connections", 200)
    api("PUT", "/api/v1/connections/1", 401, {"access_token": REFUSED})
    api("PUT", "/api/v1/connections/1", 200, {"access_token": REPLACEMENT})
    api("POST", "/api/v1/connections/1/validate", 200)
    api("GET", "/api/v1/connections/repos?search=acme", 200)
    api("POST", "/api/v1/projects/github/repos", 200, {"access_token": PICKER, "search": "a"})
    api("POST", "/api/v1/projects/github/repos", 401, {"access_token": REFUSED})
    api("POST", "/api/v1/projects/github/repos", 400, {"access_token": PICKER, "connection_id": 1})
    api("POST", "/api/v1/projects/github/repos", 200, {"connection_id": 1})
    api("POST", "/api/v1/projects/github/repos/acme/web/has-sdlc-studio", 200, {"connection_id": 1})
    api(
        "POST",
        "/api/v1/projects/github/repos/acme/web/has-sdlc-studio",
        429,
        {"access_token": LIMITED},
    )
    # "GitHub" is the git server (SDLC_LENS_GITHUB_URL), which takes REPLACEMENT only.
    repo = {"source_type": "github", "repo_url": f"{git_url}/acme/web"}
    api("POST", "/api/v1/projects", 201, {"name": "Web", **repo, "access_token": PROJECT})
    api("POST", "/api/v1/projects", 201, {"name": "Api", **repo, "connection_id": 1})
    git = {"source_type": "git", "repo_url": f"{git_url}/acme/web.git"}
    api("POST", "/api/v1/projects", 201, {"name": "Docs", **git, "access_token": GIT_PROJECT})
    credentials = {"source_type": "git", "repo_url": f"http://me:{IN_URL}@127.0.0.1:9/x.git"}
    api("POST", "/api/v1/projects", 422, {"name": "Leaky", **credentials})
    api("PUT", "/api/v1/projects/web", 200, {"access_token": PROJECT_NEW})
    api("PUT", "/api/v1/projects/web", 422, {"access_token": MALFORMED})
    api("GET", "/api/v1/projects", 200)
    # Syncs: through the connection's token (accepted), and the projects' own (refused).
    for slug, outcome in (("api", "synced"), ("web", "error"), ("docs", "error")):
        api("POST", f"/api/v1/projects/{slug}/sync", 202)
        assert wait_for_sync(api.client, slug)["sync_status"] == outcome, slug
    api("GET", "/api/v1/projects/api/documents", 200)
    api("PUT", "/api/v1/projects/docs", 200, {"access_token": None})
    api("DELETE", "/api/v1/connections/1", 409)
    api("PUT", "/api/v1/projects/api", 200, {"connection_id": None})
    api("DELETE", "/api/v1/connections/1", 204)
    api("GET", "/api/v1/projects/web", 200)


def stored_secrets(database: Path) -> list[str]:
    """Every token value stored, and the Fernet token inside each (what a log could show)."""
    with sqlite3.connect(database) as conn:
        values = [
            value
            for (value,) in conn.execute(
                "SELECT access_token FROM projects UNION ALL "
                "SELECT access_token FROM github_connections"
            )
            if value
        ]
    return values + [value.removeprefix("enc:v1:") for value in values]


def test_no_token_or_ciphertext_in_any_answer_or_log_line(tmp_path: Path) -> None:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    with (
        GitHubStandIn() as github,
        GitServer(tmp_path / "git", credentials=("x-access-token", REPLACEMENT)) as git_server,
    ):
        new_repository(git_server, "acme/web", documents(5))
        github.add_user(CONNECTION, "alice", repos=["acme/web"], orgs=["acme"])
        github.add_user(REPLACEMENT, "alice", repos=["acme/web"], orgs=["acme"])
        github.add_user(PICKER, "bob", repos=["bob/notes"])
        github.add_user(LIMITED, "carol")
        github.rate_limited[LIMITED] = "remaining"
        github.add_org("acme", ["acme/api"])
        github.add_folder("acme/web", "sdlc-studio")
        settings = {
            "GITHUB_API_URL": github.url,
            "GITHUB_URL": git_server.url,
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        }
        server = start_server(
            database, tmp_path / "server.log", log_level="DEBUG", settings=settings
        )
        try:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                api = Recorder(client, database)
                scenario(api, git_server.url)
                description = client.get("/openapi.json").text
        finally:
            server.stop(signal.SIGTERM)
        sent = {request.headers.get("authorization") for request in github.requests}
    log = server.log()
    # The scenario did what it should for the search to mean something: the tokens went to
    # GitHub, encrypted ones are stored, and the log has DEBUG lines of every part.
    assert {f"Bearer {token}" for token in (CONNECTION, REPLACEMENT, PICKER, LIMITED)} <= sent
    ciphertexts = sorted(api.stored)
    # Connection (2 tokens), 2 project tokens, git project: each sealed and its Fernet part.
    assert len([value for value in ciphertexts if value.startswith("enc:v1:")]) == 5
    assert " DEBUG " in log and "sync of api finished: synced" in log
    assert "sync of web finished: error" in log and "/api/v1/connections" in log
    everything = "\n".join([*api.answers, log])
    leaks = [secret for secret in (*TOKENS, *ciphertexts) if secret in everything]
    assert leaks == []
    # Nor the description: its examples show a placeholder where a token goes.
    assert not any(token in description for token in TOKENS)
    assert not re.search(r"gh[pousr]_[A-Za-z0-9]{8,}|github_pat_|enc:v1:", description)
    assert description.count(TOKEN_PLACEHOLDER) >= 4
