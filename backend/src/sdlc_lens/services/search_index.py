"""Start-up repair of the full-text search index."""

import logging

from sqlalchemy import Engine

from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.fts import create_fts, fts_table_exists, rebuild_fts
from sdlc_lens.db.schema import MIGRATION_HEAD, database_revision

logger = logging.getLogger(__name__)


def repair_search_index(engine: Engine) -> bool:
    """Recreate and refill a missing index; True if it had to.

    Only on a database at this code's schema head: an older or newer schema is the
    migrations' business, and health reports it.
    """
    with write_transaction(engine) as conn:
        if database_revision(conn) != MIGRATION_HEAD or fts_table_exists(conn):
            return False
        logger.warning("search index missing; recreating and rebuilding it")
        create_fts(conn)
        rebuild_fts(conn)
        return True
