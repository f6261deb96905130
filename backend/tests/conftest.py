"""Shared fixtures: a migrated SQLite file per test, the app around it, a client, the trees."""

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from harness.github_api import GitHubStandIn
from sdlc_lens import container
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.fixtures import (
    SAMPLE_PROJECTS,
    TEST_CORPUS_VARIABLE,
    CorpusTree,
    corpus_tree_params,
    write_fixture_trees,
)
from tests.fixtures import corpus_tree as resolve_corpus_tree
from tests.helpers import LOOP_PROFILE, migrate, synced_app

# The everyday loop draws fewer examples (tests.helpers.examples): registered here, before
# pytest loads the profile that `--hypothesis-profile` names; without it, every test draws its
# full count.
hypothesis_settings.register_profile(LOOP_PROFILE, max_examples=20)


@pytest.fixture(scope="session", autouse=True)
def _test_corpus_kept_from_the_apps() -> Iterator[None]:
    """SDLC_LENS_TEST_CORPUS is the suite's input, read at collection (tests/fixtures.py),
    not a setting: no app or process a test starts sees it, whatever the app makes of
    unknown SDLC_LENS_ variables."""
    value = os.environ.pop(TEST_CORPUS_VARIABLE, None)
    yield
    if value is not None:
        os.environ[TEST_CORPUS_VARIABLE] = value


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated to head once per session, for tests to copy."""
    path = tmp_path_factory.mktemp("migrated") / "lens.db"
    migrate(f"sqlite:///{path}")
    # Everything into the main file, so that a copy of that one file is the whole database.
    with closing(sqlite3.connect(path)) as db:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_database: Path) -> str:
    """A migrated database in a fresh folder (a copy of the session's migrated file)."""
    path = tmp_path / "db" / "lens.db"
    path.parent.mkdir()
    shutil.copyfile(migrated_database, path)
    return f"sqlite:///{path}"


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
def fixture_tree_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every generated tree, written once for the session: tests must not change them."""
    return write_fixture_trees(tmp_path_factory.mktemp("fixture-trees"))


@pytest.fixture(params=corpus_tree_params())
def corpus_tree(request: pytest.FixtureRequest, fixture_tree_paths: dict[str, Path]) -> CorpusTree:
    """Each generated tree, and each real tree SDLC_LENS_TEST_CORPUS names (else skipped)."""
    return resolve_corpus_tree(request.param, fixture_tree_paths)


@pytest.fixture(scope="session")
def corpus(
    tmp_path_factory: pytest.TempPathFactory, fixture_tree_paths: dict[str, Path]
) -> Iterator[TestClient]:
    """Both realistic projects synced (Recipe Box first), shared by every read-only test:
    tests that use it must not change it."""
    projects = [(name, fixture_tree_paths[tree]) for name, tree in SAMPLE_PROJECTS]
    with synced_app(tmp_path_factory.mktemp("corpus-db"), projects) as client:
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
