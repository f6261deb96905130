"""Project request and response models (SPEC §4)."""

import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sdlc_lens.api.schemas.common import ResponseModel, SqliteInt, Text, with_examples
from sdlc_lens.services.projects.registry import SyncState
from sdlc_lens.services.sync.progress import SyncPhase

GITHUB_NOT_SUPPORTED = (
    "GitHub sources are not supported yet; only local folders can be registered "
    "(source_type 'local' with an sdlc_path)"
)


# Python's `re` is also what generates data from a JSON Schema `pattern` in the API fuzz test,
# so the schema and the check below agree on what "blank" is.
NOT_BLANK = re.compile(r"\S")
# Keys of ProjectUpdate that may be left out but never sent as null.
NOT_NULLABLE_UPDATES = ("name", "sdlc_path", "repo_branch", "repo_path", "auto_sync")


def _create_schema(schema: dict[str, Any]) -> None:
    # What the validators below enforce, said in the schema: a local project needs a
    # non-blank path (the model keeps it optional so that the message names the rule).
    schema["required"] = ["name", "sdlc_path"]
    schema["properties"]["sdlc_path"] = {
        "type": "string",
        "pattern": NOT_BLANK.pattern,
        "description": "The project's sdlc-studio folder, as this server sees it.",
    }
    schema["examples"] = [{"name": "Acme Portal", "sdlc_path": "/data/projects/acme"}]


def _update_schema(schema: dict[str, Any]) -> None:
    properties = schema["properties"]
    for key in NOT_NULLABLE_UPDATES:
        nullable = properties[key].pop("anyOf")
        properties[key].update(next(s for s in nullable if s.get("type") != "null"))
        properties[key].pop("default", None)
    schema["anyOf"] = [{"required": [key]} for key in properties]
    schema["examples"] = [{"name": "Acme Portal (web)"}, {"sdlc_path": "/data/projects/acme-v2"}]


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
    sdlc_path: Text | None = None
    source_type: Literal["local"] = Field(
        default="local", description="Only local folders for now (`github` is refused)."
    )

    @field_validator("source_type", mode="before")
    @classmethod
    def _github_is_not_supported_yet(cls, value: object) -> object:
        # Refused here rather than accepted and then failing at every sync.
        if value == "github":
            raise ValueError(GITHUB_NOT_SUPPORTED)
        return value

    @model_validator(mode="after")
    def _local_needs_path(self) -> Self:
        if self.source_type == "local" and not NOT_BLANK.search(self.sdlc_path or ""):
            raise ValueError("'sdlc_path' is required for local source type")
        return self


class ProjectUpdate(BaseModel):
    """PUT /projects/{slug}: a partial update; at least one known key must be present."""

    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra=_update_schema)

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    sdlc_path: Text | None = Field(default=None, min_length=1)
    # GitHub settings (a later epic): accepted so the frontend's form round-trips.
    repo_url: Text | None = None
    repo_branch: Text | None = Field(default=None, min_length=1, max_length=200)
    repo_path: Text | None = Field(default=None, min_length=1, max_length=500)
    access_token: Text | None = None
    connection_id: SqliteInt | None = None
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
    source_type: str
    repo_url: str | None
    repo_branch: str
    repo_path: str
    masked_token: str | None
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
    last_synced_commit_sha: str | None
    document_count: int
    created_at: str


class SyncAccepted(ResponseModel):
    """202 answer to a sync trigger; poll GET /projects/{slug} until it leaves `syncing`."""

    slug: str
    sync_status: Literal[SyncState.SYNCING] = SyncState.SYNCING
    message: str = "Sync started"
