"""Application settings, read once from `SDLC_LENS_*` environment variables."""

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import PositiveFloat, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]


def default_database_url() -> str:
    """`~/.local/share/sdlc-lens/sdlc_lens.db`: never relative to the working directory."""
    return f"sqlite:///{Path.home() / '.local' / 'share' / 'sdlc-lens' / 'sdlc_lens.db'}"


class Settings(BaseSettings):
    """Every knob of the service. The container image sets DATABASE_URL to /data/db."""

    model_config = SettingsConfigDict(env_prefix="SDLC_LENS_", extra="ignore")

    host: str = "0.0.0.0"  # noqa: S104 - a LAN service listens on all interfaces by default
    port: int = 8000
    database_url: str = ""
    log_level: LogLevel = "INFO"
    allowed_project_base: Path | None = None
    search_budget_seconds: PositiveFloat = 2.0  # work one search may do before it gets a 503

    @property
    def log_level_number(self) -> int:
        """The level as the `logging` module's number."""
        return logging.getLevelNamesMapping()[self.log_level]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("database_url", mode="after")
    @classmethod
    def _default_database_url(cls, value: str) -> str:
        return value.strip() or default_database_url()

    @field_validator("allowed_project_base", mode="before")
    @classmethod
    def _blank_base_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
