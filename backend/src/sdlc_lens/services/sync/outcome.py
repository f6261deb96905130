"""How a sync ends when it writes no plan: stopped early, already current, failed, or cut off
by a restart. Each writes only the project's state."""

from typing import Any

from sqlalchemy import Engine, select

from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.faults import database_fault
from sdlc_lens.db.models import projects
from sdlc_lens.services.projects.registry import SyncState
from sdlc_lens.services.sync.context import SyncContext, SyncResult, logger
from sdlc_lens.timeutil import utc_now

INTERRUPTED_ERROR = "Sync was interrupted (the server stopped); sync again"


def project_exists(engine: Engine, project_id: int) -> bool:
    """Whether the project is still registered (a stopped sync may have been deleted)."""
    with engine.connect() as conn:
        found = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
    return found is not None


def finish_early(ctx: SyncContext, message: str) -> SyncResult:
    """End a sync that wrote nothing: `error`, message kept, `last_synced_at` untouched."""
    _mark(ctx.engine, ctx.project_id, ctx.slug, sync_status=SyncState.ERROR, sync_error=message)
    return SyncResult(slug=ctx.slug, status=SyncState.ERROR, error=message)


def finish_unchanged(ctx: SyncContext) -> SyncResult:
    """End a sync whose source is at the revision already stored: nothing to read or write
    but the project's state (its documents are as current as of now)."""
    now = utc_now()
    _mark(
        ctx.engine,
        ctx.project_id,
        ctx.slug,
        sync_status=SyncState.SYNCED,
        sync_error=None,
        last_synced_at=now,
        updated_at=now,
    )
    return ctx.result


def record_error(engine: Engine, project_id: int, slug: str, message: str) -> None:
    """Mark the project `error`; when even that cannot be written (a full or read-only disk),
    say so in the log. The runner releases its claim either way, so a new sync can start."""
    try:
        _mark(engine, project_id, slug, sync_status=SyncState.ERROR, sync_error=message)
    except Exception as exc:
        fault = database_fault(exc)
        logger.error(
            "sync of %s: could not record its outcome (%s); the project shows "
            "`syncing` until it is synced again, which can start at once",
            slug,
            fault.message if fault is not None else type(exc).__name__,
            exc_info=fault is None,
        )


def _mark(engine: Engine, project_id: int, slug: str, **values: Any) -> None:
    with write_transaction(engine, changes=(slug,)) as conn:
        conn.execute(projects.update().where(projects.c.id == project_id).values(**values))


def mark_interrupted_syncs(engine: Engine) -> int:
    """At start-up: projects left `syncing` by a stopped process go to `error`."""
    with write_transaction(engine) as conn:
        return conn.execute(
            projects.update()
            .where(projects.c.sync_status == SyncState.SYNCING)
            .values(sync_status=SyncState.ERROR, sync_error=INTERRUPTED_ERROR)
        ).rowcount
