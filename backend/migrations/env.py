"""Alembic environment: migrates the database named by the application's own settings.

Run by the container's entrypoint as `alembic upgrade head`, it is also the settings check
before anything is migrated (the entrypoint starts no other Python process before Uvicorn):
an invalid setting stops it with exit 2 and one line per setting (sdlc_lens.preflight).
With `-x settings_fd=N` it also writes `host port log-level database-url` on one line to that
file descriptor, for the entrypoint's `exec uvicorn`.
"""

# ruff: noqa: E402  (the collector is switched off before the imports: see below)

import gc

# The imports below (the settings' pydantic models among them) and the migrations make objects
# that live until the process ends; the cyclic collector would only scan them again and again
# (about a tenth of the container's first process). Off until the migrations are done.
collecting = gc.isenabled()
gc.disable()

import logging
import os
import sys

from alembic import context
from sqlalchemy import Connection, MetaData

from sdlc_lens import __version__
from sdlc_lens.db.engine import create_db_engine
from sdlc_lens.db.schema import EXIT_SCHEMA_TOO_NEW, database_revision, schema_too_new_message
from sdlc_lens.logging_setup import configure_logging
from sdlc_lens.preflight import settings_or_exit, startup_line

config = context.config
logger = logging.getLogger("sdlc_lens.migrations")


def command_name() -> str | None:
    """The alembic command being run (`upgrade`, `current`, ...); None when called from code."""
    command = getattr(config.cmd_opts, "cmd", None)
    return None if command is None else str(command[0].__name__)


def target_metadata() -> MetaData | None:
    """The app's tables, for the commands that compare them with the database
    (`alembic revision --autogenerate`, `alembic check`); None for the others, so that
    `upgrade` does not import the models (a start runs it every time)."""
    if command_name() not in ("revision", "check"):
        return None
    from sdlc_lens.db.models import metadata

    return metadata


def database_from_settings() -> str:
    """The settings from the environment, checked (exit 2 and one line each when invalid),
    with logging set up as the app's; their database URL."""
    settings = settings_or_exit()
    if config.attributes.get("configure_logging", True):
        # The app's format and SDLC_LENS_LOG_LEVEL; Alembic's own progress lines ("Running
        # upgrade ...") stay visible at DEBUG and INFO alike.
        configure_logging(settings.log_level)
        logging.getLogger("alembic").setLevel(max(logging.INFO, settings.log_level_number))
    settings_fd = context.get_x_argument(as_dictionary=True).get("settings_fd")
    if settings_fd is not None:
        with os.fdopen(int(settings_fd), "w") as channel:
            channel.write(startup_line(settings) + "\n")
    if command_name() == "upgrade":
        logger.info("applying database migrations (alembic upgrade) to %s", settings.database_url)
    return settings.database_url


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of touching a database (`alembic upgrade --sql`)."""
    context.configure(url=database_url, target_metadata=target_metadata(), literal_binds=True)
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
                target_metadata=target_metadata(),
                render_as_batch=True,
                # SQLite DDL is transactional: a failed migration leaves no half-built schema.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


try:
    # Programmatic callers (the tests) configure logging themselves and pass the URL directly.
    database_url = config.attributes.get("database_url") or database_from_settings()
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
finally:
    if collecting:  # programmatic callers (the tests) go on with their collector as it was
        gc.enable()
