"""The repository picker (SPEC-3 §17): repositories of every stored connection or of one
credential, and whether a repository has an sdlc-studio folder.

Lists are de-duplicated by `full_name` (the first connection, oldest first, wins), filtered by
a case-insensitive substring of `full_name`, sorted by it and cut at MAX_REPOS. Across the
stored connections the answer never fails: a connection that cannot be used (token refused,
rate limited, undecryptable, GitHub unreachable) or that lists only part of its repositories
adds a one-line entry to `degraded` instead.
"""

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, select

from sdlc_lens.db.models import github_connections
from sdlc_lens.errors import (
    AuthFailedError,
    CredentialsChoiceError,
    GitHubError,
    GitHubRateLimitedError,
    InvalidTokenError,
)
from sdlc_lens.services.connections.github import GitHubApi, Repo
from sdlc_lens.services.connections.store import stored_token, unreadable_token
from sdlc_lens.services.projects.sources import DEFAULT_REPO_PATH
from sdlc_lens.services.tokens import TokenCipher

MAX_REPOS = 200
ONE_CREDENTIAL = "Provide exactly one of 'access_token' or 'connection_id'"


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A connection as the picker uses it: its token, or None when it cannot be decrypted."""

    connection_id: int
    label: str
    token: str | None


def stored_credentials(conn: Connection, cipher: TokenCipher) -> list[StoredCredential]:
    """Every connection, oldest first, with its token revealed."""
    rows = conn.execute(
        select(
            github_connections.c.id, github_connections.c.label, github_connections.c.access_token
        ).order_by(github_connections.c.id)
    )
    return [StoredCredential(row.id, row.label, cipher.reveal(row.access_token)) for row in rows]


def request_token(
    conn: Connection, cipher: TokenCipher, access_token: str | None, connection_id: int | None
) -> str:
    """The token a repository request names: its own, or a stored connection's.

    CredentialsChoiceError unless exactly one is given; NotFoundError for an unknown
    connection; AuthFailedError for a connection whose token cannot be decrypted.
    """
    if (access_token is None) == (connection_id is None):
        raise CredentialsChoiceError(ONE_CREDENTIAL)
    if access_token is not None:
        return access_token
    assert connection_id is not None
    with as_auth_failure():
        return stored_token(conn, connection_id, cipher)


@contextmanager
def as_auth_failure() -> Iterator[None]:
    """A refused token, told as the repository routes tell it (401 AUTH_FAILED)."""
    try:
        yield
    except InvalidTokenError as exc:
        if isinstance(exc, AuthFailedError):
            raise
        raise AuthFailedError(exc.message) from None


def picked(repos: Sequence[Repo], search: str | None) -> list[Repo]:
    """The first of each `full_name`, those matching `search`, sorted as people read names
    (`Acme/web` between `acme/api` and `acme/x`), at most MAX_REPOS."""
    needle = (search or "").casefold()
    unique: dict[str, Repo] = {}
    for repo in repos:
        if needle in repo.full_name.casefold():
            unique.setdefault(repo.full_name, repo)
    order = sorted(unique, key=lambda name: (name.casefold(), name))
    return [unique[name] for name in order[:MAX_REPOS]]


async def repositories_of(api: GitHubApi, token: str, search: str | None) -> list[Repo]:
    """One credential's repositories (POST /projects/github/repos). Organisations it cannot
    list are left out (this answer has no place to say so; GET /connections/repos has)."""
    with as_auth_failure():
        async with api.session(token) as github:
            listing = await github.repositories()
    return picked(listing.repos, search)


async def has_sdlc_studio(
    api: GitHubApi, token: str, owner: str, repo: str, branch: str | None
) -> bool:
    """Whether `sdlc-studio/` exists in the repository (on `branch`, else its default)."""
    with as_auth_failure():
        async with api.session(token) as github:
            return await github.has_path(owner, repo, DEFAULT_REPO_PATH, branch)


@dataclass(frozen=True, slots=True)
class Degraded:
    """A connection whose repositories are missing from the answer, or partly."""

    connection_id: int
    label: str
    reason: str


async def _listing(api: GitHubApi, credential: StoredCredential) -> tuple[list[Repo], list[str]]:
    if credential.token is None:
        return [], [unreadable_token(credential.label)]
    try:
        async with api.session(credential.token) as github:
            listing = await github.repositories()
    except (InvalidTokenError, GitHubRateLimitedError, GitHubError) as exc:
        return [], [exc.message]
    return listing.repos, listing.problems


async def connection_repositories(
    api: GitHubApi, credentials: Sequence[StoredCredential], search: str | None
) -> dict[str, Any]:
    """GET /connections/repos: `{repos, degraded}`; every connection is asked at once."""
    listings = await asyncio.gather(*(_listing(api, c) for c in credentials))
    owners: dict[str, StoredCredential] = {}
    found: list[Repo] = []
    degraded: list[Degraded] = []
    for credential, (repos, problems) in zip(credentials, listings, strict=True):
        for repo in repos:
            owners.setdefault(repo.full_name, credential)
        found.extend(repos)
        if problems:
            degraded.append(
                Degraded(credential.connection_id, credential.label, "; ".join(problems))
            )
    return {
        "repos": [
            {
                **asdict(repo),
                "connection_id": owners[repo.full_name].connection_id,
                "connection_label": owners[repo.full_name].label,
            }
            for repo in picked(found, search)
        ],
        "degraded": [asdict(entry) for entry in degraded],
    }
