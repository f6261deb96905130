"""The real app plus one route that fails with an unexpected exception (for Uvicorn tests)."""

from fastapi import FastAPI

from sdlc_lens.main import create_app as create_real_app

FAILING_PATH = "/api/v1/test-only/fail"


def create_app() -> FastAPI:
    """`uvicorn --factory tests.integration.failing_app:create_app`."""
    app = create_real_app()

    def fail() -> None:
        raise RuntimeError("an unexpected failure with a secret detail")

    app.add_api_route(FAILING_PATH, fail)
    return app
