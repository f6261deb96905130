"""The application factory: `uvicorn --factory sdlc_lens.main:create_app`."""

# ruff: noqa: E402  (the collector is switched off before the imports: see below)

import gc

# The imports below and create_app make objects that live as long as the process; the cyclic
# collector would only scan them again and again (a tenth of the start's CPU). It is off until
# create_app has built the app.
gc.disable()

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from sdlc_lens import __version__
from sdlc_lens.api.caching import AnswerCache
from sdlc_lens.api.errors import install_error_handlers
from sdlc_lens.api.middleware import install_middleware
from sdlc_lens.api.openapi import OFFLINE_DOCS, install_openapi
from sdlc_lens.api.routes import (
    checkup,
    connections,
    documents,
    projects,
    root,
    search,
    stats,
    system,
)
from sdlc_lens.config import Settings, get_settings, unknown_settings
from sdlc_lens.db.engine import close_engine, create_db_engine, database_file
from sdlc_lens.logging_setup import configure_logging
from sdlc_lens.services.connections.github import GitHubApi
from sdlc_lens.services.freshness.poller import FreshnessPoller
from sdlc_lens.services.freshness.watcher import FolderWatcher
from sdlc_lens.services.projects.discovery import ProjectsRootState, discover_and_sync
from sdlc_lens.services.reports.checkup import checkup_workers
from sdlc_lens.services.search.index import repair_search_index
from sdlc_lens.services.search.runner import SearchRunner
from sdlc_lens.services.sources.repository_config import (
    STORES_FOLDER,
    RemoteOptions,
    RepositoryConfig,
)
from sdlc_lens.services.sources.source import MIB, ProjectLocation
from sdlc_lens.services.sync.outcome import mark_interrupted_syncs
from sdlc_lens.services.sync.runner import SyncRunner
from sdlc_lens.services.tokens import SyncTokens, TokenCipher, stored_token_warnings

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
API_MODULES = (system, projects, documents, stats, search, checkup, connections)


def _included_routers() -> list[BaseRoute]:
    """Every router of the API, included once for the process and shared by every app.

    FastAPI builds an included router's routes (their dependencies, response fields) on the
    first request that walks past them, and keeps them with that inclusion: included anew in
    each app, every app paid for that again (a third of a small app's life in the tests).
    The routes depend on nothing of the app; shared, they do not see an app's
    `dependency_overrides` either (none is used: tests run the real code paths).
    """
    holder = APIRouter()
    for router in (*(module.router for module in API_MODULES), connections.picker):
        holder.include_router(router, prefix=API_PREFIX)
    holder.include_router(root.router)
    return holder.routes


_INCLUDED_ROUTERS = _included_routers()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app around one settings object and one database engine; settings read
    from the environment (no `settings` given) are checked for unknown names too."""
    from_environment = settings is None
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    if from_environment:
        for warning in unknown_settings():
            logger.warning("%s", warning)
    engine = create_db_engine(settings.database_url)
    cipher = TokenCipher(settings.token_key)
    repositories = repository_config(
        settings, database_file(engine.url), SyncTokens(engine, cipher).token_for
    )
    runner = SyncRunner(engine, settings.allowed_project_base, repositories)
    searches = SearchRunner(engine, settings.search_budget_seconds)
    checkups = checkup_workers()
    watcher = FolderWatcher(engine, runner, settings)
    projects_root = ProjectsRootState()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("SDLC Lens %s starting; database %s", __version__, settings.database_url)
        await run_in_threadpool(recover_on_startup, engine, cipher)
        runner.purge_leftovers()
        watcher.start()  # follows the projects with auto_sync, in the background
        poller = None
        if settings.sync_poll_interval_seconds > 0:
            poller = FreshnessPoller(
                engine,
                runner,
                repositories,
                interval=settings.sync_poll_interval_seconds,
                max_backoff=settings.sync_poll_max_backoff_seconds,
            )
            poller.start()
        # SDLC_LENS_PROJECTS_ROOT's folders are registered in the background: serving starts now.
        discovery = asyncio.ensure_future(
            run_in_threadpool(discover_and_sync, engine, runner, settings, watcher, projects_root)
        )
        yield
        await run_in_threadpool(watcher.stop)  # first: it and the poller ask for syncs
        if poller is not None:
            await run_in_threadpool(poller.stop)
        await discovery
        logger.info("shutting down: stopping background syncs")
        searches.shutdown()
        checkups.shutdown()
        await run_in_threadpool(runner.shutdown)
        await run_in_threadpool(close_engine, engine)

    app = FastAPIOffline(
        title="SDLC Lens",
        version=__version__,
        summary="Read-only API over sdlc-studio project documents.",
        lifespan=lifespan,
        **OFFLINE_DOCS,
    )
    install_openapi(app, write_token_required=settings.write_token is not None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sync_runner = runner
    app.state.search_runner = searches
    app.state.checkup_workers = checkups
    app.state.token_cipher = cipher
    app.state.github_api = GitHubApi.from_settings(settings)
    app.state.folder_watcher = watcher
    app.state.answer_cache = AnswerCache(
        engine, settings.response_cache_mb * MIB, runner.progress, watcher
    )
    app.state.projects_root = projects_root
    install_error_handlers(app)
    install_middleware(app, settings.cors_origins, settings.write_token)

    app.router.routes.extend(_INCLUDED_ROUTERS)
    gc.enable()  # switched off at the top of this module, for the start
    return app


def repository_config(
    settings: Settings,
    database: Path | None,
    token_for: Callable[[ProjectLocation], str | None],
) -> RepositoryConfig:
    """Where repository projects keep their object stores (next to the database: a restart
    keeps re-syncs incremental), how their servers are reached, and with which token."""
    folder = database.parent if database is not None else Path(tempfile.mkdtemp(prefix="lens-"))
    return RepositoryConfig(
        store_root=folder / STORES_FOLDER,
        remote=RemoteOptions(
            username=settings.git_username,
            timeout=settings.git_timeout_seconds,
            max_fetch_bytes=settings.git_max_fetch_mb * MIB,
        ),
        github_url=settings.github_url,
        token_for=token_for,
    )


def recover_on_startup(engine: Engine, cipher: TokenCipher) -> None:
    """Undo what a killed process left behind, and say what stored tokens need; never blocks
    start-up."""
    try:
        interrupted = mark_interrupted_syncs(engine)
        if interrupted:
            logger.warning("%d sync(s) were interrupted by a restart; marked as error", interrupted)
        repair_search_index(engine)
        with engine.connect() as conn:
            for warning in stored_token_warnings(conn, cipher):
                logger.warning("%s", warning)
    except SQLAlchemyError as exc:
        # An unmigrated or unreadable database: health reports it, the process stays up.
        logger.error("start-up checks could not use the database: %s", exc)
