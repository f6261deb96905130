"""Request dependencies: the objects the app factory put on `app.state`.

They are `async` on purpose: FastAPI runs a plain `def` dependency in the thread pool, and a
thread hop per dependency costs more than the work of a small read.

Endpoints follow one rule: the event loop never runs work that grows with the data. Only
reads whose cost is fixed whatever the projects hold (`/system/health`, `/version`, `/`) are
`async def` and query SQLite on the event loop: they take well under a millisecond, and a hop
to a worker thread would cost more than the query. Everything else is a plain `def` and runs
in the thread pool, so it never holds up other requests: lists, stats and writes, but also one
project (its document count grows with it), one document (its text can be 64 MiB, streamed in
pieces) and its relationships (an epic can have thousands of children). Search and the project
health check are `async` and run on workers of their own (services/workers.py), so they never
take that pool.

`app.state` is untyped: each dependency states the type of what it hands out.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from sdlc_lens.config import Settings
from sdlc_lens.services.connections.github import GitHubApi
from sdlc_lens.services.freshness.watcher import FolderWatcher
from sdlc_lens.services.projects.discovery import ProjectsRootState
from sdlc_lens.services.projects.editing import ProjectRules
from sdlc_lens.services.search.runner import SearchRunner
from sdlc_lens.services.sync.progress import SyncProgressBoard
from sdlc_lens.services.sync.runner import SyncRunner
from sdlc_lens.services.tokens import TokenCipher
from sdlc_lens.services.workers import WorkerPool


async def get_engine(request: Request) -> Engine:
    found: Engine = request.app.state.engine
    return found


async def get_app_settings(request: Request) -> Settings:
    """The settings this app was built with (not re-read from the environment)."""
    found: Settings = request.app.state.settings
    return found


async def get_sync_runner(request: Request) -> SyncRunner:
    found: SyncRunner = request.app.state.sync_runner
    return found


async def get_sync_progress(request: Request) -> SyncProgressBoard:
    found: SyncProgressBoard = request.app.state.sync_runner.progress
    return found


async def get_search_runner(request: Request) -> SearchRunner:
    found: SearchRunner = request.app.state.search_runner
    return found


async def get_checkup_workers(request: Request) -> WorkerPool:
    found: WorkerPool = request.app.state.checkup_workers
    return found


async def get_folder_watcher(request: Request) -> FolderWatcher:
    found: FolderWatcher = request.app.state.folder_watcher
    return found


async def get_service_warnings(request: Request) -> list[str]:
    """What works but is probably a mistake (SDLC_LENS_PROJECTS_ROOT gives no project), for
    the system health and `GET /`."""
    root: ProjectsRootState = request.app.state.projects_root
    return root.warnings()


async def get_token_cipher(request: Request) -> TokenCipher:
    """How this server stores and reads access tokens (its encryption key, or none)."""
    found: TokenCipher = request.app.state.token_cipher
    return found


async def get_github_api(request: Request) -> GitHubApi:
    """Where GitHub's API is, and how long a request to it may take."""
    found: GitHubApi = request.app.state.github_api
    return found


async def get_project_rules(request: Request) -> ProjectRules:
    """What project settings are checked against, from this app's settings."""
    return ProjectRules.from_settings(request.app.state.settings, request.app.state.token_cipher)


async def get_connection(request: Request) -> AsyncIterator[Connection]:
    """A pooled connection with one read snapshot for the whole request.

    Checking a connection out of the pool and returning it are in-memory operations (the
    SQLite connections stay open), so they are done here without a thread hop.
    """
    with request.app.state.engine.connect() as conn:
        yield conn


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SyncRunnerDep = Annotated[SyncRunner, Depends(get_sync_runner)]
SearchRunnerDep = Annotated[SearchRunner, Depends(get_search_runner)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
CheckupWorkersDep = Annotated[WorkerPool, Depends(get_checkup_workers)]
SyncProgressDep = Annotated[SyncProgressBoard, Depends(get_sync_progress)]
FolderWatcherDep = Annotated[FolderWatcher, Depends(get_folder_watcher)]
TokenCipherDep = Annotated[TokenCipher, Depends(get_token_cipher)]
ProjectRulesDep = Annotated[ProjectRules, Depends(get_project_rules)]
GitHubApiDep = Annotated[GitHubApi, Depends(get_github_api)]
ServiceWarningsDep = Annotated[list[str], Depends(get_service_warnings)]
