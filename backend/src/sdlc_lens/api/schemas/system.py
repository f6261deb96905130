"""Health response (SPEC §5), `GET /` and `GET /version`."""

from typing import Literal

from pydantic import Field

from sdlc_lens.api.schemas.common import ResponseModel, with_examples

WARNINGS_DESCRIPTION = (
    "What works but is probably a mistake, one sentence each, as logged at WARNING: e.g. "
    "SDLC_LENS_PROJECTS_ROOT holds no sdlc-studio folder (a mistyped mount). Empty when none; "
    "never a reason for 503."
)


class Health(ResponseModel):
    """200 when ready, 503 with the same body otherwise."""

    model_config = with_examples(
        {
            "status": "healthy",
            "database": "connected",
            "version": "0.4.0",
            "migration_ok": True,
            "fts_ok": True,
            "ready": True,
            "warnings": [],
        }
    )

    status: Literal["healthy", "unhealthy"]
    database: Literal["connected", "disconnected"]
    version: str
    migration_ok: bool
    fts_ok: bool
    ready: bool
    warnings: list[str] = Field(description=WARNINGS_DESCRIPTION)


class ServiceInfo(ResponseModel):
    """GET /: the product, its version and where to go next (paths on this server)."""

    model_config = with_examples(
        {
            "name": "SDLC Lens",
            "version": "0.4.0",
            "docs": "/docs",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
            "health": "/api/v1/system/health",
            "warnings": [],
        }
    )

    name: str
    version: str
    docs: str = Field(description="Interactive API documentation (Swagger UI).")
    redoc: str = Field(description="The same documentation as one page (ReDoc).")
    openapi: str = Field(description="The OpenAPI description of the API.")
    health: str = Field(description="Readiness check: 200 when ready, 503 otherwise.")
    warnings: list[str] = Field(description=WARNINGS_DESCRIPTION)


class VersionInfo(ResponseModel):
    """GET /version: what is running, and the schema its database is at."""

    model_config = with_examples({"version": "0.4.0", "schema_revision": "0010_sync_generations"})

    version: str = Field(description="The package version (see CHANGELOG.md).")
    schema_revision: str | None = Field(
        description="The Alembic revision the database is at (migrations run at every start, "
        "so this is the newest one this version knows); null for a database never migrated."
    )
