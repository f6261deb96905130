"""System health (`/system/health`, the container's HEALTHCHECK): is the service ready?

Can the database be opened, is it migrated to this code's head, is the search index there.
The project checkup (services/reports/checkup.py) is another thing: it grades documents.
"""

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from sdlc_lens import __version__
from sdlc_lens.db.fts import fts_table_exists
from sdlc_lens.db.schema import MIGRATION_HEAD, database_revision

logger = logging.getLogger(__name__)


def check_system_health(engine: Engine, warnings: Sequence[str] = ()) -> dict[str, Any]:
    """The system health body, with the service's `warnings` (what works but is probably a
    mistake: they leave `ready` alone); never raises and never creates anything."""
    connected = migration_ok = fts_ok = False
    try:
        with engine.connect() as conn:
            migration_ok = database_revision(conn) == MIGRATION_HEAD
            connected = True
            fts_ok = fts_table_exists(conn)
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
        "warnings": list(warnings),
    }
