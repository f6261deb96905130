"""Shared fixtures: a migrated SQLite file per test, the app around it, a client."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from harness.github_api import GitHubStandIn
from sdlc_lens import container
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import CORPUS_PROJECTS, migrate, synced_app


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A migrated database in a fresh folder."""
    url = f"sqlite:///{tmp_path / 'db' / 'lens.db'}"
    migrate(url)
    return url


@pytest.fixture(params=[False, True], ids=["on-the-host", "in-a-container"])
def in_container(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> bool:
    """Run the test as on a host and as in a container (the engines' marker file): paths
    are the container's there, and messages about them say so."""
    marker = tmp_path / ".dockerenv"
    if request.param:
        marker.touch()
    monkeypatch.setattr(container, "CONTAINER_MARKERS", (marker,))
    return bool(request.param)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, log_level="DEBUG")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app with its lifespan running (start-up recovery, background sync worker)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Both corpus trees synced (task-list first), shared by every read-only test: tests
    that use it must not change it."""
    with synced_app(tmp_path_factory.mktemp("corpus-db"), CORPUS_PROJECTS) as client:
        yield client


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    """A GitHub API stand-in on 127.0.0.1 (harness/github_api.py), empty: add users to it."""
    with GitHubStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def github_client(database_url: str, github: GitHubStandIn) -> Iterator[TestClient]:
    """The app, its GitHub API being the stand-in."""
    settings = Settings(database_url=database_url, log_level="DEBUG", github_api_url=github.url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
