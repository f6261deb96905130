"""Remote projects kept current without a click (SPEC-3 §19, first bullet).

Every `github` or `git` project with `auto_sync` is checked every
SDLC_LENS_SYNC_POLL_INTERVAL_SECONDS (0: never), each at its own time, up to 25 % later: its
branch head is asked of the server, one request (a server that speaks only protocol v0 is
remembered and asked for its list straight away). A sync is started only when the head is
not the commit last synced, through `SyncRunner.start_sync`, which never runs two syncs of
one project. A project whose last sync failed (or was cut off by a restart) is synced once
more; if that fails too, not again until its head moves (or a sync from the API succeeds).

A check that fails backs off 1, 2, 4 ... intervals, up to
SDLC_LENS_SYNC_POLL_MAX_BACKOFF_SECONDS, and the project shows `error` with `Freshness poll
failed: <reason>` (its documents are kept); the next good check clears that. Checks run on a
few worker threads, each bounded by SDLC_LENS_GIT_TIMEOUT_SECONDS: one slow or failing server
never holds the others back. The poller starts with the service, picks up projects as they
are registered or changed, and stops within a fraction of a second (a check under way is cut
off).
"""

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, case, select

from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.models import projects
from sdlc_lens.errors import AppError, SourceError, SyncCancelledError
from sdlc_lens.services.projects.registry import SyncState
from sdlc_lens.services.sources.repository_config import REMOTE_KINDS, RepositoryConfig, git_url
from sdlc_lens.services.sources.source import ProjectLocation, location_columns
from sdlc_lens.services.sync.runner import SyncRunner

logger = logging.getLogger(__name__)

POLL_FAILED = "Freshness poll failed: "
JITTER = 0.25  # each check comes up to this share of its delay later
WORKERS = 8  # checks at once: a slow server takes one, for at most the git time limit
# How often the list of projects is read again (new ones, changed ones, the stop).
REFRESH_SECONDS = 5.0

_QUERY = select(
    projects.c.id,
    projects.c.slug,
    projects.c.last_synced_commit_sha,
    projects.c.sync_status,
    projects.c.sync_error,
    *location_columns(),
).where(projects.c.auto_sync.is_(True), projects.c.source_type.in_(REMOTE_KINDS))


@dataclass(slots=True)
class _Schedule:
    """When a project is checked next, and what its checks found."""

    due: float
    failures: int = 0
    speaks_v2: bool = True
    attempted: str | None = None  # the head a sync was started for
    checking: bool = False


@dataclass(slots=True)
class _Project:
    slug: str
    synced_commit: str | None
    status: str
    error: str | None
    location: ProjectLocation = field(repr=False)  # holds the token


class FreshnessPoller:
    """The polling loop (a thread) and its checks (a small pool)."""

    def __init__(
        self,
        engine: Engine,
        runner: SyncRunner,
        repositories: RepositoryConfig,
        *,
        interval: float,
        max_backoff: float,
    ) -> None:
        self._engine = engine
        self._runner = runner
        self._repositories = repositories
        self._interval = interval
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._wake = threading.Event()  # a check finished: its next time is known now
        self._lock = threading.Lock()
        self._schedules: dict[int, _Schedule] = {}
        self._checks = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="poll")
        self._loop = threading.Thread(target=self._run, name="freshness-poller", daemon=True)

    def start(self) -> None:
        """Start polling (the lifespan calls it once the database is recovered)."""
        logger.info("freshness poller: remote auto_sync projects checked every %gs", self._interval)
        self._loop.start()

    def stop(self) -> None:
        """Stop polling; a check under way is cut off. Returns within a second."""
        self._stop.set()
        self._wake.set()
        if self._loop.is_alive():
            self._loop.join()
        self._checks.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._dispatch()
            except Exception:  # a database hiccup: report it, try again later
                logger.exception("freshness poller: reading the projects failed")
                wait = REFRESH_SECONDS
            self._wake.wait(wait)
            self._wake.clear()

    def _dispatch(self) -> float:
        """Start the checks that are due; how long until the next one (or a refresh)."""
        found = self._projects()
        now = time.monotonic()
        next_due = now + REFRESH_SECONDS
        with self._lock:
            for gone in self._schedules.keys() - found.keys():
                del self._schedules[gone]
            for project_id, project in found.items():
                schedule = self._schedules.get(project_id)
                if schedule is None:  # new, or the service just started: soon, spread out
                    schedule = _Schedule(now + random.uniform(0, JITTER) * self._interval)
                    self._schedules[project_id] = schedule
                if schedule.checking:
                    continue
                if schedule.due <= now:
                    schedule.checking = True
                    self._checks.submit(self._check, project_id, project, schedule)
                else:
                    next_due = min(next_due, schedule.due)
        return max(0.0, next_due - now)

    def _projects(self) -> dict[int, _Project]:
        with self._engine.connect() as conn:
            rows = conn.execute(_QUERY).all()
        found = {}
        for row in rows:
            location = ProjectLocation(*row[5:])
            found[row.id] = _Project(
                row.slug, row.last_synced_commit_sha, row.sync_status, row.sync_error, location
            )
        return found

    def _check(self, project_id: int, project: _Project, schedule: _Schedule) -> None:
        try:
            failed = self._poll(project_id, project, schedule)
        except Exception:
            logger.exception("freshness poll of %s failed unexpectedly", project.slug)
            failed = True
        with self._lock:
            schedule.failures = schedule.failures + 1 if failed else 0
            delay = min(self._interval * 2 ** max(0, schedule.failures - 1), self._max_backoff)
            schedule.due = time.monotonic() + delay * (1 + random.uniform(0, JITTER))
            schedule.checking = False
        self._wake.set()

    def _poll(self, project_id: int, project: _Project, schedule: _Schedule) -> bool:
        """One check of one project; whether it failed (and backs off)."""
        # Imported at the first check: dulwich and urllib3 are not needed before one.
        from sdlc_lens.services.sources.git_remote import Remote

        config = self._repositories
        location = project.location
        try:
            url = git_url(location, config.github_url)
            remote = Remote(url, config.token_for(location), config.remote, self._stop.is_set)
            try:
                head = remote.head(location.repo_branch, try_v2=schedule.speaks_v2)
            finally:
                remote.close()
            schedule.speaks_v2 = remote.speaks_v2
        except SyncCancelledError:
            return False
        except SourceError as exc:
            logger.warning("freshness poll of %s failed: %s", project.slug, exc.message)
            _record(self._engine, project_id, POLL_FAILED + exc.message)
            return True
        poll_failed = project.error is not None and project.error.startswith(POLL_FAILED)
        if poll_failed:
            _clear(self._engine, project_id)
        # A sync that failed (or was cut off by a restart) is tried again once per head.
        sync_failed = project.status == SyncState.ERROR and not poll_failed
        if head == project.synced_commit and not sync_failed:
            return False
        if head == schedule.attempted and sync_failed:
            return True  # its sync failed: not again until the head moves (backing off)
        try:
            self._runner.start_sync(project.slug)
        except AppError as exc:  # syncing already, or deleted meanwhile
            logger.debug("freshness poll of %s: no sync started: %s", project.slug, exc.message)
            return False
        schedule.attempted = head
        logger.info("freshness poll of %s: head moved to %s; syncing", project.slug, head[:12])
        return False


def _record(engine: Engine, project_id: int, message: str) -> None:
    _update(engine, project_id, projects.c.sync_status != SyncState.SYNCING,
            sync_status=SyncState.ERROR, sync_error=message)  # fmt: skip


def _clear(engine: Engine, project_id: int) -> None:
    """Back to what the project was before the failed checks: synced, or never synced."""
    status = case(
        (projects.c.last_synced_at.is_(None), SyncState.NEVER_SYNCED.value),
        else_=SyncState.SYNCED.value,
    )
    _update(engine, project_id, projects.c.sync_error.startswith(POLL_FAILED, autoescape=True),
            sync_status=status, sync_error=None)  # fmt: skip


def _update(engine: Engine, project_id: int, condition: Any, **values: Any) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            projects.update().where(projects.c.id == project_id, condition).values(**values)
        )
