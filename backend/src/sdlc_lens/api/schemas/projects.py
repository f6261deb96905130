"""Project request and response models (SPEC §4)."""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sdlc_lens.api.schemas.common import ResponseModel, SqliteInt
from sdlc_lens.services.projects import SyncState

NameField = Field(min_length=1, max_length=200)
GITHUB_NOT_SUPPORTED = (
    "GitHub sources are not supported yet; only local folders can be registered "
    "(source_type 'local' with an sdlc_path)"
)


class ProjectCreate(BaseModel):
    """POST /projects. Unknown keys are ignored."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"name": "Acme Portal", "sdlc_path": "/data/projects/acme"}]
        },
    )

    name: str = NameField
    sdlc_path: str | None = None
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
        if self.source_type == "local" and not (self.sdlc_path and self.sdlc_path.strip()):
            raise ValueError("'sdlc_path' is required for local source type")
        return self


class ProjectUpdate(BaseModel):
    """PUT /projects/{slug}: a partial update; at least one known key must be present."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"name": "Acme Portal (web)"}, {"sdlc_path": "/data/projects/acme-v2"}]
        },
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    sdlc_path: str | None = Field(default=None, min_length=1)
    # GitHub settings (a later epic): accepted so the frontend's form round-trips.
    repo_url: str | None = None
    repo_branch: str | None = Field(default=None, min_length=1, max_length=200)
    repo_path: str | None = Field(default=None, min_length=1, max_length=500)
    access_token: str | None = None
    connection_id: SqliteInt | None = None
    auto_sync: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("At least one field must be provided")
        for key in ("name", "sdlc_path", "repo_branch", "repo_path", "auto_sync"):
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
    "schema_version": 2,
    "profile": "default",
    "last_synced_at": "2026-03-02T09:16:10.004211+00:00",
    "auto_sync": False,
    "last_synced_commit_sha": None,
    "document_count": 38,
    "created_at": "2026-03-02T09:15:04.512301+00:00",
}


class ProjectOut(ResponseModel):
    """A project as every endpoint returns it; all keys are always present."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROJECT_EXAMPLE]})

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
