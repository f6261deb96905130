"""ASGI middleware for what holds for every request, whatever the route."""

import hmac

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sdlc_lens.api.errors import error_response, internal_error
from sdlc_lens.api.responses import HEAD_ONLY

# The largest request body accepted. The API's bodies are a few hundred bytes of JSON; the
# limit keeps a client from making the service hold an arbitrary amount of memory.
MAX_BODY_BYTES = 1024 * 1024
BODY_TOO_LARGE = f"Request body is larger than {MAX_BODY_BYTES} bytes (1 MiB)"
# The rest of an oversized body is not read: closing tells the client not to reuse the
# connection, whose next bytes would be the unread body.
_CLOSE = {"Connection": "close"}


class BodyTooLargeError(HTTPException):
    """Raised from `receive` once a body without Content-Length passes the limit.

    An HTTPException, because FastAPI re-raises those from its body reading (any other
    exception there becomes a 400) and the app's handler turns it into the 413 envelope.
    """

    def __init__(self) -> None:
        super().__init__(413, BODY_TOO_LARGE, headers=_CLOSE)


class BodySizeLimit:
    """413 for a request body over `max_bytes`, with memory bounded by the limit.

    A declared Content-Length over the limit is refused before the app runs (so no route
    acts on it); a chunked body is counted as it streams in and refused once it passes.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(413, "PAYLOAD_TOO_LARGE", BODY_TOO_LARGE, headers=_CLOSE)
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError
            return message

        await self.app(scope, counted_receive, send)


class HeadAsGet:
    """HEAD wherever GET works: the GET is run and its headers sent without the body.

    FastAPI routes answer only the methods they declare, so without this every HEAD got a 405.
    Content-Length stays the GET's, as HTTP asks of a HEAD answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # HEAD_ONLY lets an answer that would be costly to make (a streamed document) skip
        # making its body at all.
        await self.app({**scope, "method": "GET", HEAD_ONLY: True}, receive, send_without_body)


class UnexpectedErrorAsEnvelope:
    """The 500 envelope for an exception no handler took, on a connection that stays usable.

    Starlette's outermost error middleware sends its 500 and then re-raises so the server can
    log it, and Uvicorn answers any exception that reaches it by closing the connection: after
    a response that had not said `Connection: close`, so a keep-alive client's next request on
    it failed. Here the exception is logged and answered, and goes no further. Only when the
    response had already started is it re-raised: half a response cannot be mended, and the
    server closes the connection, which is then the right thing to do.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_track(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_and_track)
        except Exception as exc:
            if started:
                raise
            response = internal_error(scope["method"], scope["path"], exc)
            await response(scope, receive, send)


# The methods that change state; with SDLC_LENS_API_TOKEN set, only these need the token.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNAUTHORIZED_MESSAGE = (
    "Changes need the server's token (SDLC_LENS_API_TOKEN): send Authorization: Bearer <token>"
)


class WriteTokenRequired:
    """401 for a state-changing request without `Authorization: Bearer <the token>`.

    Reads (GET, HEAD, OPTIONS, CORS preflights included) stay open: the dashboard sends no
    credential. The token is compared in constant time and never logged or echoed; the body
    of a refused request is not read.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode("ascii")

    def _authorised(self, header: str | None) -> bool:
        scheme, _, credentials = (header or "").strip().partition(" ")
        given = credentials.strip().encode("latin-1")  # headers arrive decoded as latin-1
        # compare_digest on two byte strings always, so a missing token costs the same time.
        matches = hmac.compare_digest(given, self._token)
        return scheme.lower() == "bearer" and matches

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        if self._authorised(Headers(scope=scope).get("authorization")):
            await self.app(scope, receive, send)
            return
        response = error_response(
            401, "UNAUTHORIZED", UNAUTHORIZED_MESSAGE, headers={"WWW-Authenticate": "Bearer"}
        )
        await response(scope, receive, send)


class CrossSiteWrites:
    """403 for a state-changing request that a browser sends from a page of another origin
    which `SDLC_LENS_CORS_ORIGINS` does not list.

    CORS alone does not stop these: a plain HTML form post, or a `no-cors` fetch, is a
    "simple request" that reaches the server, which acts on it; only the answer is hidden
    from the page. So any web page a LAN user opened could start syncs or delete projects.
    Browsers name the page's origin in `Origin` on every cross-origin POST, PUT and DELETE;
    requests without one (curl, scripts) and from the service's own origin pass.
    """

    def __init__(self, app: ASGIApp, cors_origins: list[str]) -> None:
        self.app = app
        self.any_origin = "*" in cors_origins
        self.allowed = frozenset(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or self.any_origin:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or origin in self.allowed or _same_origin(origin, headers):
            await self.app(scope, receive, send)
            return
        response = error_response(403, "CROSS_SITE_REQUEST", CROSS_SITE_REFUSED)
        await response(scope, receive, send)


def _same_origin(origin: str, headers: Headers) -> bool:
    # The page came from this service when its origin's host[:port] is the Host the request
    # was sent to (the scheme is left out: a TLS proxy in front changes it).
    host = headers.get("host")
    _scheme, separator, authority = origin.partition("://")
    return bool(separator) and host is not None and authority.lower() == host.lower()


CROSS_SITE_REFUSED = (
    "A page of another origin may not change anything here; list its origin in "
    "SDLC_LENS_CORS_ORIGINS to allow it"
)


# What a browser may do cross-origin: every method of the API. Content-Type (for JSON bodies)
# is one of the headers CORS always allows.
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"]


def install_middleware(app: FastAPI, cors_origins: list[str], write_token: str | None) -> None:
    """Wrap the app in the middleware above (the last added runs first): the cross-site check
    and the token check (when `write_token` is set) before anything reads a body, and CORS for
    `cors_origins` when there are any (outermost, so that every answer, a 401 or 403 too,
    carries its headers)."""
    app.add_middleware(UnexpectedErrorAsEnvelope)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(HeadAsGet)
    if write_token is not None:
        app.add_middleware(WriteTokenRequired, token=write_token)
    app.add_middleware(CrossSiteWrites, cors_origins=cors_origins)
    if cors_origins:
        # Authorization is not one of the headers CORS always allows: a browser app that
        # sends the token needs it allowed.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=["Authorization"],
        )
