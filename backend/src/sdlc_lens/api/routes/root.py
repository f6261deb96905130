"""GET /: what this service is and where to go next."""

from fastapi import APIRouter, Request

from sdlc_lens import __version__
from sdlc_lens.api.deps import ServiceWarningsDep
from sdlc_lens.api.openapi import DOCS_URL, REDOC_URL
from sdlc_lens.api.schemas.system import ServiceInfo

router = APIRouter(tags=["system"])


@router.get("/", response_model=ServiceInfo)
async def service_info(request: Request, warnings: ServiceWarningsDep) -> ServiceInfo:
    """The product name and version, with links to the API docs and the system health, and
    the service's warnings (as in the system health)."""
    app = request.app
    return ServiceInfo(
        name=app.title,
        version=__version__,
        docs=DOCS_URL,
        redoc=REDOC_URL,
        openapi=app.openapi_url,
        health=app.url_path_for("health"),
        warnings=warnings,
    )
