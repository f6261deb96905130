"""Start-up repair of the full-text search index."""

import logging

from sqlalchemy import Engine

from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.fts import fts_complete, recreate_fts
from sdlc_lens.db.schema import MIGRATION_HEAD, database_revision

logger = logging.getLogger(__name__)


def repair_search_index(engine: Engine) -> bool:
    """Recreate and refill an index that is missing or lost a part; True if it had to.

    Only on a database at this code's schema head: an older or newer schema is the
    migrations' business, and health reports it.
    """
    with write_transaction(engine) as conn:
        if database_revision(conn) != MIGRATION_HEAD or fts_complete(conn):
            return False
        logger.warning("search index missing or incomplete; recreating and rebuilding it")
        recreate_fts(conn)
        return True
