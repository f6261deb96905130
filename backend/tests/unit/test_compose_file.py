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


def test_the_images_settings_are_the_compose_defaults() -> None:
    """An empty value would replace the image's (the database on its volume, projects only
    below /data/projects): compose writes the image's values out as the defaults."""
    image_env = dict(
        re.findall(
            r"^\s+(SDLC_LENS_\w+)=(\S+?)(?: \\)?$", (BACKEND_DIR / "Dockerfile").read_text(), re.M
        )
    )
    assert set(image_env) == {"SDLC_LENS_DATABASE_URL", "SDLC_LENS_ALLOWED_PROJECT_BASE"}
    environment = backend_service()["environment"]
    for name, value in image_env.items():
        assert environment[name] == f"${{{name}:-{value}}}", name


def test_dotenv_is_optional() -> None:
    assert backend_service()["env_file"] == [{"path": ".env", "required": False}]
