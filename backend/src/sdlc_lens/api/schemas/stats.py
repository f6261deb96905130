"""Statistics models (SPEC §11)."""

from pydantic import BaseModel, Field

_BY_STATUS = "Documents per canonical status; documents without one are under `null`."
_COMPLETION = "Terminal stories / stories, in percent to one decimal; 0.0 without stories."


class ProjectStats(BaseModel):
    """Counts and story completion for one project."""

    slug: str
    name: str
    total_documents: int
    by_type: dict[str, int]
    by_status: dict[str, int] = Field(description=_BY_STATUS)
    completion_percentage: float = Field(description=_COMPLETION)
    last_synced_at: str | None


class ProjectStatsSummary(BaseModel):
    """One project's line in the overall statistics."""

    slug: str
    name: str
    total_documents: int
    completion_percentage: float = Field(description=_COMPLETION)
    last_synced_at: str | None


class GlobalStats(BaseModel):
    """Counts over every project; completion weighted by each project's stories."""

    total_projects: int
    total_documents: int
    by_type: dict[str, int]
    by_status: dict[str, int] = Field(description=_BY_STATUS)
    completion_percentage: float = Field(
        description="Σ terminal stories / Σ stories over all projects, in percent to one decimal."
    )
    projects: list[ProjectStatsSummary] = Field(description="Oldest project first.")
