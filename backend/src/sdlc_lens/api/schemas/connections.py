"""Stored GitHub connections and the repository picker (SPEC-3 §17)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from sdlc_lens.api.schemas.common import VALID_UNICODE, ResponseModel, with_examples
from sdlc_lens.api.schemas.projects import (
    TOKEN_PLACEHOLDER,
    AccessToken,
    ConnectionId,
    RepoBranch,
)

# GitHub's names: an account of 1-39 letters, digits and inner hyphens; a repository of
# letters, digits, `.`, `_` and `-` (`.` and `..` are refused by the route).
OWNER_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$"
REPO_PATTERN = r"^[A-Za-z0-9._-]{1,100}$"

Label = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"\S",
        description="Unique among connections, in any case",
    ),
    VALID_UNICODE,
]
Search = Annotated[
    str,
    Field(max_length=200, description="Keep repositories whose full_name contains it (any case)"),
    VALID_UNICODE,
]


class ConnectionCreate(BaseModel):
    """POST /connections: checked with GitHub (`GET /user`) before it is stored."""

    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={"examples": [{"label": "Work", "access_token": TOKEN_PLACEHOLDER}]},
    )

    label: Label
    access_token: AccessToken


class ConnectionTokenUpdate(BaseModel):
    """PUT /connections/{id}: a new token, checked with GitHub before it replaces the old."""

    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={"examples": [{"access_token": TOKEN_PLACEHOLDER}]},
    )

    access_token: AccessToken


class RepoQuery(BaseModel):
    """POST /projects/github/repos: exactly one of `access_token` and `connection_id`."""

    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={"examples": [{"connection_id": 1, "search": "acme"}]},
    )

    access_token: AccessToken | None = None
    connection_id: ConnectionId | None = None
    search: Search | None = None


class SdlcStudioQuery(BaseModel):
    """POST /projects/github/repos/{owner}/{repo}/has-sdlc-studio."""

    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={"examples": [{"connection_id": 1, "branch": "main"}]},
    )

    access_token: AccessToken | None = None
    connection_id: ConnectionId | None = None
    branch: RepoBranch | None = Field(
        default=None, description="Default: the repository's default branch"
    )


CONNECTION_EXAMPLE = {
    "id": 1,
    "label": "Work",
    "login": "octocat",
    "masked_token": "****a1b2",
    "created_at": "2026-03-02T09:15:04.512301+00:00",
    "last_validated_at": "2026-03-02T09:15:04.512301+00:00",
}


class ConnectionOut(ResponseModel):
    """A stored connection; its token is never shown, only masked."""

    model_config = with_examples(CONNECTION_EXAMPLE)

    id: int
    label: str
    login: str = Field(description="The GitHub user the token belongs to")
    masked_token: str | None = Field(
        description="`****` and the token's last 4 characters; null when it cannot be decrypted"
    )
    created_at: str
    last_validated_at: str | None = Field(description="When GitHub last accepted the token")


REPO_EXAMPLE = {
    "full_name": "acme/web",
    "owner": "acme",
    "name": "web",
    "private": True,
    "default_branch": "main",
    "description": "The Acme web shop",
}


class RepoOut(ResponseModel):
    model_config = with_examples(REPO_EXAMPLE)

    full_name: str
    owner: str
    name: str
    private: bool
    default_branch: str
    description: str | None


class ConnectionRepoOut(RepoOut):
    model_config = with_examples({**REPO_EXAMPLE, "connection_id": 1, "connection_label": "Work"})

    connection_id: int
    connection_label: str


class DegradedOut(ResponseModel):
    connection_id: int
    label: str
    reason: str = Field(description="Why its repositories are missing, or only partly listed")


class ConnectionReposOut(ResponseModel):
    """Every connection's repositories; a connection that failed is in `degraded`."""

    model_config = with_examples(
        {
            "repos": [{**REPO_EXAMPLE, "connection_id": 1, "connection_label": "Work"}],
            "degraded": [
                {
                    "connection_id": 2,
                    "label": "Old laptop",
                    "reason": "GitHub refused the token (401): it is wrong, expired or revoked",
                }
            ],
        }
    )

    repos: list[ConnectionRepoOut] = Field(description="Sorted by full_name, at most 200")
    degraded: list[DegradedOut]


class RepositoriesOut(ResponseModel):
    model_config = with_examples({"repositories": [REPO_EXAMPLE]})

    repositories: list[RepoOut] = Field(description="Sorted by full_name, at most 200")


class HasSdlcStudioOut(ResponseModel):
    model_config = with_examples({"has_sdlc_studio": True})

    has_sdlc_studio: bool
