"""What a SQLite error means for the user: a full disk, a held write lock, a read-only or
damaged file. Each is a domain exception whose message says what to do; the API answers it
with 503, never a 500.
"""

import sqlite3

from sdlc_lens.errors import (
    DatabaseBusyError,
    DatabaseCorruptError,
    DatabaseFaultError,
    DatabaseFullError,
    DatabaseReadOnlyError,
)

# Seconds a client is told to wait before retrying a write that found the database busy:
# longer than the busy timeout, so a retry does not simply queue behind the same writer.
BUSY_RETRY_AFTER_SECONDS = 5


_BUSY = "The database is busy with another write (usually a sync); try again in a few seconds."
_DAMAGED = "restore it from a backup, or move it aside and sync the projects again."

# SQLite primary result codes (the low byte of an extended code) and what they mean here.
_FAULTS: dict[int, tuple[type[DatabaseFaultError], str]] = {
    5: (DatabaseBusyError, _BUSY),  # SQLITE_BUSY
    6: (DatabaseBusyError, _BUSY),  # SQLITE_LOCKED
    8: (  # SQLITE_READONLY
        DatabaseReadOnlyError,
        "The database is read-only: the service user must be able to write the database file "
        "and its folder (check their owner, mode and mount options).",
    ),
    13: (  # SQLITE_FULL
        DatabaseFullError,
        "The database disk is full: free space on the volume that holds the database.",
    ),
    11: (DatabaseCorruptError, f"The database file is damaged: {_DAMAGED}"),  # SQLITE_CORRUPT
    26: (  # SQLITE_NOTADB
        DatabaseCorruptError,
        f"The database file is damaged (it is not a SQLite database): {_DAMAGED}",
    ),
    10: (  # SQLITE_IOERR
        DatabaseFaultError,
        "The database cannot be read or written: its disk reported an I/O error.",
    ),
    14: (  # SQLITE_CANTOPEN
        DatabaseFaultError,
        "The database file cannot be opened: check that its folder exists and that the "
        "service user can write it.",
    ),
}

SQLITE_INTERRUPT = 9


def sqlite_error_code(exc: BaseException) -> int | None:
    """SQLite's primary result code behind `exc` (raw or wrapped by SQLAlchemy), or None."""
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__):
        code = getattr(candidate, "sqlite_errorcode", None)
        if isinstance(candidate, sqlite3.Error) and isinstance(code, int):
            return code & 0xFF
    return None


def database_fault(exc: BaseException) -> DatabaseFaultError | None:
    """The user-facing fault behind a database error, or None when it is not one of them
    (a bug, such as an SQL syntax error, stays a 500)."""
    code = sqlite_error_code(exc)
    if code is None or code not in _FAULTS:
        return None
    error_class, message = _FAULTS[code]
    if error_class is DatabaseBusyError:
        return error_class(message, retry_after=BUSY_RETRY_AFTER_SECONDS)
    return error_class(message)
