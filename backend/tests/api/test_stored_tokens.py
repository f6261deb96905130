"""Tokens at rest (SPEC-3 §16.2) and the token a sync uses (§16.1): encrypted with the key,
plaintext from before the key still used and encrypted on its next write, an undecryptable
one treated as none, a warning at start, and a deleted connection never falling back to an
unauthenticated fetch."""

import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from sdlc_lens.config import Settings
from sdlc_lens.errors import SourceError
from sdlc_lens.main import create_app
from sdlc_lens.services.sources.source import ProjectLocation
from sdlc_lens.services.tokens import (
    ENCRYPTED_PREFIX,
    SyncTokens,
    TokenCipher,
    token_for_sync,
)
from tests.helpers import db_file, insert_connection

KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()
TOKEN = "ghp_tokenAtRest7777"
REPO = {"source_type": "github", "repo_url": "https://github.com/acme/web"}


@contextmanager
def app(database_url: str, key: str | None) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, log_level="DEBUG", token_encryption_key=key)
    with TestClient(create_app(settings)) as client:
        yield client


def stored(database_url: str, table: str = "projects") -> list[Any]:
    with sqlite3.connect(db_file(database_url)) as conn:
        return [row[0] for row in conn.execute(f"SELECT access_token FROM {table} ORDER BY id")]


def execute(database_url: str, statement: str, *params: Any) -> None:
    with sqlite3.connect(db_file(database_url)) as conn:
        conn.execute(statement, params)


def location(client: TestClient, slug: str) -> ProjectLocation:
    """The project's location as the sync engine reads it (every column of ProjectLocation)."""
    columns = ", ".join(f.name for f in fields(ProjectLocation))
    with sqlite3.connect(db_file(client.app.state.settings.database_url)) as conn:  # type: ignore[attr-defined]
        row = conn.execute(f"SELECT {columns} FROM projects WHERE slug = ?", (slug,)).fetchone()
    return ProjectLocation(*row)


def sync_token(client: TestClient, slug: str) -> str | None:
    state = client.app.state  # type: ignore[attr-defined]
    return SyncTokens(state.engine, state.token_cipher).token_for(location(client, slug))


def test_with_a_key_tokens_are_stored_encrypted(database_url: str) -> None:
    with app(database_url, KEY) as client:
        body = client.post("/api/v1/projects", json={"name": "Web", **REPO, "access_token": TOKEN})
        assert body.json()["masked_token"] == "****7777"
        [value] = stored(database_url)
        assert value.startswith(ENCRYPTED_PREFIX) and TOKEN not in value
        assert sync_token(client, "web") == TOKEN
        # Each write encrypts afresh (Fernet has a random IV): the same token, other bytes.
        client.put("/api/v1/projects/web", json={"access_token": TOKEN})
        assert stored(database_url) != [value]


def test_plaintext_from_before_the_key_works_and_is_encrypted_on_its_next_write(
    database_url: str,
) -> None:
    with app(database_url, None) as client:
        client.post("/api/v1/projects", json={"name": "Web", **REPO, "access_token": TOKEN})
        client.post("/api/v1/projects", json={"name": "Api", **REPO, "access_token": TOKEN})
    assert stored(database_url) == [TOKEN, TOKEN]
    with app(database_url, KEY) as client:
        assert client.get("/api/v1/projects/web").json()["masked_token"] == "****7777"
        assert sync_token(client, "web") == TOKEN
        client.put("/api/v1/projects/web", json={"name": "Web 2"})
        web, api = stored(database_url)
        assert web.startswith(ENCRYPTED_PREFIX) and api == TOKEN
        assert sync_token(client, "web") == TOKEN
        assert client.get("/api/v1/projects/web").json()["masked_token"] == "****7777"


@pytest.mark.parametrize("key", [OTHER_KEY, None], ids=["another-key", "no-key"])
def test_a_token_that_cannot_be_decrypted_counts_as_none(
    database_url: str, key: str | None
) -> None:
    with app(database_url, KEY) as client:
        client.post("/api/v1/projects", json={"name": "Web", **REPO, "access_token": TOKEN})
    with app(database_url, key) as client:
        assert client.get("/api/v1/projects/web").json()["masked_token"] is None
        assert client.get("/api/v1/projects").json()[0]["masked_token"] is None
        with pytest.raises(SourceError, match="access token cannot be decrypted") as caught:
            sync_token(client, "web")
        assert "enter it again" in caught.value.message
        # Entering it again works.
        client.put("/api/v1/projects/web", json={"access_token": TOKEN})
        assert sync_token(client, "web") == TOKEN


def warnings_at_start(
    database_url: str, key: str | None, caplog: pytest.LogCaptureFixture
) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING), app(database_url, key):
        pass
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_one_warning_at_start_when_tokens_are_stored_without_a_key(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert warnings_at_start(database_url, None, caplog) == []  # nothing stored
    with app(database_url, None) as client:
        for name in ("A", "B"):
            client.post("/api/v1/projects", json={"name": name, **REPO, "access_token": TOKEN})
    [warning] = warnings_at_start(database_url, None, caplog)
    assert warning.startswith("2 access token(s) are stored unencrypted: set ")
    assert "SDLC_LENS_TOKEN_ENCRYPTION_KEY" in warning
    assert warnings_at_start(database_url, KEY, caplog) == []  # usable, encrypted when written
    with app(database_url, KEY) as client:
        client.put("/api/v1/projects/a", json={"access_token": TOKEN})
    [warning] = warnings_at_start(database_url, OTHER_KEY, caplog)
    assert warning.startswith("1 stored access token(s) cannot be decrypted")


def test_repr_shows_no_key_and_no_token() -> None:
    cipher = TokenCipher(KEY)
    sealed = cipher.seal(TOKEN)
    assert KEY not in repr(cipher) and TOKEN not in repr(cipher)
    shown = repr(ProjectLocation("github", None, "u", "main", "p", None, sealed))
    assert sealed not in shown


# Which token a sync uses (SPEC-3 §16.1)


def test_the_connections_token_first_then_the_projects_then_none(database_url: str) -> None:
    with app(database_url, KEY) as client:
        connection = insert_connection(database_url, TokenCipher(KEY).seal("ghp_fromConnection"))
        project = {"name": "Web", **REPO, "access_token": TOKEN, "connection_id": connection}
        client.post("/api/v1/projects", json=project)
        assert sync_token(client, "web") == "ghp_fromConnection"
        client.put("/api/v1/projects/web", json={"connection_id": None})
        assert sync_token(client, "web") == TOKEN
        client.put("/api/v1/projects/web", json={"access_token": None})
        assert sync_token(client, "web") is None  # a public repository


def test_a_deleted_connection_fails_the_sync_instead_of_fetching_without_a_token(
    database_url: str,
) -> None:
    with app(database_url, None) as client:
        connection = insert_connection(database_url, "ghp_fromConnection")
        project = {"name": "Web", **REPO, "access_token": TOKEN, "connection_id": connection}
        client.post("/api/v1/projects", json=project)
        execute(database_url, "DELETE FROM github_connections")
        with pytest.raises(SourceError, match=rf"connection this project uses \(id {connection}\)"):
            sync_token(client, "web")


def test_an_undecryptable_connection_token_says_to_enter_it_again(database_url: str) -> None:
    engine: Engine
    with app(database_url, KEY) as client:
        connection = insert_connection(database_url, TokenCipher(OTHER_KEY).seal("ghp_x"))
        client.post("/api/v1/projects", json={"name": "Web", **REPO, "connection_id": connection})
        engine = client.app.state.engine  # type: ignore[attr-defined]
        with engine.connect() as conn, pytest.raises(SourceError) as caught:
            token_for_sync(conn, location(client, "web"), TokenCipher(KEY))
    assert "connection 'Work' cannot be decrypted" in caught.value.message
    assert "enter it again on the Settings page" in caught.value.message


def test_a_start_without_a_key_leaves_cryptography_unloaded(tmp_path: Path) -> None:
    """Loading cryptography's Rust extension is about 20 ms of a start: only a key needs it."""
    url = f"sqlite:///{tmp_path / 'lens.db'}"
    check = (
        "import sys\n"
        "from sdlc_lens.config import Settings\n"
        "from sdlc_lens.main import create_app\n"
        f"create_app(Settings(database_url={url!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('cryptography')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
