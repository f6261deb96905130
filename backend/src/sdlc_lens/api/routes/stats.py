"""Statistics (SPEC §11)."""

from typing import Any

from fastapi import APIRouter

from sdlc_lens.api.caching import AnswerScope, CachedRoute, cached
from sdlc_lens.api.deps import ConnectionDep
from sdlc_lens.api.openapi import error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.stats import GlobalStats, ProjectStats
from sdlc_lens.services.reports import stats as service

router = APIRouter(tags=["stats"], route_class=CachedRoute)


@router.get(
    "/projects/{slug}/stats",
    response_model=ProjectStats,
    responses=error_responses(404),
)
@cached(AnswerScope.PROJECT)
def project_stats(slug: str, conn: ConnectionDep) -> Any:
    """Document counts by type and status, and story completion, for one project."""
    return json_response(service.project_stats(conn, slug))


@router.get("/stats", response_model=GlobalStats)
@cached(AnswerScope.ALL_PROJECTS)
def global_stats(conn: ConnectionDep) -> Any:
    """The same figures over every project, and one line per project (oldest first)."""
    return json_response(service.global_stats(conn))
