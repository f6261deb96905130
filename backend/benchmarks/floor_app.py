"""The floor for the API figures: the same server stack answering a constant."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    """A FastAPI app with one route that does nothing."""
    app = FastAPI()

    @app.get("/floor")
    async def floor() -> dict[str, str]:
        return {"status": "ok"}

    return app
