"""Statistics models (SPEC §11)."""

from pydantic import Field

from sdlc_lens.api.schemas.common import ResponseModel, with_examples

_BY_STATUS = "Documents per canonical status; documents without one are under `null`."
_COMPLETION = "Terminal stories / stories, in percent to one decimal; 0.0 without stories."


class ProjectStats(ResponseModel):
    """Counts and story completion for one project."""

    model_config = with_examples(
        {
            "slug": "acme-portal",
            "name": "Acme Portal",
            "total_documents": 38,
            "by_type": {"epic": 3, "story": 21, "plan": 10, "prd": 1, "other": 3},
            "by_status": {"Done": 20, "In Progress": 6, "Draft": 9, "null": 3},
            "completion_percentage": 61.9,
            "last_synced_at": "2026-03-02T09:16:10.004211+00:00",
        }
    )

    slug: str
    name: str
    total_documents: int
    by_type: dict[str, int]
    by_status: dict[str, int] = Field(description=_BY_STATUS)
    completion_percentage: float = Field(description=_COMPLETION)
    last_synced_at: str | None


class ProjectStatsSummary(ResponseModel):
    """One project's line in the overall statistics."""

    slug: str
    name: str
    total_documents: int
    completion_percentage: float = Field(description=_COMPLETION)
    last_synced_at: str | None


class GlobalStats(ResponseModel):
    """Counts over every project; completion weighted by each project's stories."""

    model_config = with_examples(
        {
            "total_projects": 1,
            "total_documents": 38,
            "by_type": {"epic": 3, "story": 21, "plan": 10, "prd": 1, "other": 3},
            "by_status": {"Done": 20, "In Progress": 6, "Draft": 9, "null": 3},
            "completion_percentage": 61.9,
            "projects": [
                {
                    "slug": "acme-portal",
                    "name": "Acme Portal",
                    "total_documents": 38,
                    "completion_percentage": 61.9,
                    "last_synced_at": "2026-03-02T09:16:10.004211+00:00",
                }
            ],
        }
    )

    total_projects: int
    total_documents: int
    by_type: dict[str, int]
    by_status: dict[str, int] = Field(description=_BY_STATUS)
    completion_percentage: float = Field(
        description="Σ terminal stories / Σ stories over all projects, in percent to one decimal."
    )
    projects: list[ProjectStatsSummary] = Field(description="Oldest project first.")
