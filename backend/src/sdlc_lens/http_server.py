"""Uvicorn's HTTP/1.1 protocol with the limits a service open to any LAN client needs.

Uvicorn is started with `--http sdlc_lens.http_server:GuardedHttpToolsProtocol`
(docker-entrypoint.sh, and the tests' and benchmarks' servers through `UVICORN_HTTP`): the
httptools parser, which served about twice the requests of h11 on the same machine
(BENCHMARKS.md, "The HTTP path"); the same guards also wrap h11 (GuardedH11Protocol).
Uvicorn itself bounds the size of a request's head, not the time it takes: its keep-alive
timer is cancelled by any byte, so 500 clients trickling a header each (slowloris) held their
sockets for as long as they liked.
Here:

- a client has `SDLC_LENS_CLIENT_TIMEOUT_SECONDS` (10 s), from when its connection opens or
  its previous answer ends, to send a request's line and headers, however slowly it trickles
  them; then 408 (if it sent anything) and the connection is closed;
- a request's body must then arrive within as long again; else the connection is closed, and
  the application sees a disconnect;
- a client that stops reading an answer costs the transport's buffer (Uvicorn pauses the
  answer at its high-water mark), and after as long again with a full buffer, its
  connection;
- at most `SDLC_LENS_MAX_CONNECTIONS` connections are open at once (never more than half the
  process's file-descriptor limit, which SQLite and the sync need too): one more is answered
  503 and closed at once;
- a request head still unfinished after 16 KiB gets 400 (h11 refuses it itself; httptools
  would keep buffering it), and Uvicorn's own 400 for a malformed request carries the JSON
  error envelope, like every other error of the API.
"""

import asyncio
import json
import logging
import resource
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sdlc_lens.config import get_settings

logger = logging.getLogger(__name__)

UVICORN_HTTP = "sdlc_lens.http_server:GuardedHttpToolsProtocol"
REFUSAL_LOG_SECONDS = 10.0
# The most a request's line and headers may take, as Uvicorn's h11 protocol allows.
MAX_HEAD_BYTES = 16 * 1024


def envelope_response(status: int, reason: str, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer with the error envelope, which closes the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


TOO_MANY_CONNECTIONS = envelope_response(
    503, "Service Unavailable", "SERVICE_BUSY", "Too many open connections; try again shortly"
)
HEAD_TIMEOUT = envelope_response(
    408, "Request Timeout", "REQUEST_TIMEOUT", "The request's headers came too slowly"
)


@cache
def max_connections() -> int:
    """The connection cap: the setting, but at most half the file-descriptor limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    configured = get_settings().max_connections
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, soft // 2))


@cache
def client_timeout() -> float:
    """Seconds a client may take for a request's head, for its body, or to resume reading."""
    return get_settings().client_timeout_seconds


class _Refusals:
    """Refused connections, logged at most once per REFUSAL_LOG_SECONDS: a flood of them
    must not flood the log too."""

    def __init__(self) -> None:
        self._since_logged = 0
        self._logged_at = -REFUSAL_LOG_SECONDS

    def count(self, open_connections: int) -> None:
        self._since_logged += 1
        now = time.monotonic()
        if now - self._logged_at >= REFUSAL_LOG_SECONDS:
            logger.warning(
                "refused %d connection(s) with 503: %d are open, the most allowed is %d "
                "(SDLC_LENS_MAX_CONNECTIONS)",
                self._since_logged,
                open_connections,
                max_connections(),
            )
            self._since_logged = 0
            self._logged_at = now


_refusals = _Refusals()


# The guards call the protocol they are mixed into; for the type checker, that is H11Protocol
# (HttpToolsProtocol has the same hooks and attributes: connections, transport, loop, cycle).
if TYPE_CHECKING:
    _Protocol = H11Protocol
else:
    _Protocol = object


class _Guards(_Protocol):
    """Deadlines for reading a request, a send-stall limit, a connection cap and JSON 400s
    (see the module docstring), for either of Uvicorn's HTTP/1.1 protocols."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._stall: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes of the request head awaited, received so far
        self._awaiting_head = False
        self._timed_cycle: object | None = None  # the request whose body is being timed

    # Uvicorn narrows the transport's type the same way (asyncio declares a BaseTransport).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > max_connections():
            _refusals.count(len(self.connections) - 1)
            transport.write(TOO_MANY_CONNECTIONS)
            transport.close()
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        self._follow_request()
        # h11 refuses a head that grows past this unfinished; httptools would buffer it all.
        if self._awaiting_head and self._head_bytes > MAX_HEAD_BYTES:
            self.send_400_response("Request head too large")

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start the next pipelined request
        if not self.transport.is_closing():
            self._follow_request()

    def send_400_response(self, msg: str) -> None:
        self.transport.write(envelope_response(400, "Bad Request", "BAD_REQUEST", msg))
        self.transport.close()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall is None:
            self._stall = self.loop.call_later(client_timeout(), self._send_stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _follow_request(self) -> None:
        """Arm or drop the deadline for what the client owes us now: a head, a body, nothing."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            if not self._awaiting_head:
                self._await_head()
            return
        self._awaiting_head = False
        if not cycle.more_body:
            self._cancel_deadline()  # the whole request is in: the application has it
        elif self._timed_cycle is not cycle:
            self._timed_cycle = cycle
            self._set_deadline(client_timeout(), self._body_too_slow)

    def _await_head(self) -> None:
        self._awaiting_head = True
        self._head_bytes = 0
        self._set_deadline(client_timeout(), self._head_too_slow)

    def _set_deadline(self, seconds: float, callback: Callable[[], None]) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(seconds, callback)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or not self._awaiting_head:
            return
        if self._head_bytes:
            self.transport.write(HEAD_TIMEOUT)
        self.transport.close()

    def _body_too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            logger.info("closed a connection whose request body took over %gs", client_timeout())
            self.transport.close()

    def _send_stalled(self) -> None:
        self._stall = None
        if not self.transport.is_closing():
            logger.info("dropped a client that read nothing for %gs", client_timeout())
            self.transport.abort()


class GuardedH11Protocol(_Guards, H11Protocol):
    """Uvicorn's h11 protocol with the guards."""


class GuardedHttpToolsProtocol(_Guards, HttpToolsProtocol):  # type: ignore[misc]
    """Uvicorn's httptools protocol with the guards."""
