"""The LICENSE file is the licence the package and the image declare."""

import tomllib

from tests.helpers import BACKEND_DIR, REPO_DIR


def test_license_file_matches_the_declared_mit_licence() -> None:
    with (BACKEND_DIR / "pyproject.toml").open("rb") as handle:
        declared = tomllib.load(handle)["project"]["license"]
    text = (REPO_DIR / "LICENSE").read_text()
    assert declared == "MIT"  # also the image's org.opencontainers.image.licenses label
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
