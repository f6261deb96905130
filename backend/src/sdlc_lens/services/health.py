"""Readiness: can the database be opened, is it migrated to this code's head, is FTS there."""

import logging
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from sdlc_lens import __version__
from sdlc_lens.db.fts import FTS_TABLE
from sdlc_lens.db.schema import MIGRATION_HEAD

logger = logging.getLogger(__name__)

_TABLES = text(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('alembic_version', :fts)"
)
_REVISION = text("SELECT version_num FROM alembic_version")


def check_health(engine: Engine) -> dict[str, Any]:
    """The health body; never raises and never creates anything."""
    connected = migration_ok = fts_ok = False
    try:
        with engine.connect() as conn:
            tables = set(conn.execute(_TABLES, {"fts": FTS_TABLE}).scalars())
            connected = True
            fts_ok = FTS_TABLE in tables
            if "alembic_version" in tables:
                migration_ok = conn.execute(_REVISION).scalar() == MIGRATION_HEAD
    except SQLAlchemyError as exc:
        logger.warning("health check cannot use the database: %s", type(exc).__name__)
    ready = connected and migration_ok and fts_ok
    return {
        "status": "healthy" if ready else "unhealthy",
        "database": "connected" if connected else "disconnected",
        "version": __version__,
        "migration_ok": migration_ok,
        "fts_ok": fts_ok,
        "ready": ready,
    }
