"""The project checkup (SPEC-2 §15, "health check"), served at `/projects/{slug}/health-check`.

Not the system health (`/system/health`, api/routes/system.py): that one says whether the
service is ready; this one finds gaps in a project's documents.
"""

import threading
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic_core import to_json

from sdlc_lens.api.caching import AnswerScope, CachedRoute, cached, holds_until
from sdlc_lens.api.deps import CheckupWorkersDep, EngineDep
from sdlc_lens.api.openapi import ErrorAnswer, error_responses
from sdlc_lens.api.schemas.checkup import HealthCheck
from sdlc_lens.services.reports import checkup as service

router = APIRouter(tags=["health check"], route_class=CachedRoute)


@router.get(
    "/projects/{slug}/health-check",
    response_model=HealthCheck,
    responses=error_responses(
        404,
        503,
        own={
            503: ErrorAnswer(
                f"The health check's worker is busy and {service.CHECKUP_QUEUE} more checks "
                "wait for it; carries `Retry-After` (seconds).",
                (("HEALTH_CHECK_BUSY", service.CHECKUP_BUSY_MESSAGE),),
                headers={
                    "Retry-After": {
                        "description": "Seconds to wait before trying again.",
                        "schema": {"type": "integer"},
                    }
                },
            )
        },
    ),
)
@cached(AnswerScope.PROJECT)
async def project_health_check(
    slug: str, request: Request, engine: EngineDep, workers: CheckupWorkersDep
) -> Response:
    """Check a project's documents for gaps and inconsistencies; score them out of 100.

    Reads every document of the project (not their text), so it runs on a worker of its own,
    one check at a time; the answer lists at most 100 findings per rule. It is computed once
    per version of the project's documents (`checked_at` says when), and again when one of
    them turns stale.
    """
    stop = threading.Event()

    def job() -> tuple[bytes, datetime | None]:
        checkup = service.run_check(engine, slug, stop.is_set)
        return to_json(checkup.answer), checkup.holds_until

    body, until = await workers.run(job, client_gone=request.is_disconnected, stop=stop.set)
    holds_until(request, None if until is None else until.timestamp())
    return Response(body, media_type="application/json")
