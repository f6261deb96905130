"""Request dependencies: the objects the app factory put on `app.state`.

They are `async` on purpose: FastAPI runs a plain `def` dependency in the thread pool, and a
thread hop per dependency costs more than the work of a small read.

Endpoints follow one rule. Point reads through an index (health, one project, the project
list, one document) are `async def` and query SQLite on the event loop: they take well under
a millisecond, WAL readers never wait for the sync's writer, and a hop to a worker thread would
cost more than the query (under 20 concurrent clients the hop and the GIL hand-over between
threads halved throughput). Anything that scans (document lists, stats) or writes is a plain
`def` and runs in the thread pool, so it never holds up other requests. Search is `async` and
runs on search workers of its own (services/search/runner.py), so it never takes that pool.

`app.state` is untyped: each dependency states the type of what it hands out.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from sdlc_lens.config import Settings
from sdlc_lens.services.search.runner import SearchRunner
from sdlc_lens.services.sync.progress import SyncProgressBoard
from sdlc_lens.services.sync.runner import SyncRunner


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
SyncProgressDep = Annotated[SyncProgressBoard, Depends(get_sync_progress)]
