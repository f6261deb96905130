"""compose.yaml passes every setting on, and agrees with the image about the database."""

import re

import yaml

from sdlc_lens.config import Settings, env_name
from tests.helpers import BACKEND_DIR, REPO_DIR


def backend_service() -> dict:
    return yaml.safe_load((REPO_DIR / "compose.yaml").read_text())["services"]["backend"]


def test_every_setting_is_passed_on_from_the_shell() -> None:
    """A setting added to Settings but not here would reach the service only through .env."""
    environment = backend_service()["environment"]
    expected = {env_name(field) for field in Settings.model_fields}
    assert set(environment) == expected
    for name in expected - {"SDLC_LENS_PROJECTS_ROOT"}:  # the mount point is fixed
        assert environment[name].startswith(f"${{{name}:-"), (name, environment[name])


def test_the_database_default_is_the_images() -> None:
    """An empty SDLC_LENS_DATABASE_URL would replace the image's: compose writes it out."""
    image_env = re.search(
        r"^\s+SDLC_LENS_DATABASE_URL=(\S+)$", (BACKEND_DIR / "Dockerfile").read_text(), re.M
    )
    assert image_env is not None
    assert backend_service()["environment"]["SDLC_LENS_DATABASE_URL"] == (
        f"${{SDLC_LENS_DATABASE_URL:-{image_env[1]}}}"
    )


def test_dotenv_is_optional() -> None:
    assert backend_service()["env_file"] == [{"path": ".env", "required": False}]
