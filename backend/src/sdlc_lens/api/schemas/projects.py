"""Project request and response models (SPEC §4)."""

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdlc_lens.api.schemas.common import (
    VALID_UNICODE,
    ResponseModel,
    SqliteInt,
    Text,
    with_examples,
)
from sdlc_lens.services.projects.editing import NewProject
from sdlc_lens.services.projects.registry import SyncState
from sdlc_lens.services.projects.sources import (
    DEFAULT_BRANCH,
    DEFAULT_REPO_PATH,
    MAX_BRANCH_CHARS,
    MAX_REPO_PATH_CHARS,
    MAX_REPO_URL_CHARS,
    SourceType,
)
from sdlc_lens.services.sync.progress import SyncPhase

# Keys of ProjectUpdate that may be left out but never sent as null.
NOT_NULLABLE_UPDATES = ("name", "source_type", "repo_branch", "repo_path", "auto_sync")
# A token goes into an HTTP header: visible ASCII, no spaces (a pasted newline is refused
# rather than sent), and far shorter than this.
HEADER_SAFE_PATTERN = r"^[\x21-\x7e]+$"
MAX_TOKEN_CHARS = 1000
# What an example shows where a token goes: never anything shaped like a real one.
TOKEN_PLACEHOLDER = "<personal-access-token>"  # noqa: S105 - no secret

# SourceType's values: the request models are strict, and a strict enum field takes only
# members, never the JSON string (a test keeps the two equal).
SourceTypeName = Literal["local", "github", "git"]

SOURCE_RULES = (
    "`local` needs `sdlc_path` (a folder as this server sees it); `github` and `git` need "
    "`repo_url` and have no `sdlc_path`. A `github` URL is https://github.com/{owner}/{repo} "
    "(or the same under SDLC_LENS_GITHUB_URL); a `git` URL is http(s):// without credentials. "
    "Breaking a rule is 422."
)

AccessToken = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TOKEN_CHARS,
        pattern=HEADER_SAFE_PATTERN,
        description="Write-only: stored (encrypted when the server has a key), never returned; "
        "the answer shows `masked_token`.",
    ),
    VALID_UNICODE,
]
ConnectionId = Annotated[
    SqliteInt, Field(description="`github` only: a stored connection whose token is used.")
]
RepoUrl = Annotated[str, Field(max_length=MAX_REPO_URL_CHARS), VALID_UNICODE]
RepoBranch = Annotated[str, Field(min_length=1, max_length=MAX_BRANCH_CHARS), VALID_UNICODE]
RepoPath = Annotated[
    str,
    Field(
        max_length=MAX_REPO_PATH_CHARS,
        description='The folder inside the repository that holds the documents; `""` or '
        '`"."` for the repository root.',
    ),
    VALID_UNICODE,
]


def _create_schema(schema: dict[str, Any]) -> None:
    schema["examples"] = [
        {"name": "Acme Portal", "sdlc_path": "/data/projects/acme"},
        {
            "name": "Acme Web",
            "source_type": "github",
            "repo_url": "https://github.com/acme/web",
            "repo_branch": "main",
            "repo_path": "sdlc-studio",
            "connection_id": 1,
        },
        {
            "name": "Billing",
            "source_type": "git",
            "repo_url": "https://git.example.com/team/billing.git",
            "access_token": TOKEN_PLACEHOLDER,
        },
    ]


def _update_schema(schema: dict[str, Any]) -> None:
    properties = schema["properties"]
    for key in NOT_NULLABLE_UPDATES:
        nullable = properties[key].pop("anyOf")
        properties[key].update(next(s for s in nullable if s.get("type") != "null"))
        properties[key].pop("default", None)
    schema["anyOf"] = [{"required": [key]} for key in properties]
    schema["examples"] = [
        {"name": "Acme Portal (web)"},
        {"sdlc_path": "/data/projects/acme-v2"},
        {"access_token": None},
        {"connection_id": None, "access_token": TOKEN_PLACEHOLDER},
    ]


class ProjectCreate(BaseModel):
    """POST /projects. Unknown keys are ignored."""

    # Strict: the JSON types the description names, no coercion (`"5"` is not 5).
    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra=_create_schema)

    name: Text = Field(
        min_length=1,
        max_length=200,
        description="Display name; the slug is made from its letters and digits (NFKD, ASCII "
        "only), so a name with none of those is refused with 422.",
    )
    source_type: SourceTypeName = Field(default="local", description=SOURCE_RULES)
    sdlc_path: Text | None = Field(
        default=None, description="`local`: the sdlc-studio folder, as this server sees it."
    )
    repo_url: RepoUrl | None = None
    repo_branch: RepoBranch | None = Field(default=None, description="Default `main`.")
    repo_path: RepoPath | None = Field(default=None, description="Default `sdlc-studio`.")
    access_token: AccessToken | None = None
    connection_id: ConnectionId | None = None
    auto_sync: bool = False

    def new_project(self) -> NewProject:
        """The request as the service takes it, defaults filled in."""
        return NewProject(
            name=self.name,
            sdlc_path=self.sdlc_path,
            source_type=self.source_type,
            repo_url=self.repo_url,
            repo_branch=DEFAULT_BRANCH if self.repo_branch is None else self.repo_branch,
            repo_path=DEFAULT_REPO_PATH if self.repo_path is None else self.repo_path,
            connection_id=self.connection_id,
            auto_sync=self.auto_sync,
            access_token=self.access_token,
        )


class ProjectUpdate(BaseModel):
    """PUT /projects/{slug}: a partial update; at least one known key must be present.

    An omitted key is left alone; `"connection_id": null` detaches the connection and
    `"access_token": null` deletes the stored token.
    """

    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra=_update_schema)

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    source_type: SourceTypeName | None = Field(default=None, description=SOURCE_RULES)
    sdlc_path: Text | None = Field(
        default=None, description="`local`: a new folder, checked as on create."
    )
    repo_url: RepoUrl | None = None
    repo_branch: RepoBranch | None = None
    repo_path: RepoPath | None = None
    access_token: AccessToken | None = Field(
        default=None, description="A new token; null deletes the stored one."
    )
    connection_id: ConnectionId | None = Field(
        default=None, description="Another connection; null detaches it."
    )
    auto_sync: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("At least one field must be provided")
        for key in NOT_NULLABLE_UPDATES:
            if key in self.model_fields_set and getattr(self, key) is None:
                raise ValueError(f"'{key}' cannot be null")
        return self


PROJECT_EXAMPLE = {
    "slug": "acme-portal",
    "name": "Acme Portal",
    "sdlc_path": "/data/projects/acme",
    "source_type": "local",
    "repo_url": None,
    "repo_branch": "main",
    "repo_path": "sdlc-studio",
    "masked_token": None,
    "connection_id": None,
    "sync_status": "synced",
    "sync_error": None,
    "sync_progress": None,
    "schema_version": 2,
    "profile": "default",
    "last_synced_at": "2026-03-02T09:16:10.004211+00:00",
    "auto_sync": False,
    "auto_sync_mode": None,
    "last_synced_commit_sha": None,
    "document_count": 38,
    "created_at": "2026-03-02T09:15:04.512301+00:00",
}


class SyncProgressOut(ResponseModel):
    """How far the running sync has got (in memory; not stored)."""

    phase: SyncPhase = Field(
        description="`scanning` the folder, `parsing` new and changed files, or `writing` "
        "the one transaction"
    )
    files_seen: int = Field(description="Document files found by the walk so far")
    files_to_process: int = Field(
        description="New or changed files to read and parse (known once scanning is over)"
    )
    files_done: int = Field(description="Files to process that have been read")


class ProjectOut(ResponseModel):
    """A project as every endpoint returns it; all keys are always present."""

    model_config = with_examples(PROJECT_EXAMPLE)

    slug: str
    name: str
    sdlc_path: str | None
    source_type: SourceType
    repo_url: str | None
    repo_branch: str
    repo_path: str
    masked_token: str | None = Field(
        description="`****` and the token's last 4 characters; null when there is no usable "
        "token (none, or one that cannot be decrypted)"
    )
    connection_id: int | None
    sync_status: SyncState
    sync_error: str | None
    sync_progress: SyncProgressOut | None = Field(
        description="Progress of the running sync; null when no sync is running"
    )
    schema_version: int | None
    profile: str | None
    last_synced_at: str | None
    auto_sync: bool
    auto_sync_mode: Literal["watch", "poll"] | None = Field(
        description="How a followed project (local, with `auto_sync`) learns of changes: "
        "`watch`, the operating system's notifications (within about a second); `poll`, a "
        "scan every SDLC_LENS_WATCH_FALLBACK_SECONDS where notifications cannot be used (the "
        "log says why); null when the project is not followed"
    )
    last_synced_commit_sha: str | None
    document_count: int
    created_at: str


class SyncAccepted(ResponseModel):
    """202 answer to a sync trigger; poll GET /projects/{slug} until it leaves `syncing`."""

    slug: str
    sync_status: Literal[SyncState.SYNCING] = SyncState.SYNCING
    message: str = "Sync started"
