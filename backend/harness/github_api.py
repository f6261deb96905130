"""A stand-in for GitHub's REST API on 127.0.0.1: the endpoints SDLC Lens calls (SPEC-3 §17),
with GitHub's pagination, rate-limit answers and 401s, for the tests and the benchmarks.

    with GitHubStandIn() as github:            # serves on a free port, in a thread
        github.add_user("ghp_alice", "alice", repos=["alice/notes"], orgs=["acme"])
        github.add_org("acme", ["acme/web", "acme/api"])
        github.add_folder("acme/web", "sdlc-studio")       # on its default branch
        settings = Settings(..., github_api_url=github.url)

Served: `GET /user`, `/user/repos`, `/user/orgs`, `/orgs/{org}/repos` (paginated with
`per_page` and `page` and a `Link` header, as GitHub does) and
`/repos/{owner}/{repo}/contents/{path}?ref=`. A request without the headers GitHub asks for
(`Accept`, `X-GitHub-Api-Version`, `User-Agent`) gets 400; one without a known bearer token
401 `Bad credentials`. Every request is recorded (`requests`) with its headers, so a test can
check what was sent. `prefix` serves it below a path, as GitHub Enterprise does (`/api/v3`).
"""

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

REQUIRED_HEADERS = {
    "accept": "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
}


@dataclass(frozen=True)
class SeenRequest:
    """One request the stand-in answered."""

    method: str
    path: str  # without the prefix and the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    status: int


@dataclass
class GitHubStandIn:
    """The fake GitHub: its data, its misbehaviours, and what it was asked."""

    prefix: str = ""  # e.g. "/api/v3"
    logins: dict[str, str] = field(default_factory=dict)  # token -> login
    user_repos: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # login -> repos
    user_orgs: dict[str, list[str]] = field(default_factory=dict)  # login -> orgs
    org_repos: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    folders: set[tuple[str, str, str | None]] = field(default_factory=set)  # full_name, path, ref
    # Misbehaviours: token -> "remaining" (403, x-ratelimit-remaining: 0) or "retry" (429,
    # retry-after); paths answered with a status; organisations whose repositories are
    # forbidden; seconds to wait before answering; a host that next-page links point to.
    rate_limited: dict[str, str] = field(default_factory=dict)
    broken_paths: dict[str, int] = field(default_factory=dict)
    failing_tokens: dict[str, int] = field(default_factory=dict)  # token -> status, any path
    forbidden_orgs: set[str] = field(default_factory=set)
    delay_seconds: float = 0.0
    padding_bytes: int = 0  # added to every list item (an oversized answer)
    link_host: str | None = None
    any_token_login: str | None = None  # set: every other token works too, as this user
    requests: list[SeenRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- data -------------------------------------------------------------------------

    def add_user(
        self, token: str, login: str, repos: Sequence[str] = (), orgs: Sequence[str] = ()
    ) -> None:
        """A user whose `token` works, owning `repos` (full names) and in `orgs`."""
        self.logins[token] = login
        self.user_repos.setdefault(login, []).extend(repo_json(name) for name in repos)
        self.user_orgs.setdefault(login, []).extend(orgs)

    def add_org(self, org: str, repos: Sequence[str]) -> None:
        self.org_repos.setdefault(org, []).extend(repo_json(name) for name in repos)

    def add_folder(self, full_name: str, path: str, ref: str | None = None) -> None:
        """`path` exists in the repository on `ref` (None: its default branch)."""
        self.folders.add((full_name, path, ref))

    def seen(self, path: str) -> list[SeenRequest]:
        """The requests for `path` so far."""
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # --- serving ----------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:PORT`, without the prefix."""
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The API base URL (SDLC_LENS_GITHUB_API_URL)."""
        return self.root_url + self.prefix

    def start(self) -> Self:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                stand_in._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests read `requests`

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # Looks for a stop every 10 ms: the default, half a second, is what every test using
        # the stand-in would wait at its end.
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        if self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix) :]
        query = parse_qs(parts.query)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        status, body, extra = self._route(path, query, headers)
        with self._lock:
            self.requests.append(SeenRequest("GET", path, query, headers, status))
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _route(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        for name, value in REQUIRED_HEADERS.items():
            if headers.get(name) != value:
                return 400, {"message": f"missing header {name}"}, {}
        if not headers.get("user-agent"):
            return 400, {"message": "missing User-Agent"}, {}
        token = headers.get("authorization", "").removeprefix("Bearer ")
        login = self.logins.get(token, self.any_token_login if token else None)
        if login is None and token not in self.failing_tokens:
            return 401, {"message": "Bad credentials"}, {}
        if token in self.rate_limited:
            return self._rate_limited(self.rate_limited[token])
        status = self.broken_paths.get(path) or self.failing_tokens.get(token)
        if status is not None:
            return status, {"message": "Server Error"}, {}
        segments = path.strip("/").split("/")
        assert login is not None
        if path == "/user":
            return 200, {"login": login, "id": 1}, {}
        if path == "/user/repos":
            return self._page(path, self.user_repos.get(login, []), query)
        if path == "/user/orgs":
            orgs = [{"login": org, "id": n} for n, org in enumerate(self.user_orgs.get(login, []))]
            return self._page(path, orgs, query)
        if len(segments) == 3 and segments[0] == "orgs" and segments[2] == "repos":
            if segments[1] in self.forbidden_orgs:
                return 403, {"message": "Resource not accessible by personal access token"}, {}
            if segments[1] not in self.org_repos:
                return 404, {"message": "Not Found"}, {}
            return self._page(path, self.org_repos[segments[1]], query)
        if len(segments) >= 5 and segments[0] == "repos" and segments[3] == "contents":
            full_name = f"{segments[1]}/{segments[2]}"
            folder = "/".join(segments[4:])
            ref = query.get("ref", [None])[0]
            if (full_name, folder, ref) in self.folders:
                return 200, [{"name": "prd.md", "type": "file"}], {}
            return 404, {"message": "Not Found"}, {}
        return 404, {"message": "Not Found"}, {}

    def _rate_limited(self, kind: str) -> tuple[int, Any, dict[str, str]]:
        if kind == "retry":
            return 429, {"message": "secondary rate limit"}, {"Retry-After": "42"}
        reset = str(int(time.time()) + 600)
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        return 403, {"message": "API rate limit exceeded"}, headers

    def _page(
        self, path: str, items: list[Any], query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(100, int(query.get("per_page", ["30"])[0]))
        page = int(query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        chosen = items[(page - 1) * per_page : page * per_page]
        if self.padding_bytes:
            chosen = [{**item, "padding": "x" * self.padding_bytes} for item in chosen]
        links = []
        base = (self.link_host or self.root_url) + self.prefix + path
        if page < last:
            links.append(f'<{base}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{base}?per_page={per_page}&page={last}>; rel="last"')
        return 200, chosen, {"Link": ", ".join(links)} if links else {}


def repo_json(full_name: str, *, private: bool = False, branch: str = "main") -> dict[str, Any]:
    """A repository as GitHub lists it (the fields SDLC Lens reads, and a few it does not)."""
    owner, name = full_name.split("/")
    return {
        "id": abs(hash(full_name)) % 10**8,
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner, "type": "User"},
        "private": private,
        "default_branch": branch,
        "description": f"The {name} repository",
        "html_url": f"https://github.com/{full_name}",
    }


@contextmanager
def github_stand_in(**options: Any) -> Iterator[GitHubStandIn]:
    """A started stand-in, stopped afterwards."""
    with GitHubStandIn(**options) as github:
        yield github
