"""Alembic environment: migrates the database named by the application's own settings."""

import logging
import sys

from alembic import context
from sqlalchemy import Connection

from sdlc_lens import __version__
from sdlc_lens.config import get_settings
from sdlc_lens.db.engine import create_db_engine
from sdlc_lens.db.models import metadata
from sdlc_lens.db.schema import EXIT_SCHEMA_TOO_NEW, database_revision, schema_too_new_message
from sdlc_lens.logging_setup import configure_logging

config = context.config
logger = logging.getLogger("sdlc_lens.migrations")

# Programmatic callers (the tests) configure logging themselves and pass the URL directly.
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    # The app's format and SDLC_LENS_LOG_LEVEL; Alembic's own progress lines ("Running
    # upgrade ...") stay visible at DEBUG and INFO alike.
    configure_logging(get_settings().log_level)
    logging.getLogger("alembic").setLevel(max(logging.INFO, get_settings().log_level_number))

database_url = config.attributes.get("database_url") or get_settings().database_url


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of touching a database (`alembic upgrade --sql`)."""
    context.configure(url=database_url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def refuse_a_newer_schema(connection: Connection) -> None:
    """Stop, in one line, on a database at a revision these scripts do not have: a newer
    version migrated it (a downgrade). Alembic itself would only say it cannot locate it."""
    revision = database_revision(connection)
    # End the read's transaction: Alembic only commits a transaction it began itself.
    connection.rollback()
    known = {script.revision for script in context.script.walk_revisions()}
    if revision is not None and revision not in known:
        logger.error("%s", schema_too_new_message(database_url, revision, __version__))
        sys.exit(EXIT_SCHEMA_TOO_NEW)


def run_migrations_online() -> None:
    """Apply the migrations in one transaction (SQLite DDL is transactional)."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            refuse_a_newer_schema(connection)
            # Foreign keys off, as SQLite's table-rebuild procedure requires: dropping a
            # rebuilt parent table must not cascade into its children. The pragma is ignored
            # inside a transaction, so it is set on the raw connection before BEGIN.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=True,
                # SQLite DDL is transactional: a failed migration leaves no half-built schema.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
