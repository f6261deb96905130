"""What one sync carries from step to step: the request, the project, the counters."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from sdlc_lens.services.projects.registry import SyncState
from sdlc_lens.services.sources.source import ProjectLocation, SourceOpener
from sdlc_lens.services.sync.progress import SyncProgress

# Every line the sync itself logs comes from one logger, named after this package.
logger = logging.getLogger(__package__)

# Bump when parsing changes what it produces: rows from an older epoch are re-parsed even
# when their file is unchanged. 2: `content` is the body (no title line, no front matter),
# and rows carry their reference links and the checkup's derived columns.
PARSER_EPOCH = 2

STORED_KEPT = "its stored document is kept"


def _never() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """What the runner asks for: a sync of one project already claimed as `syncing`."""

    project_id: int
    open_source: SourceOpener
    slug: str  # names the project in the log lines, even once it is deleted
    allow_empty: bool = False  # an emptied source may delete every stored document
    should_stop: Callable[[], bool] = _never  # the server stops, or the project was deleted
    progress: SyncProgress = field(default_factory=SyncProgress)  # phase and file counts


@dataclass(frozen=True, slots=True)
class ProjectState:
    """The project as the sync found it (its settings are kept when they cannot be read)."""

    slug: str
    location: ProjectLocation
    status_vocab: str | None  # JSON, as stored
    schema_version: int | None
    profile: str | None
    last_synced_commit_sha: str | None


@dataclass(slots=True)
class SyncResult:
    """What one sync did; the counters are logged and summarised in `sync_error`."""

    slug: str = ""  # the project, named in the log lines
    status: SyncState = SyncState.SYNCED
    error: str | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    errors: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class SyncContext:
    """One sync under way: handed to each step of the pipeline."""

    engine: Engine
    conn: Connection  # the sync's own connection, with the scratch database attached
    request: SyncRequest
    project: ProjectState
    result: SyncResult

    @property
    def project_id(self) -> int:
        return self.request.project_id

    @property
    def slug(self) -> str:
        return self.project.slug

    def should_stop(self) -> bool:
        """Whether the sync must stop now, writing nothing."""
        return self.request.should_stop()

    def file_failed(self, rel_path: str, reason: str, kept: str = STORED_KEPT) -> None:
        """Count a file that could not be synced. The path and reason go to the log; the
        client-facing summary only counts them."""
        logger.warning("sync of %s: skipped %r: it %s; %s", self.slug, rel_path, reason, kept)
        self.result.errors += 1


def cannot_read(exc: OSError) -> str:
    """Why a file could not be read, completing "it ..."."""
    return f"cannot be read ({exc.strerror or 'I/O error'})"
