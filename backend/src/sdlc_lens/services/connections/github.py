"""GitHub's REST API, as the connections and the repository picker use it (SPEC-3 §17).

One `GitHubSession` per token and request: `login()`, `repositories()`, `has_path()`. Every
request sends GitHub's recommended headers and the token as `Authorization: Bearer`, and is
bounded: SDLC_LENS_GITHUB_TIMEOUT_SECONDS for the whole request (connecting, waiting and
reading the body), MAX_RESPONSE_BYTES for what is read, MAX_PAGES per list following the
`Link` header (only to pages on the API's own origin: the token never goes anywhere else),
MAX_ORGANISATIONS organisations. Failures are domain errors whose messages never carry the
token: InvalidTokenError (401), GitHubRateLimitedError (403/429 that says so, with its
Retry-After), GitHubError (anything else, unreachable, too slow, too large, not understood).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from sdlc_lens import __version__
from sdlc_lens.config import Settings
from sdlc_lens.errors import GitHubError, GitHubRateLimitedError, InvalidTokenError

if TYPE_CHECKING:  # imported at the first use: a start without GitHub never needs httpx
    import httpx

logger = logging.getLogger(__name__)

PER_PAGE = 100
MAX_PAGES = 10  # per list: 1,000 repositories
MAX_ORGANISATIONS = 50
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # a page of 100 repositories is about 0.5 MB
CONCURRENT_REQUESTS = 4  # per token: organisations are listed side by side
API_VERSION = "2022-11-28"
# How long a rate limit is said to last when GitHub names a reset time far away or none.
MAX_RETRY_AFTER = 3600
REFUSED = "GitHub refused the token (401): it is wrong, expired or revoked"


@dataclass(frozen=True, slots=True)
class Repo:
    """A repository as the API answers it (SPEC-3 §17 `Repo`)."""

    full_name: str
    owner: str
    name: str
    private: bool
    default_branch: str
    description: str | None

    @classmethod
    def from_json(cls, item: object) -> Repo | None:
        """The repository an API list item describes; None for one without the fields."""
        if not isinstance(item, dict):
            return None
        owner = item.get("owner")
        login = owner.get("login") if isinstance(owner, dict) else None
        full_name, name = item.get("full_name"), item.get("name")
        branch, private = item.get("default_branch"), item.get("private")
        description = item.get("description")
        if not (
            isinstance(full_name, str)
            and isinstance(login, str)
            and isinstance(name, str)
            and isinstance(branch, str)
            and isinstance(private, bool)
        ):
            return None
        shown = description if isinstance(description, str) else None
        return cls(full_name, login, name, private, branch, shown)


@dataclass(slots=True)
class Listing:
    """What one token can list: its repositories, and what could not be listed (one line each)."""

    repos: list[Repo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GitHubApi:
    """Where GitHub's API is and how long a request may take (from the settings)."""

    base_url: str  # SDLC_LENS_GITHUB_API_URL, no trailing slash
    timeout: float  # SDLC_LENS_GITHUB_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHubApi:
        return cls(settings.github_api_url, settings.github_timeout_seconds)

    @asynccontextmanager
    async def session(self, token: str) -> AsyncIterator[GitHubSession]:
        """Requests with `token`, on one pool of connections that is closed afterwards."""
        import httpx

        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"sdlc-lens/{__version__}",
            "Authorization": f"Bearer {token}",
        }
        async with httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=self.timeout,
            # A renamed repository answers 301. httpx drops Authorization on a redirect to
            # another origin, and next-page links are checked below.
            follow_redirects=True,
            max_redirects=3,
        ) as client:
            yield GitHubSession(self, client)


class GitHubSession:
    """The API calls the service makes, with one token."""

    def __init__(self, api: GitHubApi, client: httpx.AsyncClient) -> None:
        self._api = api
        self._client = client
        self._slots = asyncio.Semaphore(CONCURRENT_REQUESTS)
        self._origin = _origin(api.base_url)

    async def login(self) -> str:
        """The login of the token's user (`GET /user`)."""
        body = await self._get_json("user")
        login = body.get("login") if isinstance(body, dict) else None
        if not isinstance(login, str):
            raise GitHubError("GitHub's answer to GET /user names no login")
        return login

    async def has_path(self, owner: str, repo: str, path: str, ref: str | None) -> bool:
        """Whether `path` exists in the repository (at `ref`, else its default branch)."""
        url = f"repos/{quote(owner, safe='')}/{quote(repo, safe='')}/contents/{quote(path)}"
        params = {"ref": ref} if ref is not None else None
        return await self._request(url, params, allow_not_found=True) is not None

    async def repositories(self) -> Listing:
        """The user's repositories and those of each organisation it can list.

        The user's own list must work (its failure is raised); an organisation list that
        fails, or a list cut at MAX_PAGES, is a problem line and the rest is kept.
        """
        listing = Listing()
        listing.repos.extend(await self._repo_pages("user/repos", listing))
        try:
            orgs = [
                o.get("login")
                for o in await self._pages("user/orgs", listing)
                if isinstance(o, dict)
            ]
        except (GitHubError, GitHubRateLimitedError) as exc:
            listing.problems.append(f"its organisations could not be listed ({exc.message})")
            return listing
        names = [name for name in orgs if isinstance(name, str)]
        if len(names) > MAX_ORGANISATIONS:
            listing.problems.append(
                f"only the first {MAX_ORGANISATIONS} of its {len(names)} organisations are listed"
            )
        results = await asyncio.gather(
            *(self._org_repos(name, listing) for name in names[:MAX_ORGANISATIONS])
        )
        for repos in results:
            listing.repos.extend(repos)
        return listing

    async def _org_repos(self, org: str, listing: Listing) -> list[Repo]:
        try:
            return await self._repo_pages(f"orgs/{quote(org, safe='')}/repos", listing)
        except (GitHubError, GitHubRateLimitedError) as exc:
            listing.problems.append(f"the repositories of {org} are not listed ({exc.message})")
            return []

    async def _repo_pages(self, path: str, listing: Listing) -> list[Repo]:
        repos = [Repo.from_json(item) for item in await self._pages(path, listing)]
        return [repo for repo in repos if repo is not None]

    async def _pages(self, path: str, listing: Listing) -> list[Any]:
        """Every item of a list, page by page along the `Link` header's `next`."""
        items: list[Any] = []
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        for _ in range(MAX_PAGES):
            assert url is not None
            answer = await self._request(url, params)
            assert answer is not None
            response, body = answer
            page = _json(body, path)
            if not isinstance(page, list):
                raise GitHubError(f"GitHub's answer to GET /{path} is not a list")
            items.extend(page)
            url, params = response.links.get("next", {}).get("url"), None
            if url is None:
                return items
            if _origin(url) != self._origin:
                raise GitHubError(f"GitHub's next page of /{path} is on another host")
        listing.problems.append(f"only the first {MAX_PAGES * PER_PAGE} entries of /{path} listed")
        return items

    async def _get_json(self, path: str) -> Any:
        answer = await self._request(path, None)
        assert answer is not None
        return _json(answer[1], path)

    async def _request(
        self, url: str, params: Mapping[str, Any] | None, *, allow_not_found: bool = False
    ) -> tuple[httpx.Response, bytes] | None:
        """One GET, its body read up to MAX_RESPONSE_BYTES; None for a 404 when allowed."""
        import httpx

        # How messages name the request: the path, never the query or a host.
        shown = urlsplit(url).path if "://" in url else "/" + url
        async with self._slots:
            try:
                async with asyncio.timeout(self._api.timeout):
                    async with self._client.stream("GET", url, params=params) as response:
                        if allow_not_found and response.status_code == 404:
                            return None
                        _check_status(response, shown)
                        return response, await _read_capped(response, shown)
            except TimeoutError:
                raise GitHubError(
                    f"GitHub did not answer GET {shown} within {self._api.timeout:g} s"
                ) from None
            except httpx.HTTPError as exc:
                raise GitHubError(
                    f"GitHub could not be reached ({type(exc).__name__} on GET {shown})"
                ) from None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.hostname, parts.port


def _check_status(response: httpx.Response, shown: str) -> None:
    status = response.status_code
    if status < 300:
        return
    if status == 401:
        raise InvalidTokenError(REFUSED)
    headers = response.headers
    if status in (403, 429) and (
        headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    ):
        wait = retry_after(headers)
        raise GitHubRateLimitedError(
            f"GitHub is rate limiting this token; try again in {wait} s", retry_after=wait
        )
    raise GitHubError(f"GitHub answered {status} to GET {shown}")


def retry_after(headers: Mapping[str, str]) -> int:
    """Seconds until GitHub takes requests again: its `retry-after`, else the time until
    `x-ratelimit-reset`, between 1 and MAX_RETRY_AFTER."""
    for name, relative in (("retry-after", True), ("x-ratelimit-reset", False)):
        try:
            value = int(headers[name])
        except (KeyError, ValueError):
            continue
        return max(1, min(MAX_RETRY_AFTER, value if relative else value - int(time.time())))
    return 60


async def _read_capped(response: httpx.Response, shown: str) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():  # decompressed: the cap bounds memory
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise GitHubError(
                f"GitHub's answer to GET {shown} is larger than {MAX_RESPONSE_BYTES} bytes"
            )
    return bytes(body)


def _json(body: bytes, path: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise GitHubError(f"GitHub's answer to GET /{path} is not JSON") from None
