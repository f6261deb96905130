"""Database errors as 503 envelopes: a full disk, a held write lock, a read-only or damaged
file are conditions of the server, reported with what to do, each logged in one line."""

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from sdlc_lens.db.faults import BUSY_RETRY_AFTER_SECONDS, DatabaseBusyError, database_fault
from sdlc_lens.errors import error_response

logger = logging.getLogger(__name__)


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 with the fault's code and advice; any other database error is a 500 as usual."""
    fault = database_fault(exc)
    if fault is None:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "INTERNAL", "Internal server error")
    # One line, no traceback: the condition repeats on every request until it is fixed.
    cause = getattr(exc, "orig", exc)
    logger.warning(
        "%s %s: %s (%s: %s)",
        request.method,
        request.url.path,
        fault.code,
        type(cause).__name__,
        cause,
    )
    headers = (
        {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
        if isinstance(fault, DatabaseBusyError)
        else None
    )
    return error_response(fault.status_code, fault.code, fault.message, headers=headers)


def install_database_error_handler(app: FastAPI) -> None:
    """Route SQLite errors (raw or wrapped by SQLAlchemy) through `database_error`."""
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(sqlite3.Error, database_error)
