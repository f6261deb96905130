"""GET /system/health."""

from fastapi import APIRouter, Response

from sdlc_lens.api.deps import EngineDep
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.system import Health
from sdlc_lens.services.system_health import check_system_health

router = APIRouter(prefix="/system", tags=["system"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready: same body, `ready` false"}},
)
async def health(engine: EngineDep) -> Response:
    """Readiness of the database, its migrations and the search index (a point read)."""
    body = check_system_health(engine)
    return json_response(body, 200 if body["ready"] else 503)
