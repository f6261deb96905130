"""Project request and response models (SPEC §4)."""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdlc_lens.services.projects import SyncState
from sdlc_lens.services.sync_progress import SyncPhase

NameField = Field(min_length=1, max_length=200)


class ProjectCreate(BaseModel):
    """POST /projects. Unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    name: str = NameField
    sdlc_path: str | None = None
    source_type: Literal["local", "github"] = "local"

    @model_validator(mode="after")
    def _local_needs_path(self) -> Self:
        if self.source_type == "local" and not (self.sdlc_path and self.sdlc_path.strip()):
            raise ValueError("'sdlc_path' is required for local source type")
        return self


class ProjectUpdate(BaseModel):
    """PUT /projects/{slug}: a partial update; at least one known key must be present."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    sdlc_path: str | None = Field(default=None, min_length=1)
    # GitHub settings (a later epic): accepted so the frontend's form round-trips.
    repo_url: str | None = None
    repo_branch: str | None = Field(default=None, min_length=1, max_length=200)
    repo_path: str | None = Field(default=None, min_length=1, max_length=500)
    access_token: str | None = None
    connection_id: int | None = None
    auto_sync: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("At least one field must be provided")
        for key in ("name", "sdlc_path", "repo_branch", "repo_path", "auto_sync"):
            if key in self.model_fields_set and getattr(self, key) is None:
                raise ValueError(f"'{key}' cannot be null")
        return self


class SyncProgressOut(BaseModel):
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


class ProjectOut(BaseModel):
    """A project as every endpoint returns it; all keys are always present."""

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


class SyncAccepted(BaseModel):
    """202 answer to a sync trigger; poll GET /projects/{slug} until it leaves `syncing`."""

    slug: str
    sync_status: Literal[SyncState.SYNCING] = SyncState.SYNCING
    message: str = "Sync started"
