"""What repository projects (`github`, `git`) need before any git is spoken: their settings,
the URL a project is fetched from, and where the object stores live.

Kept apart from the git modules (repository.py, git_remote.py, git_store.py), which import
dulwich and urllib3: the service imports those at a repository's first sync or poll, not at
every start.
"""

import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from sdlc_lens.errors import SourceError, ValidationFailedError
from sdlc_lens.services.projects.sources import (
    SourceType,
    check_git_url,
    github_repository,
    required,
)
from sdlc_lens.services.sources.source import MIB, ProjectLocation

REMOTE_KINDS = (SourceType.GITHUB.value, SourceType.GIT.value)
# Below the database folder: one object store per repository project.
STORES_FOLDER = "repositories"


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    """The settings of every git exchange (config.py: SDLC_LENS_GIT_*)."""

    username: str = "x-access-token"
    timeout: float = 60.0
    max_fetch_bytes: int = 200 * MIB


@dataclass(frozen=True, slots=True)
class RepositoryConfig:
    """What opening a repository source needs besides the project's own columns."""

    store_root: Path  # <database folder>/repositories
    remote: RemoteOptions
    github_url: str = "https://github.com"  # SDLC_LENS_GITHUB_URL
    # The token a sync sends (the project's own, or its connection's): SourceError when the
    # project names a token it cannot have.
    token_for: Callable[[ProjectLocation], str | None] = lambda location: location.access_token


def git_url(location: ProjectLocation, github_url: str) -> str:
    """The URL to fetch from: `{github_url}/{owner}/{repo}.git` for `github`, `repo_url`
    itself for `git`; SourceError for a URL the API would have refused (checked again here:
    file://, ssh://, ext:: and local paths would read this server's disk or run commands)."""
    url = (location.repo_url or "").strip()
    try:
        if not url:
            raise ValidationFailedError(required("repo_url", location.source_type))
        if location.source_type == SourceType.GITHUB:
            owner, name = github_repository(url, github_url)
            return f"{github_url.rstrip('/')}/{owner}/{name}.git"
        check_git_url(url)
    except ValidationFailedError as exc:
        raise SourceError(exc.message) from None
    return url


def store_folder(root: Path, project_id: int) -> Path:
    """Where the store of a project is (project ids are never reused)."""
    return root / str(project_id)


def remove_store(root: Path, project_id: int) -> None:
    """Delete a project's store, if it has one."""
    shutil.rmtree(store_folder(root, project_id), ignore_errors=True)


def remove_orphaned_stores(root: Path, project_ids: Collection[int]) -> int:
    """At start-up: remove the stores of projects that no longer exist; how many."""
    removed = 0
    if not root.is_dir():
        return removed
    for folder in root.iterdir():
        if folder.is_dir() and (not folder.name.isdigit() or int(folder.name) not in project_ids):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
