"""The error envelope `{"error": {"code", "message"}}` for every failure the API returns.

The services raise domain exceptions (`sdlc_lens.errors`); this module alone decides which
HTTP status and error code each one becomes.
"""

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from sdlc_lens.db.faults import database_fault
from sdlc_lens.errors import (
    AppError,
    AuthFailedError,
    CheckupBusyError,
    ConflictError,
    ConnectionInUseError,
    CredentialsChoiceError,
    DatabaseBusyError,
    DatabaseCorruptError,
    DatabaseFaultError,
    DatabaseFullError,
    DatabaseReadOnlyError,
    GitHubError,
    GitHubRateLimitedError,
    InvalidTokenError,
    LabelExistsError,
    NotFoundError,
    PathNotADirectoryError,
    PathNotFoundError,
    PathNotReadableError,
    PathOutsideBaseError,
    RequestCancelledError,
    SearchBudgetExceededError,
    SearchBusyError,
    SearchCancelledError,
    ServiceUnavailableError,
    SyncInProgressError,
    ValidationFailedError,
    WorkersBusyError,
)

logger = logging.getLogger(__name__)

# Domain exception -> (HTTP status, error code). A subclass without its own line takes the
# nearest ancestor's; a test checks that every AppError subclass has one.
ERROR_STATUS: dict[type[AppError], tuple[int, str]] = {
    AppError: (400, "BAD_REQUEST"),
    NotFoundError: (404, "NOT_FOUND"),
    ConflictError: (409, "CONFLICT"),
    SyncInProgressError: (409, "SYNC_IN_PROGRESS"),
    PathNotFoundError: (400, "PATH_NOT_FOUND"),
    PathNotADirectoryError: (400, "PATH_NOT_A_DIRECTORY"),
    PathNotReadableError: (400, "PATH_NOT_READABLE"),
    PathOutsideBaseError: (400, "PATH_OUTSIDE_BASE"),
    ValidationFailedError: (422, "VALIDATION_ERROR"),
    ServiceUnavailableError: (503, "SERVICE_UNAVAILABLE"),
    SearchBudgetExceededError: (503, "SEARCH_TOO_COSTLY"),
    WorkersBusyError: (503, "SERVICE_BUSY"),
    SearchBusyError: (503, "SEARCH_BUSY"),
    CheckupBusyError: (503, "HEALTH_CHECK_BUSY"),
    DatabaseFaultError: (503, "DATABASE_UNAVAILABLE"),
    DatabaseBusyError: (503, "DATABASE_BUSY"),
    DatabaseReadOnlyError: (503, "DATABASE_READ_ONLY"),
    DatabaseFullError: (503, "DATABASE_FULL"),
    DatabaseCorruptError: (503, "DATABASE_CORRUPT"),
    # nginx's "client closed request": nobody reads it, but the access log stays honest.
    RequestCancelledError: (499, "CLIENT_CLOSED_REQUEST"),
    SearchCancelledError: (499, "CLIENT_CLOSED_REQUEST"),
    LabelExistsError: (409, "LABEL_EXISTS"),
    ConnectionInUseError: (409, "CONNECTION_IN_USE"),
    CredentialsChoiceError: (400, "VALIDATION_ERROR"),
    InvalidTokenError: (401, "INVALID_TOKEN"),
    AuthFailedError: (401, "AUTH_FAILED"),
    GitHubRateLimitedError: (429, "RATE_LIMITED"),
    GitHubError: (502, "GITHUB_ERROR"),
}

# Codes for HTTP errors raised by the framework itself (unknown route, wrong method, ...).
_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def status_and_code(exc: AppError) -> tuple[int, str]:
    """The HTTP status and error code of a domain exception (its nearest mapped class)."""
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    raise AssertionError("AppError is always mapped")  # pragma: no cover


def error_response(
    status_code: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON response carrying the envelope (a message that echoes input stays encodable)."""
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status_code, headers=headers
    )


def validation_message(errors: Sequence[Any]) -> str:
    """`"<loc>: <msg>"` per error joined by `"; "`; the leading `body` is dropped from loc."""
    parts = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:]
        message = str(error.get("msg", "Invalid value"))
        parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
    return "; ".join(parts) or "Invalid request"


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    status_code, code = status_and_code(exc)
    headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
    return error_response(status_code, code, exc.message, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method the request's path answers (for `Allow`), HEAD wherever GET works.

    Starlette's 405 names only the methods of the first route whose path matched, so a path
    served by several routes (GET and POST /projects) listed one of them. Each method is
    tried against the app's routes as the router itself would match it.
    """
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Mount):
            # Matched whatever the method; the only mount here serves files, read with GET.
            if route.matches(request.scope)[0] is Match.FULL:
                allowed.add("GET")
            continue
        for method in _METHODS:
            if route.matches({**request.scope, "method": method})[0] is Match.FULL:
                allowed.add(method)
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(method for method in _METHODS if method in allowed)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "INTERNAL" if exc.status_code >= 500 else "ERROR")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and message == "Not Found":
        message = "Resource not found"
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return error_response(exc.status_code, code, message, headers=headers or None)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "VALIDATION_ERROR", validation_message(exc.errors()))


def internal_error(method: str, path: str, exc: BaseException) -> JSONResponse:
    """The 500 envelope for an unexpected exception, whose traceback goes to the log only."""
    logger.error("unhandled error on %s %s", method, path, exc_info=exc)
    return error_response(500, "INTERNAL", "Internal server error")


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A SQLite error that is a condition of the server (a full disk, a held write lock, a
    read-only or damaged file) as its 503; any other is a 500 like every unexpected error."""
    fault = database_fault(exc)
    if fault is None:
        return internal_error(request.method, request.url.path, exc)
    # One line, no traceback: the condition repeats on every request until it is fixed.
    cause = getattr(exc, "orig", exc)
    logger.warning(
        "%s %s: %s (%s: %s)",
        request.method,
        request.url.path,
        type(fault).__name__,
        type(cause).__name__,
        cause,
    )
    return await _app_error(request, fault)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Only reached for a failure in the middleware itself (see api/middleware.py).
    return internal_error(request.method, request.url.path, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can produce through the envelope."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(sqlite3.Error, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
