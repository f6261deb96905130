"""Settings: one object, `SDLC_LENS_` prefix, database URLs, defaults."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from sdlc_lens.config import Settings, sqlite_database_path, unknown_settings
from sdlc_lens.db.engine import (
    DatabaseUrlError,
    create_db_engine,
    database_file,
    sqlite_url,
)

FERNET_KEY = "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtbG9uZy1rZXk="  # 32 bytes, base64


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings()
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 8000, "INFO")
    assert settings.allowed_project_base is None
    # The default database does not depend on the working directory.
    assert settings.database_url == f"sqlite:///{tmp_path}/.local/share/sdlc-lens/sdlc_lens.db"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SDLC_LENS_HOST", "127.0.0.1")
    monkeypatch.setenv("SDLC_LENS_PORT", "9000")
    monkeypatch.setenv("SDLC_LENS_LOG_LEVEL", "debug")
    monkeypatch.setenv("SDLC_LENS_DATABASE_URL", "sqlite:////data/db/x.db")
    monkeypatch.setenv("SDLC_LENS_ALLOWED_PROJECT_BASE", str(tmp_path))
    monkeypatch.setenv("SDLC_LENS_SYNC_POLL_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("SDLC_LENS_GIT_USERNAME", "oauth2")
    settings = Settings()
    assert (settings.sync_poll_interval_seconds, settings.git_username) == (0, "oauth2")
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 9000, "DEBUG")
    assert settings.database_url == "sqlite:////data/db/x.db"
    assert settings.allowed_project_base == tmp_path


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "loud"),
        ("DATABASE_URL", "postgresql://u:secret@host/db"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "sqlite://lens:secret@/data/db/lens.db"),
        ("GIT_USERNAME", "user:password"),  # sent as basic auth: no colon
        ("GIT_TIMEOUT_SECONDS", "0"),
        ("GIT_MAX_FETCH_MB", "-1"),
        ("SYNC_POLL_INTERVAL_SECONDS", "-5"),
        ("WATCH_MODE", "sometimes"),
        ("WATCH_FALLBACK_SECONDS", "0"),
        ("WATCH_MAX_FOLDERS", "-1"),
        ("AUTO_SYNC_DISCOVERED", "perhaps"),
        ("GITHUB_URL", "github.com"),
        ("GITHUB_URL", "ssh://github.com"),
        ("GITHUB_API_URL", "https://user:secret@api.example.com"),
        ("GITHUB_API_URL", "https://api.example.com/?x=1"),
        ("GITHUB_TIMEOUT_SECONDS", "0"),
        ("TOKEN_ENCRYPTION_KEY", "not-a-fernet-key-secret"),
        ("TOKEN_ENCRYPTION_KEY", FERNET_KEY[:-4]),
    ],
)
def test_invalid_values_are_refused_without_their_secrets(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(f"SDLC_LENS_{variable}", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert [error["loc"] for error in caught.value.errors()] == [(variable.lower(),)]
    assert "secret" not in str(caught.value)


def test_empty_variables_mean_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`-e SDLC_LENS_X=` and compose's `X: ${UNSET:-}` give empty strings: the default applies."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in ("HOST", "PORT", "DATABASE_URL", "LOG_LEVEL", "ALLOWED_PROJECT_BASE"):
        monkeypatch.setenv(f"SDLC_LENS_{variable}", "")
    monkeypatch.setenv("SDLC_LENS_PROJECTS_ROOT", "")
    assert Settings() == Settings.model_construct(
        host="0.0.0.0",
        port=8000,
        database_url=f"sqlite:///{tmp_path}/.local/share/sdlc-lens/sdlc_lens.db",
        log_level="INFO",
        allowed_project_base=None,
        projects_root=None,
    )


def test_surrounding_whitespace_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDLC_LENS_LOG_LEVEL", " warning\n")
    monkeypatch.setenv("SDLC_LENS_HOST", " 127.0.0.1 ")
    settings = Settings()
    assert (settings.log_level, settings.host) == ("WARNING", "127.0.0.1")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////data/db/a.db",
        "sqlite+aiosqlite:////data/db/a.db",
        "sqlite+pysqlite:////data/db/a.db",
    ],
)
def test_every_sqlite_url_form_is_served_by_the_stdlib_driver(url: str) -> None:
    normalised = sqlite_url(url)
    assert normalised.drivername == "sqlite"
    assert normalised.database == "/data/db/a.db"


def test_relative_database_path_is_made_absolute_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_url("sqlite:///data/lens.db").database == str(tmp_path / "data" / "lens.db")


@pytest.mark.parametrize("url", ["postgresql://u:secret@host/db", "not a url"])
def test_non_sqlite_urls_are_refused_without_leaking_secrets(url: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        sqlite_url(url)
    assert "secret" not in str(caught.value)


def test_engine_creates_the_database_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "lens.db"
    engine = create_db_engine(f"sqlite:///{target}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
    assert target.exists()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////data/db/a.db",
        "sqlite+aiosqlite:////data/db/a.db",
        "sqlite+pysqlite:////data/db/a.db",
        "sqlite:///relative/lens.db",
        "sqlite:///~/lens.db",
        "sqlite:////data/a%20b/lens.db",
        "sqlite:////data/db/a.db?mode=ro",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:lens.db?mode=memory&uri=true",
    ],
)
def test_settings_and_engine_agree_on_the_database_file(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Settings check URLs without SQLAlchemy (cheap for short-lived processes); the engine
    connects through SQLAlchemy. Both must name the same file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sqlite_database_path(url) == database_file(sqlite_url(url))


@pytest.mark.parametrize(
    "url", ["postgresql://u:secret@host/db", "not a url", "mysql:///x", "SQLite:////x.db"]
)
def test_settings_and_engine_refuse_the_same_urls(url: str) -> None:
    with pytest.raises(DatabaseUrlError):
        sqlite_url(url)
    with pytest.raises(ValueError, match="expected sqlite:///"):
        sqlite_database_path(url)


def test_cors_origins_are_kept_as_browsers_send_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SDLC_LENS_CORS_ORIGINS",
        "HTTP://Lens.LAN:8080/, https://[::1]:5173, app://desktop, http://10.0.0.2, *",
    )
    assert Settings().cors_origins == [
        "http://lens.lan:8080",
        "https://[::1]:5173",
        "app://desktop",
        "http://10.0.0.2",
        "*",
    ]


def test_unknown_variables_are_named_with_the_nearest_setting() -> None:
    environ = {
        "SDLC_LENS_LOG_LVL": "DEBUG",
        "sdlc_lens_cors_origin": "http://a",  # names are matched in any case, like settings
        "SDLC_LENS_WHATEVER": "1",
        "SDLC_LENS_PORT": "9000",  # a setting, in any case
        "sdlc_lens_host": "::",
        "SDLC_LENS_TEST_CORPUS": "/corpus",  # the test suite's own variable
        "SDLC_LENS_SYNC_POLL_INTERVAL_SECONDS": "30",  # a setting
        "LENS_PORT": "8080",  # compose's, no prefix
    }
    assert unknown_settings(environ) == [
        "SDLC_LENS_LOG_LVL is not a setting and is ignored; did you mean SDLC_LENS_LOG_LEVEL?",
        "SDLC_LENS_WHATEVER is not a setting and is ignored; the settings are listed in the "
        "README's Configuration table",
        "sdlc_lens_cors_origin is not a setting and is ignored; did you mean "
        "SDLC_LENS_CORS_ORIGINS?",
    ]


def test_the_token_is_never_shown_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDLC_LENS_API_TOKEN", "hunter2-hunter2-hunter2")
    settings = Settings()
    assert settings.write_token == "hunter2-hunter2-hunter2"
    assert "hunter2" not in repr(settings) + str(settings.model_dump())
    monkeypatch.setenv("SDLC_LENS_API_TOKEN", "hunter2 is too short")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "hunter2" not in str(caught.value)


def test_the_watch_settings_read_as_operators_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().watch_mode, Settings().auto_sync_discovered) == ("auto", True)
    monkeypatch.setenv("SDLC_LENS_WATCH_MODE", " Poll ")
    monkeypatch.setenv("SDLC_LENS_AUTO_SYNC_DISCOVERED", "false")
    monkeypatch.setenv("SDLC_LENS_WATCH_FALLBACK_SECONDS", "2.5")
    settings = Settings()
    assert (settings.watch_mode, settings.auto_sync_discovered) == ("poll", False)
    assert settings.watch_fallback_seconds == 2.5


def test_github_settings_and_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.github_url == "https://github.com"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.github_timeout_seconds == 30
    assert settings.token_key is None
    monkeypatch.setenv("SDLC_LENS_GITHUB_URL", "https://GHE.example.com/")
    monkeypatch.setenv("SDLC_LENS_GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    monkeypatch.setenv("SDLC_LENS_GITHUB_TIMEOUT_SECONDS", "5")
    settings = Settings()
    # The trailing slash goes: URLs are built as base + "/owner/repo".
    assert settings.github_url == "https://GHE.example.com"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.github_timeout_seconds == 5


def test_the_encryption_key_comes_from_the_variable_or_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SDLC_LENS_TOKEN_ENCRYPTION_KEY", FERNET_KEY)
    settings = Settings()
    assert settings.token_key == FERNET_KEY
    assert FERNET_KEY not in repr(settings) + str(settings.model_dump())
    secret = tmp_path / "key"
    secret.write_text(FERNET_KEY + "\n")  # as `docker secret create` stores it
    monkeypatch.setenv("SDLC_LENS_TOKEN_ENCRYPTION_KEY_FILE", str(secret))
    with pytest.raises(ValidationError, match="set SDLC_LENS_TOKEN_ENCRYPTION_KEY or this"):
        Settings()
    monkeypatch.delenv("SDLC_LENS_TOKEN_ENCRYPTION_KEY")
    assert Settings().token_key == FERNET_KEY
    secret.write_text("nope")
    with pytest.raises(ValidationError, match="must be a Fernet key"):
        Settings()
    monkeypatch.setenv("SDLC_LENS_TOKEN_ENCRYPTION_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValidationError, match="cannot read the key file"):
        Settings()
