"""Sync one project: list its source, skip what is unchanged, parse the rest, write it all or
nothing.

`_sync` is the pipeline, a short list of steps over one SyncContext: load the project, open
its source (services/sources: the engine never knows which kind it has), stop early when its
revision is the one already synced, list it, read the project's settings files, plan the
changes (sync/changes.py) and apply them (db/staging.py).

Reading and parsing happen before any write transaction: parsed rows are streamed into a
scratch database (which takes no lock on the real one), so the write lock is held only for
the set-based statements at the end; WAL readers never wait for it. A small plan is written
in one transaction; a large one in short batches of the project's next generation that no
reader sees, then shown by one short swap transaction (db/batched_sync.py). If anything
fails, the server is stopped, or the process dies before the COMMIT that shows the result,
the previous documents and index are what readers see. A stop is noticed between files while
reading, and within milliseconds inside a write transaction (the statement is interrupted
and rolled back); once the last COMMIT has been issued, the sync finishes.
"""

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError

from sdlc_lens.db.batched_sync import (
    clear_leftovers,
    is_large,
    remove_dead_rows,
    write_in_batches,
)
from sdlc_lens.db.engine import begin_immediate, stop_when
from sdlc_lens.db.faults import SQLITE_INTERRUPT, database_fault, sqlite_error_code
from sdlc_lens.db.lock_sharing import LockSharing
from sdlc_lens.db.models import projects
from sdlc_lens.db.staging import SyncPlan, staging_connection, stored_epochs, write_plan
from sdlc_lens.errors import (
    ProjectGoneError,
    RefusedFileError,
    SourceError,
    SyncCancelledError,
)
from sdlc_lens.parsing import StatusVocabulary, parse_project_config
from sdlc_lens.services.projects.registry import SyncState
from sdlc_lens.services.sources.source import (
    CONFIG_SIZE_LIMIT,
    Listing,
    ProjectLocation,
    Source,
    location_columns,
)
from sdlc_lens.services.sync.changes import (
    ProjectSettings,
    StoredRow,
    plan_changes,
    stored_files,
)
from sdlc_lens.services.sync.context import (
    PARSER_EPOCH,
    ProjectState,
    SyncContext,
    SyncRequest,
    SyncResult,
    cannot_read,
    logger,
)
from sdlc_lens.services.sync.outcome import (
    INTERRUPTED_ERROR,
    finish_early,
    finish_unchanged,
    project_exists,
    record_error,
)

__all__ = ["PARSER_EPOCH", "UNEXPECTED_ERROR", "SyncRequest", "SyncResult", "run_sync"]

EMPTY_SOURCE_ERROR = "source returned no documents - refusing to delete existing documents"
# A folder with no entries at all is what an unmounted volume looks like.
EMPTY_FOLDER_ERROR = "folder is empty (is the volume mounted?)"
UNEXPECTED_ERROR = "Sync failed unexpectedly; nothing was changed - see the server log"
DATABASE_ERROR = "Sync failed; nothing was changed. {}"

# The project settings files at the top of the document folder, read (best effort) on every
# sync.
CONFIG_FILES = (".config.yaml", ".version")
SETTINGS_KEPT = "the project's stored settings are kept"

WRITING = "writing"

_LOCATION_COLUMNS = location_columns()
_PROJECT_QUERY = select(
    projects.c.slug,
    projects.c.status_vocab,
    projects.c.schema_version,
    projects.c.profile,
    projects.c.last_synced_commit_sha,
    *_LOCATION_COLUMNS,
)


def run_sync(engine: Engine, request: SyncRequest) -> SyncResult | None:
    """Sync one project already claimed as `syncing`; always leaves it `synced` or `error`.

    Returns None when the project was deleted meanwhile (nothing to report to).
    """
    project_id = request.project_id
    started = time.perf_counter()
    try:
        if request.should_stop():  # queued behind another sync when the stop came
            raise SyncCancelledError
        with staging_connection(engine) as conn:
            result = _sync(engine, conn, request)
    except SyncCancelledError as stopped:
        if not project_exists(engine, project_id):
            logger.info(
                "sync of %s stopped while %s: the project was deleted; nothing written",
                request.slug,
                stopped.phase,
            )
            return None
        logger.warning(
            "sync of %s interrupted by shutdown while %s; nothing written",
            request.slug,
            stopped.phase,
        )
        record_error(engine, project_id, request.slug, INTERRUPTED_ERROR)
        return SyncResult(status=SyncState.ERROR, error=INTERRUPTED_ERROR)
    except BaseException as exc:
        fault = database_fault(exc)
        if fault is None:
            logger.exception("sync of %s failed; previous documents kept", request.slug)
        else:  # a condition of the server, not a bug: one line, no traceback
            logger.error(
                "sync of %s failed (%s: %s); previous documents kept",
                request.slug,
                type(fault).__name__,
                getattr(exc, "orig", exc),
            )
        message = UNEXPECTED_ERROR if fault is None else DATABASE_ERROR.format(fault.message)
        record_error(engine, project_id, request.slug, message)
        raise
    if result is not None:
        result.seconds = time.perf_counter() - started
        _log_finished(result)
    return result


def _sync(engine: Engine, conn: Connection, request: SyncRequest) -> SyncResult | None:
    """The pipeline; None when the project is gone."""
    project = _load_project(conn, request.project_id)
    if project is None:
        return None
    logger.info("sync of %s started: %s", project.slug, project.location.shown)
    ctx = SyncContext(engine, conn, request, project, SyncResult(slug=project.slug))
    try:
        with closing(request.open_source(request.project_id, project.location)) as source:
            return _sync_source(ctx, source)
    except SourceError as exc:
        return finish_early(ctx, exc.message)


def _sync_source(ctx: SyncContext, source: Source) -> SyncResult | None:
    _clear_leftovers(ctx)
    revision = source.revision()
    if _already_synced(ctx, revision):
        return finish_unchanged(ctx)
    listing, stored = _list_beside_stored(ctx, source)
    if listing.root_is_empty and not ctx.request.allow_empty:
        return finish_early(ctx, EMPTY_FOLDER_ERROR)
    ctx.result.errors = len(listing.unreadable_dirs)
    settings = _read_settings(ctx, source)
    problem = _emptied_source(ctx, listing, stored)
    if problem is not None:
        return finish_early(ctx, problem)
    for rel_path, reason in listing.problems.items():
        ctx.file_failed(rel_path, reason)
    plan = plan_changes(ctx, source, listing, stored, settings)
    _summarise(ctx.result)
    if ctx.should_stop():
        raise SyncCancelledError
    ctx.request.progress.start_writing()
    if not _apply(ctx, plan, _project_values(ctx, plan, settings, revision)):
        logger.info("project %s was deleted during its sync; nothing written", ctx.slug)
        return None
    return ctx.result


def _load_project(conn: Connection, project_id: int) -> ProjectState | None:
    row = conn.execute(_PROJECT_QUERY.where(projects.c.id == project_id)).first()
    conn.rollback()  # end the read snapshot: listing the source takes a while
    if row is None:
        return None
    return ProjectState(
        slug=row.slug,
        location=ProjectLocation(*row[len(row) - len(_LOCATION_COLUMNS) :]),
        status_vocab=row.status_vocab,
        schema_version=row.schema_version,
        profile=row.profile,
        last_synced_commit_sha=row.last_synced_commit_sha,
    )


def _already_synced(ctx: SyncContext, revision: str | None) -> bool:
    """Whether the source is at the revision the last clean sync stored, every document parsed
    by this parser: then nothing needs reading (a folder has no revision, so never)."""
    if revision is None or revision != ctx.project.last_synced_commit_sha:
        return False
    count, outdated = stored_epochs(ctx.conn, ctx.project_id, PARSER_EPOCH)
    ctx.conn.rollback()
    ctx.result.unchanged = count
    return outdated == 0


def _list_beside_stored(ctx: SyncContext, source: Source) -> tuple[Listing, dict[str, StoredRow]]:
    """The source's listing, and the stored fingerprints read meanwhile on another thread.

    Both run once per file on every sync, changed or not, and both mostly wait outside the
    GIL (the walk in system calls, the read in SQLite): together, 100,000 documents take
    about 0.2 s less than one after the other. Only this sync writes the project's rows, so
    reading them first or last is the same.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-stored") as pool:
        reading = pool.submit(stored_files, ctx, source)
        listing = _list_files(ctx, source)  # if it fails, leaving the block waits for the read
        stored = reading.result()
    ctx.conn.rollback()
    return listing, stored


def _list_files(ctx: SyncContext, source: Source) -> Listing:
    started = time.perf_counter()
    listing = source.list_files(ctx.request.progress.files_seen)
    logger.info(
        "sync of %s: found %d document file(s) in %.3fs",
        ctx.slug,
        len(listing.files),
        time.perf_counter() - started,
    )
    return listing


def _read_settings(ctx: SyncContext, source: Source) -> ProjectSettings:
    """The project settings from its settings files; the stored ones when a file exists but
    cannot be read (a lost status vocabulary would re-parse and re-status everything)."""
    texts: dict[str, str | None] = {}
    for name in CONFIG_FILES:
        try:
            data = source.read(name, CONFIG_SIZE_LIMIT)
        except FileNotFoundError:
            texts[name] = None
            continue
        except RefusedFileError as exc:
            ctx.file_failed(name, exc.reason, SETTINGS_KEPT)
            continue
        except OSError as exc:
            ctx.file_failed(name, cannot_read(exc), SETTINGS_KEPT)
            continue
        texts[name] = data.decode("utf-8", errors="replace")
    stored = ctx.project
    if len(texts) < len(CONFIG_FILES):
        vocab_json = stored.status_vocab
        return ProjectSettings(
            stored.schema_version,
            stored.profile,
            StatusVocabulary(json.loads(vocab_json) if vocab_json else {}),
            vocab_json,
            reparse_all=False,
        )
    config = parse_project_config(texts[".config.yaml"], texts[".version"])
    status_vocab = {k: list(v) for k, v in config.status_vocab.items()}
    vocab_json = json.dumps(status_vocab, sort_keys=True) if status_vocab else None
    # Custom status tokens change canonical statuses, so a vocabulary change re-parses all.
    return ProjectSettings(
        config.schema_version,
        config.profile,
        StatusVocabulary(status_vocab),
        vocab_json,
        reparse_all=vocab_json != stored.status_vocab,
    )


def _emptied_source(ctx: SyncContext, listing: Listing, stored: dict[str, StoredRow]) -> str | None:
    """Why a source that lists no document must not delete the stored ones, if it must not."""
    if listing.files or not stored:
        return None
    if listing.unreadable_dirs:
        return (
            f"{len(listing.unreadable_dirs)} folder(s) could not be read; nothing was changed. "
            "Their stored documents are preserved - see the server log for each path."
        )
    return None if ctx.request.allow_empty else EMPTY_SOURCE_ERROR


def _summarise(result: SyncResult) -> None:
    if result.errors:
        result.status = SyncState.ERROR
        result.error = (
            f"{result.errors} file(s) could not be synced and were left unchanged; "
            f"{result.added} added, {result.updated} updated, {result.deleted} deleted. "
            "Their stored documents are preserved - see the server log for each path."
        )


def _project_values(
    ctx: SyncContext, plan: SyncPlan, settings: ProjectSettings, revision: str | None
) -> dict[str, Any]:
    synced = ctx.result.status == SyncState.SYNCED
    return {
        "sync_status": ctx.result.status,
        "sync_error": ctx.result.error,
        "last_synced_at": plan.synced_at,
        "schema_version": settings.schema_version,
        "profile": settings.profile,
        "status_vocab": settings.vocab_json,
        # Only a clean sync vouches for the revision: after a failed file, the next sync
        # must list the source again.
        "last_synced_commit_sha": revision if synced else None,
    }


def _apply(ctx: SyncContext, plan: SyncPlan, project_values: dict[str, Any]) -> bool:
    """Write the plan and the project's new state: all of it or nothing, as readers see it.

    A small plan goes in one transaction. A large one is written as the project's next
    generation in short transactions, then shown by a short swap transaction that writes
    the project's state (db/batched_sync.py); its dead rows are removed after. Until the
    swap's COMMIT, a stop interrupts the running statement and the sync ends; what it wrote
    shows nowhere and the next sync removes it.
    """
    conn = ctx.conn
    plan.rows.flush()
    plan.links.flush()
    large = is_large(plan)
    sharing = LockSharing(ctx.engine)  # one writer's turns, from the first batch to the last
    logger.debug(
        "sync of %s: writing to the database (%d new or changed, %d deleted%s)",
        ctx.slug,
        len(plan.rows),
        len(plan.deletes),
        ", in batches" if large else "",
    )
    try:
        with _interruptible():
            if large:
                project_values["generation"] = write_in_batches(
                    conn, ctx.project_id, plan, ctx.should_stop, sharing
                )
        # Only this transaction changes what readers see: its commit invalidates their
        # cached answers (the batches before it show nothing).
        # After a large sync's swap come its dead rows' batches: the swap is one more turn.
        with sharing.turn() if large else nullcontext(), begin_immediate(conn, changes=(ctx.slug,)):
            with _interruptible(), stop_when(conn, ctx.should_stop):
                if not write_plan(
                    conn, ctx.project_id, plan, project_values, documents_written=large
                ):
                    return False
            if ctx.should_stop():
                raise SyncCancelledError(WRITING)
            # Past this point a stop waits: the COMMIT (at the end of this block) is never cut
            # off.
            logger.debug("sync of %s: committing", ctx.slug)
    except ProjectGoneError:
        return False
    if large:
        _remove_dead_rows(ctx, sharing)
    return True


@contextmanager
def _interruptible() -> Iterator[None]:
    """A statement interrupted by a stop ends the sync as stopped, not as failed."""
    try:
        yield
    except DBAPIError as exc:
        if sqlite_error_code(exc) == SQLITE_INTERRUPT:
            raise SyncCancelledError(WRITING) from exc
        raise


def _clear_leftovers(ctx: SyncContext) -> None:
    """Remove what an earlier sync of the project, cut short, left (db/batched_sync.py)."""
    with _interruptible():
        removed = clear_leftovers(ctx.conn, ctx.project_id, ctx.should_stop)
    if removed:
        logger.info("sync of %s: removed %d rows an earlier sync left", ctx.slug, removed)


def _remove_dead_rows(ctx: SyncContext, sharing: LockSharing) -> None:
    """After the swap: delete the replaced rows. The sync's outcome is committed: a failure
    or stop here only leaves them for the next sync to remove."""
    try:
        removed = remove_dead_rows(ctx.conn, ctx.project_id, ctx.should_stop, sharing)
    except (DBAPIError, SyncCancelledError) as exc:
        logger.warning("sync of %s: replaced rows are removed later (%s)", ctx.slug, exc)
        return
    logger.debug(
        "sync of %s: removed %d replaced rows; let other writers in %d time(s)",
        ctx.slug,
        removed,
        sharing.pauses,
    )


def _log_finished(result: SyncResult) -> None:
    log = logger.info if result.status == SyncState.SYNCED else logger.warning
    log(
        "sync of %s finished: %s in %.3fs (%d added, %d updated, %d unchanged, "
        "%d deleted, %d errors)%s",
        result.slug,
        result.status,
        result.seconds,
        result.added,
        result.updated,
        result.unchanged,
        result.deleted,
        result.errors,
        f": {result.error}" if result.error else "",
    )
