"""The image as built: stages, base, contents, size, metadata; a stale lock fails the build."""

from pathlib import Path

import pytest

from tests.image import docker_helpers as dh
from tests.image.conftest import MEASURED

pytestmark = pytest.mark.image

SIZE_LIMIT_BYTES = 200 * 1000 * 1000  # the story's "< 200MB", in docker's decimal megabytes


def test_runtime_is_python_3_12_slim_plus_the_service(image: str, lab: dh.Lab) -> None:
    # The base image's layers, unchanged, then ours: the runtime stage starts from
    # python:3.12-slim (the builder stage's tools are absent: see the next test).
    base_layers = dh.image_attrs(dh.BASE_IMAGE)["RootFS"]["Layers"]
    layers = dh.image_attrs(image)["RootFS"]["Layers"]
    assert layers[: len(base_layers)] == base_layers
    assert len(layers) > len(base_layers)
    code, output = lab.run(image, ["python", "--version"])
    assert code == 0 and output.startswith("Python 3.12."), output


def test_runtime_has_no_uv_pip_compilers_or_sources(image: str, lab: dh.Lab) -> None:
    script = (
        "for tool in uv uvx pip pip3 pip3.12 gcc cc c++ make ld strip; do"
        '  command -v "$tool" && echo "FOUND $tool"; '
        "done; "
        "python -m pip --version && echo 'FOUND python -m pip'; "
        "python -m ensurepip --version && echo 'FOUND ensurepip'; "
        "python -c 'import uv' 2>/dev/null && echo 'FOUND uv module'; "
        "ls -d /src /app/src /app/tests /root/.cache/uv 2>/dev/null | sed 's/^/FOUND /'; "
        "echo done"
    )
    code, output = lab.run(image, ["sh", "-c", script])
    assert code == 0, output
    assert "done" in output
    assert "FOUND" not in output, output


def test_image_is_smaller_than_200_mb(image: str, lab: dh.Lab) -> None:
    size = dh.image_size_bytes(image)
    base = dh.image_size_bytes(dh.BASE_IMAGE)
    code, venv = lab.run(image, ["du", "-sk", "/app/.venv"])
    assert code == 0, venv
    MEASURED["image size"] = f"{size / 1e6:.1f} MB (base {base / 1e6:.1f} MB)"
    MEASURED["venv size"] = f"{int(venv.split()[0]) / 1024:.1f} MiB"
    assert size < SIZE_LIMIT_BYTES, f"{size / 1e6:.1f} MB"


def test_image_metadata_for_operators(image: str) -> None:
    config = dh.image_attrs(image)["Config"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == dh.pyproject_version()
    assert labels["org.opencontainers.image.title"].startswith("SDLC Lens")
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.source"].startswith("https://")

    assert config["Entrypoint"] == ["/app/docker-entrypoint.sh"]  # exec form
    assert "8000/tcp" in config["ExposedPorts"]
    assert "/data/db" in config["Volumes"]
    assert config["User"] not in ("", "0", "root")
    assert config["Healthcheck"]["Test"] == ["CMD", "python", "-m", "sdlc_lens.healthcheck"]
    # The settings `docker inspect` shows are those the image changes: the database location
    # and the folder projects must lie in.
    settings = {k: v for k, v in (item.split("=", 1) for item in config["Env"]) if "SDLC" in k}
    assert settings == {
        "SDLC_LENS_DATABASE_URL": "sqlite:////data/db/sdlc_lens.db",
        "SDLC_LENS_ALLOWED_PROJECT_BASE": "/data/projects",
    }


def test_stale_lockfile_fails_the_build(image: str, tmp_path: Path) -> None:
    """pyproject.toml changed without `uv lock`: uv's --locked stops the build and says why."""
    context = dh.copy_build_context(tmp_path / "backend")
    pyproject = context / "pyproject.toml"
    text = pyproject.read_text()
    assert '    "uvicorn>=' in text
    pyproject.write_text(text.replace('    "uvicorn>=', '    "six>=1.16",\n    "uvicorn>=', 1))
    tag = dh.unique_name("sdlc-lens-backend:stale-lock")
    try:
        with pytest.raises(dh.BuildError) as failure:
            dh.build_image(tag, context)
    finally:
        dh.remove_image(tag)
    output = failure.value.output
    assert "needs to be updated" in output, output[-3000:]
    assert "uv lock" in output
