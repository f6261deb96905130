"""Domain exceptions the services raise. They know nothing about HTTP: `api/errors.py` maps
each class to a status, an error code and the envelope the client sees."""


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
