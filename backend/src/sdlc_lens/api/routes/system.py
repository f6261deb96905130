"""GET /system/health and GET /version."""

from fastapi import APIRouter, Response

from sdlc_lens import __version__
from sdlc_lens.api.deps import ConnectionDep, EngineDep, ServiceWarningsDep
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.system import Health, VersionInfo
from sdlc_lens.db.schema import database_revision
from sdlc_lens.services.system_health import check_system_health

router = APIRouter(tags=["system"])


@router.get(
    "/system/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready: same body, `ready` false"}},
)
async def health(engine: EngineDep, warnings: ServiceWarningsDep) -> Response:
    """Readiness of the database, its migrations and the search index (a point read), and
    the service's warnings: what works but is probably a mistake (they never make it 503)."""
    body = check_system_health(engine, warnings)
    return json_response(body, 200 if body["ready"] else 503)


@router.get("/version", response_model=VersionInfo)
async def version(conn: ConnectionDep) -> Response:
    """The running version and the database's schema revision (a point read)."""
    return json_response({"version": __version__, "schema_revision": database_revision(conn)})
