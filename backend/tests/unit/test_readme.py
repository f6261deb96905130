"""The README stays a first-timer's page: short, and its configuration table complete."""

import re

from sdlc_lens.config import Settings, env_name
from tests.helpers import REPO_DIR

README = REPO_DIR / "README.md"
MAX_README_LINES = 150  # depth belongs in docs/


def configuration_names() -> set[str]:
    """Every variable the Configuration table names. In a row's first cell, `_X` after a name
    is shorthand for `SDLC_LENS_X`, and `(or `_FILE`)` for that name plus `_FILE`."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Configuration") :].split("\n## ", 1)[0]
    names = set()
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        cell, previous = row.split("|")[1], ""
        for token in re.findall(r"`([A-Z_]+)`", cell):
            if token == "_FILE":
                token = previous + token
            elif not token.startswith("SDLC_LENS_"):
                token = "SDLC_LENS" + token
            names.add(token)
            previous = token
    return names


def test_every_setting_is_in_the_configuration_table() -> None:
    expected = {env_name(field) for field in Settings.model_fields}
    assert expected <= configuration_names(), sorted(expected - configuration_names())


def test_the_readme_is_short_enough_to_read_first() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines"
