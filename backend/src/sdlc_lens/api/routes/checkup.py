"""The project checkup (SPEC-2 §15, "health check"), served at `/projects/{slug}/health-check`.

Not the system health (`/system/health`, api/routes/system.py): that one says whether the
service is ready; this one finds gaps in a project's documents.
"""

from typing import Any

from fastapi import APIRouter

from sdlc_lens.api.deps import ConnectionDep
from sdlc_lens.api.openapi import error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.checkup import HealthCheck
from sdlc_lens.services.reports import checkup as service

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
