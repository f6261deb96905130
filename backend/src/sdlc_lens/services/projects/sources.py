"""Where a project's documents are (SPEC-3 §16.1): its source type, and the repository URL,
branch and folder of a remote one, checked before anything is stored.

Pure rules, no I/O: a folder's own checks (it exists, it is readable, it is inside the allowed
base) are `paths.py`'s. Every refusal is a `ValidationFailedError` (422) whose message names
the field and the accepted form; a message never repeats a URL, which could carry a secret.
"""

import re
from dataclasses import replace
from enum import StrEnum
from urllib.parse import urlsplit

from sdlc_lens.errors import ValidationFailedError
from sdlc_lens.services.sources.source import ProjectLocation

DEFAULT_GITHUB_URL = "https://github.com"
DEFAULT_BRANCH = "main"
DEFAULT_REPO_PATH = "sdlc-studio"
# Column sizes (db/models.py) and a bound on what a URL may be.
MAX_BRANCH_CHARS = 200
MAX_REPO_PATH_CHARS = 500
MAX_REPO_URL_CHARS = 2000


class SourceType(StrEnum):
    """A project's `source_type`."""

    LOCAL = "local"  # a folder on this server
    GITHUB = "github"  # a GitHub (or GitHub Enterprise) repository
    GIT = "git"  # any git server that speaks smart HTTP


# The fields whose change makes the next sync a full one (`last_synced_commit_sha` cleared).
LOCATION_FIELDS = ("source_type", "repo_url", "repo_branch", "repo_path")


def required(field: str, source_type: str) -> str:
    """The message for a field a source type needs (the previous implementation's wording)."""
    return f"'{field}' is required for {source_type} source type"


def check_source(fields: ProjectLocation, github_url: str) -> ProjectLocation:
    """The fields as they are stored, or ValidationFailedError naming the first problem.

    A folder needs `sdlc_path`; a repository needs `repo_url` and has no `sdlc_path` (null).
    Only a `github` project may name a connection. The folder itself is checked by the caller.
    """
    kind = fields.source_type
    if kind == SourceType.LOCAL:
        if not (fields.sdlc_path or "").strip():
            raise ValidationFailedError(required("sdlc_path", kind))
    elif not (fields.repo_url or "").strip():
        raise ValidationFailedError(required("repo_url", kind))
    if fields.connection_id is not None and kind != SourceType.GITHUB:
        raise ValidationFailedError("'connection_id' is only for github source type")
    check_branch(fields.repo_branch)
    repo_path = checked_repo_path(fields.repo_path)
    if kind == SourceType.LOCAL:
        return replace(fields, repo_path=repo_path)
    repo_url = (fields.repo_url or "").strip()
    if kind == SourceType.GITHUB:
        github_repository(repo_url, github_url)
    else:
        check_git_url(repo_url)
    return replace(fields, sdlc_path=None, repo_url=repo_url, repo_path=repo_path)


# A GitHub account (1-39 letters, digits, inner hyphens) and a repository name.
_GITHUB_PATH = re.compile(
    r"/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?)"
    r"/(?P<repo>[A-Za-z0-9._-]{1,100}?)(?:\.git)?/?"
)


def github_repository(repo_url: str, github_url: str) -> tuple[str, str]:
    """(owner, repository) of a GitHub repository URL: `https://github.com/{owner}/{repo}`,
    or the same under `github_url` (SDLC_LENS_GITHUB_URL, GitHub Enterprise), with an optional
    `.git` and trailing `/`; else ValidationFailedError naming the accepted form."""
    for base in dict.fromkeys((github_url.rstrip("/"), DEFAULT_GITHUB_URL)):
        # Scheme and host in any case, as browsers treat them; the path as written.
        if len(repo_url) > len(base) and repo_url[: len(base)].lower() == base.lower():
            match = _GITHUB_PATH.fullmatch(repo_url[len(base) :])
            if match and match["repo"] not in (".", ".."):
                return match["owner"], match["repo"]
    forms = " or ".join(
        f"{base}/{{owner}}/{{repo}}" for base in dict.fromkeys((DEFAULT_GITHUB_URL, github_url))
    )
    raise ValidationFailedError(f"repo_url must be {forms} (optionally ending in .git)")


_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
GIT_URL_FORM = (
    "repo_url must be an http:// or https:// URL of a git repository for git source type "
    "(file://, ssh://, ext:: and local paths are refused)"
)


def check_git_url(repo_url: str) -> None:
    """A `git` project's URL: http(s) with a host, no credentials, query or fragment.

    Never `file://`, `ssh://`, `ext::` or a local path: those would read this server's own disk
    or run a command. Credentials in the URL would be stored and shown in the clear.
    """
    if len(repo_url) > MAX_REPO_URL_CHARS:
        raise ValidationFailedError(f"repo_url must be at most {MAX_REPO_URL_CHARS} characters")
    if _CONTROL_OR_SPACE.search(repo_url):
        raise ValidationFailedError("repo_url must not contain spaces or control characters")
    try:
        parts = urlsplit(repo_url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise ValidationFailedError(GIT_URL_FORM) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValidationFailedError(GIT_URL_FORM)
    if "@" in parts.netloc:
        raise ValidationFailedError(
            "repo_url must not contain credentials: use access_token for the token"
        )
    if parts.query or parts.fragment or "#" in repo_url or "?" in repo_url:
        raise ValidationFailedError("repo_url must have no query (?) or fragment (#)")


# What `git check-ref-format --branch` refuses anywhere in a name.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def check_branch(name: str) -> None:
    """A branch name git accepts (git-check-ref-format's rules), else ValidationFailedError."""
    rule = branch_problem(name)
    if rule is not None:
        raise ValidationFailedError(f"repo_branch is not a valid git branch name: {rule}")


def branch_problem(name: str) -> str | None:
    """What makes `name` no branch name git accepts, or None when it is one."""
    if not name:
        return "it is empty"
    if len(name) > MAX_BRANCH_CHARS:
        return f"it is longer than {MAX_BRANCH_CHARS} characters"
    if _REF_FORBIDDEN.search(name):
        return "no spaces, control characters, '..', '//', '@{' or any of ~ ^ : ? * [ \\"
    if name.startswith(("-", "/")) or name.endswith(("/", ".")) or name == "@":
        return "it may not start with '-' or '/', end with '/' or '.', or be '@'"
    if any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        return "no part may start with '.' or end with '.lock'"
    return None


_REPO_PATH_RULE = (
    "repo_path must be a folder inside the repository: a relative path without '..', '.' or "
    "empty parts, '.git', a leading '/', a backslash or control characters ('' or '.' for "
    "the repository root)"
)


def checked_repo_path(path: str) -> str:
    """`repo_path` as stored: a trailing `/` dropped, `""` and `"."` meaning the root; else
    ValidationFailedError. Checked as git checks the paths of a tree."""
    if len(path) > MAX_REPO_PATH_CHARS:
        raise ValidationFailedError(f"repo_path must be at most {MAX_REPO_PATH_CHARS} characters")
    trimmed = path.rstrip("/") if path not in ("", "/") else path
    if trimmed in ("", "."):
        return trimmed
    parts = trimmed.split("/")
    if (
        _CONTROL_OR_SPACE.search(trimmed.replace(" ", "x"))
        or "\\" in trimmed
        or any(part in ("", ".", "..") or part.lower() == ".git" for part in parts)
    ):
        raise ValidationFailedError(_REPO_PATH_RULE)
    return trimmed
