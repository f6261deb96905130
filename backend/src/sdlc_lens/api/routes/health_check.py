"""Project health check (SPEC-2 §15)."""

from typing import Any

from fastapi import APIRouter

from sdlc_lens.api.deps import ConnectionDep
from sdlc_lens.api.openapi import error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.health_check import HealthCheck
from sdlc_lens.services import project_health as service

router = APIRouter(tags=["health check"])


@router.get(
    "/projects/{slug}/health-check",
    response_model=HealthCheck,
    responses=error_responses(404),
)
def project_health_check(slug: str, conn: ConnectionDep) -> Any:
    """Check a project's documents for gaps and inconsistencies; score them out of 100.

    Reads every document of the project (not their text), so it runs in the thread pool.
    """
    return json_response(service.check_project(conn, slug))
