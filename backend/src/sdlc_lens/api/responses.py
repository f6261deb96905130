"""Fast JSON responses for data the services already shaped to the contract."""

from typing import Any

from fastapi import Response
from pydantic_core import to_json


def json_response(data: Any, status_code: int = 200) -> Response:
    """Serialise plain dicts/lists directly.

    Returning a Response makes FastAPI skip re-validating the body against the route's
    `response_model` (which stays on the route for the OpenAPI docs); the services build
    exactly that shape, and the API tests check it.
    """
    return Response(to_json(data), status_code=status_code, media_type="application/json")
