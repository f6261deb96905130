"""Runs syncs and the clean-up of deleted projects in one background thread, keeps the WAL
and the process's memory small after each, and stops all of it promptly at shutdown."""

import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from sdlc_lens.db.engine import checkpoint, driver_connection
from sdlc_lens.db.staging import remove_scratch_file
from sdlc_lens.services.projects.registry import (
    claim_sync,
    deleted_project_ids,
    project_ids,
    purge_deleted_project,
)
from sdlc_lens.services.sources.git_store import remove_orphaned_stores, remove_store
from sdlc_lens.services.sources.kinds import Sources
from sdlc_lens.services.sources.repository import RepositoryConfig
from sdlc_lens.services.sync.engine import SyncRequest, SyncResult, run_sync
from sdlc_lens.services.sync.progress import SyncProgressBoard
from sdlc_lens.services.workers import release_free_memory

logger = logging.getLogger(__name__)

# At shutdown, how long to keep interrupting a checkpoint before waiting for it instead.
INTERRUPT_FOR_SECONDS = 2.0


class SyncRunner:
    """A single worker thread: syncs and purges queue behind each other instead of fighting
    for the SQLite write lock, and never run on the event loop."""

    def __init__(
        self, engine: Engine, allowed_base: Path | None, repositories: RepositoryConfig
    ) -> None:
        self._engine = engine
        self._stopping = threading.Event()
        self._stores = repositories.store_root
        self._open_source = Sources(allowed_base, repositories, self._stopping.is_set).open
        self.progress = SyncProgressBoard()  # read by the project endpoints
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync")
        self._lock = threading.Lock()
        # Project id -> syncs claimed and queued or running in this process.
        self._claims: Counter[int] = Counter()
        # Deleted projects whose claimed syncs are to stop without writing.
        self._deleted: set[int] = set()
        # The connection of a checkpoint under way, which shutdown interrupts.
        self._checkpointing: sqlite3.Connection | None = None
        self._sync_end_listeners: list[Callable[[int], None]] = []

    def start_sync(self, slug: str, *, allow_empty: bool = False) -> Future[SyncResult | None]:
        """Claim a project as `syncing` and queue its sync: the one way to ask for a sync.

        The API, the discovery at start-up and a folder watcher (issue 17) all ask here. It
        writes the claim, so it runs on a thread (from the event loop: run_in_threadpool).
        Raises NotFoundError for an unknown slug and SyncInProgressError while a sync of the
        project is queued or running (as `claim_sync`).
        """
        with self._lock:  # claim and record the claim as one step for concurrent triggers
            project_id = claim_sync(self._engine, slug, running=set(self._claims))
            self._claims[project_id] += 1
        return self._executor.submit(self._sync, project_id, slug, allow_empty)

    def when_sync_ends(self, listener: Callable[[int], None]) -> None:
        """Have `listener(project_id)` called, on the sync thread, whenever a sync ends (in
        any way) and its project can be claimed again: the folder watcher's cue for a sync it
        could not start while that one ran."""
        self._sync_end_listeners.append(listener)

    def project_deleted(self, project_id: int, slug: str) -> Future[None]:
        """Stop the deleted project's sync, if one is queued or running (it writes nothing),
        and queue the removal of its documents."""
        with self._lock:
            if project_id in self._claims:
                self._deleted.add(project_id)
        return self._executor.submit(self._purge, lambda: [(project_id, slug)])

    def purge_leftovers(self) -> Future[None]:
        """Queue, at start-up, what a killed process left: the sync's scratch file (removed
        on this thread, before any sync can open it), the object stores of deleted repository
        projects, and the rest of any purge a stop cut short, then a checkpoint. The slugs of
        purged projects went with their rows: the log names them by id."""
        return self._executor.submit(self._purge, self._leftovers)

    def _leftovers(self) -> list[tuple[int, str]]:
        try:
            removed = remove_scratch_file(self._engine)
        except OSError as exc:
            logger.warning("could not remove the sync's scratch file left by a crash: %s", exc)
        else:
            if removed:
                logger.info("removed the sync's scratch file left by a crash (%d bytes)", removed)
        stores = remove_orphaned_stores(self._stores, set(project_ids(self._engine)))
        if stores:
            logger.info("removed %d object store(s) of deleted projects", stores)
        return [
            (id_, f"(id {id_}, deleted before a restart)")
            for id_ in deleted_project_ids(self._engine)
        ]

    def _sync(self, project_id: int, slug: str, allow_empty: bool) -> SyncResult | None:
        try:
            with self.progress.track(project_id, slug) as progress:
                request = SyncRequest(
                    project_id,
                    self._open_source,
                    slug,
                    allow_empty=allow_empty,
                    should_stop=lambda: self._stopping.is_set() or project_id in self._deleted,
                    progress=progress,
                )
                return run_sync(self._engine, request)
        except Exception:
            # Already logged and recorded on the project by run_sync; keep the worker alive.
            return None
        finally:
            with self._lock:
                self._claims[project_id] -= 1
                if self._claims[project_id] <= 0:
                    del self._claims[project_id]
                    self._deleted.discard(project_id)
            for listener in self._sync_end_listeners:
                listener(project_id)
            self._tidy_up()

    def _purge(self, deleted: Callable[[], list[tuple[int, str]]]) -> None:
        """Remove the rows of deleted projects, given as (id, slug) pairs."""
        try:
            for project_id, slug in deleted():
                if self._stopping.is_set():
                    return
                started = time.perf_counter()
                remove_store(self._stores, project_id)
                purged = purge_deleted_project(self._engine, project_id, self._stopping.is_set)
                logger.info(
                    "removed %d rows of deleted project %s in %.3fs",
                    purged,
                    slug,
                    time.perf_counter() - started,
                )
        except Exception:
            logger.exception("removing a deleted project's documents failed; retried at start")
        finally:
            self._tidy_up()

    def _tidy_up(self) -> None:
        """After a sync or purge: fold the WAL into the database, return freed memory (both
        pointless, and slow after a large sync, when the process is about to exit)."""
        if not self._stopping.is_set():
            self._checkpoint()
            release_free_memory()

    def _checkpoint(self) -> None:
        try:
            with self._engine.connect() as conn:
                dbapi_connection = driver_connection(conn)
                with self._lock:
                    if self._stopping.is_set():
                        return  # the WAL stays valid; the next checkpoint folds it in
                    self._checkpointing = dbapi_connection
                try:
                    if not checkpoint(dbapi_connection):
                        logger.info("WAL still in use by readers; it is checkpointed later")
                finally:
                    with self._lock:
                        self._checkpointing = None
        except (sqlite3.Error, SQLAlchemyError) as exc:
            if not self._stopping.is_set():
                logger.warning("WAL checkpoint failed (%s); it is retried after the next sync", exc)

    def shutdown(self) -> None:
        """Ask running and queued syncs to stop (they write nothing) and wait for them.

        A sync notices between files while reading, and within milliseconds inside its write
        transaction; a checkpoint is interrupted (the WAL stays valid, to be folded in later).
        """
        with self._lock:
            self._stopping.set()
        deadline = time.monotonic() + INTERRUPT_FOR_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                if self._checkpointing is None:
                    break
                # Repeated: an interrupt before the checkpoint's statement starts is lost.
                self._checkpointing.interrupt()
            time.sleep(0.01)
        self._executor.shutdown(wait=True)
