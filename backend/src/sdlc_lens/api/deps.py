"""Request dependencies: the objects the app factory put on `app.state`."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from sdlc_lens.config import Settings
from sdlc_lens.services.sync_runner import SyncRunner


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_sync_runner(request: Request) -> SyncRunner:
    return request.app.state.sync_runner


def get_connection(request: Request):
    """A pooled connection with one read snapshot for the whole request."""
    with request.app.state.engine.connect() as conn:
        yield conn


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SyncRunnerDep = Annotated[SyncRunner, Depends(get_sync_runner)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
