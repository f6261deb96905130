"""Fast JSON responses for data the services already shaped to the contract."""

from collections.abc import Iterator
from typing import Any

from fastapi import Response
from fastapi.responses import StreamingResponse
from pydantic_core import to_json
from starlette.types import Receive, Scope, Send

# Set on the scope of a HEAD request that is answered as a GET (middleware.HeadAsGet).
HEAD_ONLY = "sdlc_lens.head_only"
JSON = "application/json"


def json_response(data: Any, status_code: int = 200) -> Response:
    """Serialise plain dicts/lists directly.

    Returning a Response makes FastAPI skip re-validating the body against the route's
    `response_model` (which stays on the route for the OpenAPI docs); the services build
    exactly that shape, and the API tests check it.
    """
    return Response(to_json(data), status_code=status_code, media_type=JSON)


class JSONStream(StreamingResponse):
    """A JSON answer sent piece by piece as `chunks` yields them (chunked; no Content-Length).

    A sync iterator: each piece is made in the thread pool, and the next one only once the
    client has taken the last (the server's flow control). A HEAD request gets the headers
    and never starts the iterator.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__(chunks, media_type=JSON)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get(HEAD_ONLY):
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await super().__call__(scope, receive, send)
