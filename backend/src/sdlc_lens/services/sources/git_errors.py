"""What went wrong with a git server, in one line for `sync_error` (SPEC-3 §18, Errors).

Each message names the repository by its URL without credentials, or its host, and says what
to do; none carries a token (the caller masks one a server might echo, too).
"""

import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

import urllib3.exceptions
from dulwich.errors import GitProtocolError, HangupException

RETRY_LATER = "try again later"


class HttpStatusError(Exception):
    """The server answered a request with another status than 200."""

    def __init__(self, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = {name.lower(): value for name, value in headers.items()}


class DamagedPackError(Exception):
    """The pack a server sent does not read back: cut, corrupted, or not a pack."""


class FetchTooLargeError(Exception):
    """The sync received more than SDLC_LENS_GIT_MAX_FETCH_MB."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


def host_of(url: str) -> str:
    """The host (and port) of a URL, for messages."""
    return urlsplit(url).netloc.rpartition("@")[2]


def not_found(url: str, with_token: bool) -> str:
    """A repository the server will not show: absent, or private to this token (or to none)."""
    hint = "" if with_token else " (a private repository needs an access token)"
    return f"repository not found or no access: {url}{hint}"


def explain(exc: BaseException, url: str, with_token: bool) -> str | None:
    """The `sync_error` line for a failed exchange with `url`; None for an exception that is
    no server's doing (a bug: the caller lets it propagate, with its traceback)."""
    if isinstance(exc, HttpStatusError):
        return _status(exc, url, with_token)
    if isinstance(exc, FetchTooLargeError):
        return (
            f"fetching {url} passed the {exc.limit // (1024 * 1024)} MB limit "
            "(SDLC_LENS_GIT_MAX_FETCH_MB); nothing was changed. A server that allows partial "
            "clone (uploadpack.allowFilter) sends only the documents"
        )
    if isinstance(exc, DamagedPackError):
        return f"the git server of {url} sent a damaged pack ({exc}); nothing was changed; " + (
            RETRY_LATER
        )
    cause = exc.__cause__ if isinstance(exc, GitProtocolError) else exc
    if isinstance(cause, urllib3.exceptions.HTTPError | OSError):
        return unreachable(host_of(url), cause)
    if isinstance(exc, HangupException):
        return f"{host_of(url)} closed the connection during the exchange; {RETRY_LATER}"
    if isinstance(exc, GitProtocolError):
        detail = " ".join(str(exc).split())[:200]
        return f"the git server of {url} refused the request: {detail}"
    return None


def unreachable(host: str, exc: BaseException) -> str:
    """`cannot reach HOST: reason` for a failed connection or a lost one."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, urllib3.exceptions.NameResolutionError | socket.gaierror):
        reason = "its name is not known (DNS)"
    elif isinstance(exc, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError too
        reason = _os_reason(exc)
    elif isinstance(exc, urllib3.exceptions.ConnectTimeoutError | TimeoutError):
        reason = "the connection timed out"
    elif isinstance(exc, urllib3.exceptions.SSLError):
        reason = "the TLS handshake failed (certificate?)"
    elif isinstance(exc, urllib3.exceptions.ProxyError):
        reason = "the proxy refused the connection"
    elif isinstance(exc, urllib3.exceptions.ProtocolError | ConnectionError):
        reason = "the connection was lost"
    else:
        reason = _os_reason(exc)
    return f"cannot reach {host}: {reason}; {RETRY_LATER}"


def _os_reason(exc: BaseException) -> str:
    """`connection refused`: the system's words for the OSError behind `exc`."""
    os_error = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
    strerror = os_error.strerror if isinstance(os_error, OSError) else None
    return (strerror or type(exc).__name__).lower()


def _status(exc: HttpStatusError, url: str, with_token: bool) -> str:
    host = host_of(url)
    limited = exc.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in exc.headers
    if exc.status == 429 or (exc.status == 403 and limited):
        wait = exc.headers.get("retry-after")
        return f"rate limited by {host}; " + (
            f"retry after {wait} s" if wait and wait.isdigit() else RETRY_LATER
        )
    if exc.status == 401:
        if with_token:
            return f"the access token was refused by {host} (HTTP 401): enter a valid token"
        return not_found(url, with_token)
    if exc.status in (403, 404):
        return not_found(url, with_token)
    if exc.status >= 500:
        return f"{host} answered HTTP {exc.status}; {RETRY_LATER}"
    return f"{host} answered HTTP {exc.status} for {url}"
