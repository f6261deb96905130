"""The application factory: `uvicorn --factory sdlc_lens.main:create_app`."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from sdlc_lens import __version__
from sdlc_lens.api.database_errors import install_database_error_handler
from sdlc_lens.api.routes import documents, projects, search, stats, system
from sdlc_lens.config import Settings, get_settings
from sdlc_lens.db.engine import close_engine, create_db_engine, redact, write_transaction
from sdlc_lens.db.fts import create_fts, fts_table_exists, rebuild_fts
from sdlc_lens.db.schema import MIGRATION_HEAD
from sdlc_lens.errors import install_error_handlers
from sdlc_lens.logging_setup import configure_logging
from sdlc_lens.services.sync import mark_interrupted_syncs
from sdlc_lens.services.sync_runner import SyncRunner

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app around one settings object and one database engine."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    engine = create_db_engine(settings.database_url)
    runner = SyncRunner(engine, settings.allowed_project_base)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info(
            "SDLC Lens %s starting; database %s", __version__, redact(settings.database_url)
        )
        await run_in_threadpool(recover_on_startup, engine)
        runner.purge_leftovers()
        yield
        logger.info("shutting down: stopping background syncs")
        await run_in_threadpool(runner.shutdown)
        await run_in_threadpool(close_engine, engine)

    app = FastAPI(
        title="SDLC Lens",
        version=__version__,
        summary="Read-only API over sdlc-studio project documents.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sync_runner = runner
    install_error_handlers(app)
    install_database_error_handler(app)

    api = APIRouter(prefix=API_PREFIX)
    for module in (system, projects, documents, stats, search):
        api.include_router(module.router)
    app.include_router(api)
    return app


def recover_on_startup(engine: Engine) -> None:
    """Undo what a killed process left behind; never blocks start-up."""
    try:
        interrupted = mark_interrupted_syncs(engine)
        if interrupted:
            logger.warning("%d sync(s) were interrupted by a restart; marked as error", interrupted)
        with write_transaction(engine) as conn:
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            if revision == MIGRATION_HEAD and not fts_table_exists(conn):
                logger.warning("search index missing; recreating and rebuilding it")
                create_fts(conn)
                rebuild_fts(conn)
    except SQLAlchemyError as exc:
        # An unmigrated or unreadable database: health reports it, the process stays up.
        logger.error("start-up checks could not use the database: %s", exc)
