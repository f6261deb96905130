"""Health response (SPEC §5)."""

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """200 when ready, 503 with the same body otherwise."""

    status: Literal["healthy", "unhealthy"]
    database: Literal["connected", "disconnected"]
    version: str
    migration_ok: bool
    fts_ok: bool
    ready: bool


class ServiceInfo(BaseModel):
    """GET /: the product, its version and where to go next (paths on this server)."""

    name: str
    version: str
    docs: str = Field(description="Interactive API documentation.")
    openapi: str = Field(description="The OpenAPI description of the API.")
    health: str = Field(description="Readiness check: 200 when ready, 503 otherwise.")
