"""Every domain error: the failures the services raise, in one place.

AppError and its subclasses reach clients: they know nothing about HTTP, `api/errors.py` maps
each class to a status, an error code and the envelope the client sees. The sync's errors
below them end a file (RefusedFileError), a sync (SourceError) or stop one (SyncCancelledError);
their messages go to the log and `sync_error`.

Not here, on purpose, because no service raises them: configuration errors that stop the
process before it serves (`db.engine.DatabaseUrlError`, `preflight.InvalidSettingsError`),
the API's own HTTP error (`api.middleware.BodyTooLargeError`), the backup command's error
(`backup.BackupError`, printed by that command), the git transport's signals
(`services.sources.git_errors`: a server's HTTP status, a fetch over its limit; each becomes a
SourceError there), and private control flow that never leaves its module. A test keeps it so.
"""


class AppError(Exception):
    """A failure with a message that is safe to show to the client."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after  # seconds after which trying again may work


class NotFoundError(AppError):
    """The project or document asked for does not exist."""


class ConflictError(AppError):
    """The change clashes with what is stored (a taken slug)."""


class SyncInProgressError(AppError):
    """A sync of this project is already running."""


class ValidationFailedError(AppError):
    """Input that passed the schema but breaks a rule of the domain (a name without a slug)."""


class ServiceUnavailableError(AppError):
    """The service cannot answer right now (a missing search index); retrying may help."""


class PathNotFoundError(AppError):
    """A project's `sdlc_path` does not exist."""


class PathNotADirectoryError(AppError):
    """A project's `sdlc_path` exists but is a file (or anything else but a folder)."""


class PathNotReadableError(AppError):
    """A project's `sdlc_path` is a folder the service's user cannot list."""


class PathOutsideBaseError(AppError):
    """A project's `sdlc_path` resolves outside SDLC_LENS_ALLOWED_PROJECT_BASE."""


class RequestCancelledError(AppError):
    """The client closed the request; nobody will read the answer."""


class WorkersBusyError(AppError):
    """Every worker of a costly kind of request is busy and its queue is full."""


class SearchBudgetExceededError(AppError):
    """The search needed more work than one search may do."""


class SearchCancelledError(RequestCancelledError):
    """The client of a search closed the request."""


class SearchBusyError(WorkersBusyError):
    """Every search worker is busy and the queue is full."""


class CheckupBusyError(WorkersBusyError):
    """The project health check's worker is busy and its queue is full."""


# Stored GitHub connections and GitHub's API (SPEC-3 §17).


class LabelExistsError(ConflictError):
    """Another stored connection has this label."""


class ConnectionInUseError(ConflictError):
    """The connection is still named by projects (the message names them)."""


class CredentialsChoiceError(AppError):
    """A repository request names both a token and a connection, or neither."""


class InvalidTokenError(AppError):
    """GitHub refused the token (401), or the stored one cannot be decrypted."""


class AuthFailedError(InvalidTokenError):
    """The same, on the repository routes, which name it differently."""


class GitHubRateLimitedError(AppError):
    """GitHub is rate limiting this token; `retry_after` says for how long, when it said."""


class GitHubError(AppError):
    """GitHub could not be reached, did not answer in time, or answered something unusable."""


# The database's faults: `db/faults.py` says which SQLite error is which.


class DatabaseFaultError(ServiceUnavailableError):
    """The database cannot do what was asked right now (an I/O error, a file that cannot be
    opened); not the client's fault."""


class DatabaseBusyError(DatabaseFaultError):
    """Another connection held the write lock for longer than the busy timeout."""


class DatabaseReadOnlyError(DatabaseFaultError):
    """The database file or its folder cannot be written."""


class DatabaseFullError(DatabaseFaultError):
    """The disk that holds the database is full."""


class DatabaseCorruptError(DatabaseFaultError):
    """A page of the database file is damaged, or the file is not a database."""


# The sync's errors: they never reach a client directly; their messages go to the log and
# the project's `sync_error`.


class RefusedFileError(Exception):
    """A file the sync will not read; `reason` completes the sentence "it ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SourceError(Exception):
    """The project's source cannot be read at all (its folder is missing or unreadable, a
    repository cannot be reached): the sync ends with `message` as its error, and the stored
    documents stay as they are."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SyncCancelledError(Exception):
    """The server is shutting down (or the project was deleted); the sync stops before its
    commit, having written nothing. `phase` says where it was."""

    def __init__(self, phase: str = "reading files") -> None:
        super().__init__(phase)
        self.phase = phase


class ProjectGoneError(Exception):
    """The project was deleted while its large sync wrote batches (db/batched_sync.py): the
    sync ends having shown nothing; the project's purge removes what it wrote."""


class DocumentChangedError(Exception):
    """A sync rewrote a document while its answer was being streamed; the answer is cut off
    (the connection closes) rather than mix two versions. Never an envelope: the answer had
    already begun."""

    def __init__(self, row_id: int) -> None:
        super().__init__(f"document {row_id} changed while it was being sent")
