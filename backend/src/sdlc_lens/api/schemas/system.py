"""Health response (SPEC §5)."""

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    """200 when ready, 503 with the same body otherwise."""

    status: Literal["healthy", "unhealthy"]
    database: Literal["connected", "disconnected"]
    version: str
    migration_ok: bool
    fts_ok: bool
    ready: bool
