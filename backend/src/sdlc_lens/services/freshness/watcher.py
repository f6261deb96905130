"""Local projects with `auto_sync` follow their folder without a click (SPEC-3 §19).

A followed project is in one of two modes, its `auto_sync_mode`:

- `watch`: the operating system reports changes to its folder (notifications.py), and a
  batch of changes that a sync would see asks for a sync;
- `poll`: its folder is scanned every SDLC_LENS_WATCH_FALLBACK_SECONDS, `stat` only
  (folders.fingerprint), and a changed fingerprint asks for a sync. This is for folders that
  notifications cannot serve: SDLC_LENS_WATCH_MODE=poll, a network or FUSE file system, more
  folders than the watch budget has left, a notification failure, or a folder that does not
  exist (yet): once it appears, it is synced, and watched where it can be.

Every sync is the ordinary incremental one, asked for through `SyncRunner.start_sync`. While a
sync of the project is queued or running, a change marks the project dirty, and one more sync
follows when that one ends: no change is lost, and no two syncs of a project run at once.

`refresh` starts following a project when auto_sync is turned on, follows a new `sdlc_path`
and stops when auto_sync is turned off; `forget` stops after a delete; at start-up every
local project with auto_sync is followed again. Each start is followed by one sync (it
catches what changed while nothing was looking), except for a folder that is not there.
"""

import logging
import os
import stat
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, select

from sdlc_lens.config import Settings, env_name
from sdlc_lens.db.models import projects
from sdlc_lens.errors import NotFoundError, SyncInProgressError
from sdlc_lens.services.freshness.folders import (
    count_folders,
    fingerprint,
    is_relevant,
    kernel_watch_limit,
    notification_blocker,
)
from sdlc_lens.services.freshness.notifications import ChangeBatch, FolderNotifications
from sdlc_lens.services.sync.runner import SyncRunner

logger = logging.getLogger(__name__)

Mode = Literal["watch", "poll"]

# A scan of a folder in poll mode takes at most this share of a CPU: a huge folder is scanned
# less often than every SDLC_LENS_WATCH_FALLBACK_SECONDS.
SCAN_SHARE = 0.05
RETRY_SECONDS = 1.0  # a sync that could not be asked for (the database busy) is asked again
# After this many notification failures, every folder is scanned instead, until a restart.
MAX_FAILURES = 3
STOP_SECONDS = 3.0  # the longest each thread is waited for at shutdown


@dataclass(slots=True)
class Followed:
    """One followed project and what the watcher knows about its folder."""

    project_id: int
    slug: str
    root: str
    mode: Mode | None = None  # None until chosen
    reason: str = ""  # why it is scanned rather than watched
    watch_later: bool = False  # scanned for now: over the budget, a failure, not there yet
    folders: int = 0  # the inotify watches it takes (watch mode)
    identity: tuple[int, int] | None = None  # its folder's (device, inode) when watched
    fingerprint: bytes | None = None  # poll mode: the last scan; None while it is missing
    next_scan: float = 0.0
    dirty: bool = False  # a change came while a sync of it was queued or running
    retry_at: float | None = None


class FolderWatcher:
    """Follows every local project with auto_sync; two daemon threads (this one's and the
    notifications'), both stopped by `stop`."""

    def __init__(self, engine: Engine, runner: SyncRunner, settings: Settings) -> None:
        self._engine = engine
        self._runner = runner
        self._mode_setting = settings.watch_mode
        self._interval = settings.watch_fallback_seconds
        kernel_limit = kernel_watch_limit()
        # Half the kernel's per-user limit at most: other programs of the user need some.
        self._budget = settings.watch_max_folders
        if kernel_limit is not None:
            self._budget = min(self._budget, kernel_limit // 2)
        self._lock = threading.Condition(threading.RLock())
        self._followed: dict[str, Followed] = {}
        self._modes: dict[str, Mode] = {}  # read by the API without the lock
        # Stepped at every change of a mode: part of what the project list's cached answer
        # and ETag depend on (api/caching.py).
        self.modes_version = 0
        self._batches: list[ChangeBatch] = []
        self._ended: set[int] = set()  # projects whose sync ended since the last look
        self._rewatch = False
        self._failures: list[str] = []
        self._stopping = threading.Event()
        self._notifications = FolderNotifications(self._changes_seen, self._notifications_failed)
        self._thread = threading.Thread(target=self._run, name="folder-watcher", daemon=True)
        runner.when_sync_ends(self._sync_ended)

    # ---- the API's side ---------------------------------------------------------------

    def start(self) -> None:
        """Start both threads; this one first follows every saved project with auto_sync."""
        self._notifications.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop following (no sync is asked for after this) and close every watch."""
        self._stopping.set()  # first: a scan under way sees it and ends, releasing the lock
        with self._lock:
            self._lock.notify_all()
        self._notifications.stop(STOP_SECONDS)
        if self._thread.is_alive():
            self._thread.join(STOP_SECONDS)

    def mode_of(self, slug: str) -> Mode | None:
        """The project's `auto_sync_mode`: None when it is not followed."""
        return self._modes.get(slug)

    def refresh(self, slug: str) -> Mode | None:
        """Follow the project as it is stored now (start, move or stop); its mode then. A
        project that starts being followed is synced (its sync claimed before this returns)."""
        with self._engine.connect() as conn:
            row = conn.execute(_FOLLOWED.where(projects.c.slug == slug)).first()
        with self._lock:
            if self._stopping.is_set():
                return None
            if row is None:
                self._unfollow(slug)
            else:
                self._follow([(row.id, row.slug, row.sdlc_path)])
            return self._modes.get(slug)

    def forget(self, slug: str) -> None:
        """Stop following a deleted project."""
        with self._lock:
            self._unfollow(slug)

    # ---- following and unfollowing -----------------------------------------------------

    def _follow(self, rows: Iterable[tuple[int, str, str]]) -> None:
        started = []
        for project_id, slug, root in rows:
            old = self._followed.get(slug)
            if old is not None and (old.project_id, old.root) == (project_id, root):
                continue
            self._unfollow(slug)
            followed = Followed(project_id, slug, root)
            self._followed[slug] = followed
            self._choose_mode(followed)
            started.append(followed)
        if any(followed.mode == "watch" for followed in started):
            self._watch_again()  # before the first sync: nothing between them goes unseen
        for followed in started:
            self._announce(followed)
            if followed.mode == "watch" or followed.fingerprint is not None:
                self._request_sync(followed)
        self._lock.notify_all()  # the watcher's thread has new scans to time

    def _unfollow(self, slug: str) -> None:
        followed = self._followed.pop(slug, None)
        self._set_mode(slug, None)
        if followed is not None:
            logger.info("project %s: no longer following %s", slug, followed.root)
            # Its watches go, and the budget they took may let a scanned folder be watched.
            self._rewatch = self._rewatch or followed.mode == "watch"
            self._lock.notify_all()

    def _choose_mode(self, followed: Followed) -> Mode:
        reason, watch_later, folders = self._why_not_watch(followed.root)
        if reason is not None:
            self._poll(followed, reason, watch_later)
            return "poll"
        followed.mode, followed.folders = "watch", folders
        followed.identity, followed.watch_later = _identity(followed.root), False
        self._set_mode(followed.slug, "watch")
        return "watch"

    def _why_not_watch(self, root: str) -> tuple[str | None, bool, int]:
        """Why the folder is to be scanned rather than watched (None: it is watched), whether
        watching it may work later, and the watches it takes."""
        if _identity(root) is None:
            return "the folder does not exist; it is synced once it appears", True, 0
        if self._mode_setting == "poll":
            return f"{env_name('watch_mode')} is poll", False, 0
        if self._mode_setting == "auto" and (blocker := notification_blocker(root)):
            return blocker, False, 0
        if len(self._failures) >= MAX_FAILURES:
            return f"notifications failed {len(self._failures)} times", False, 0
        used = sum(other.folders for other in self._followed.values() if other.mode == "watch")
        left = max(self._budget - used, 0)
        folders = count_folders(root, left)
        if folders > left:
            reason = (
                f"it has more than the {left:,} folders left of the {self._budget:,} that "
                f"notifications may watch ({env_name('watch_max_folders')}, at most half the "
                "kernel's limit)"
            )
            return reason, True, 0
        return None, False, folders

    def _poll(self, followed: Followed, reason: str, watch_later: bool = False) -> None:
        if followed.mode != "poll":  # the scans compare with what is there from now on
            followed.fingerprint = fingerprint(followed.root, self._stopping.is_set)
            followed.next_scan = time.monotonic() + self._interval
        followed.mode, followed.reason, followed.watch_later = "poll", reason, watch_later
        followed.folders, followed.identity = 0, None
        self._set_mode(followed.slug, "poll")

    def _set_mode(self, slug: str, mode: Mode | None) -> None:
        if self._modes.get(slug) == mode:
            return
        if mode is None:
            del self._modes[slug]
        else:
            self._modes[slug] = mode
        self.modes_version += 1

    def _watch_again(self) -> None:
        """Make the watches match the projects in watch mode, first trying to watch again the
        folders that were scanned only for want of budget, after a failure or while missing
        (each then synced: a change since its last scan would otherwise go unseen)."""
        self._rewatch = False
        upgraded = [
            followed
            for followed in list(self._followed.values())
            if followed.mode == "poll" and followed.watch_later
            if self._choose_mode(followed) == "watch"
        ]
        if len(self._failures) >= MAX_FAILURES:
            for followed in self._watched():
                self._poll(followed, f"notifications failed: {self._failures[-1]}")
                self._announce(followed)
        watched = list(self._watched())
        failed = self._notifications.replace(list(dict.fromkeys(f.root for f in watched)))
        for followed in watched:
            if followed.root in failed:
                self._poll(followed, f"notifications failed: {failed[followed.root]}", True)
                self._announce(followed)
        for followed in upgraded:
            self._announce(followed)
            self._request_sync(followed)

    def _watched(self) -> Iterator[Followed]:
        return (f for f in list(self._followed.values()) if f.mode == "watch")

    def _announce(self, followed: Followed) -> None:
        if followed.mode == "watch":
            logger.info(
                "project %s: watching %s for changes (%d folders)",
                followed.slug,
                followed.root,
                followed.folders,
            )
        else:
            logger.info(
                "project %s: scanning %s for changes every %gs: %s",
                followed.slug,
                followed.root,
                self._interval,
                followed.reason,
            )

    # ---- the watcher's thread ---------------------------------------------------------

    def _run(self) -> None:
        try:
            with self._engine.connect() as conn:
                saved = [(row.id, row.slug, row.sdlc_path) for row in conn.execute(_FOLLOWED)]
            with self._lock:
                if not self._stopping.is_set():
                    self._follow(saved)
        except Exception:  # a background thread: report, and go on with what there is
            logger.exception("folder watcher: following the saved projects failed")
        while True:
            with self._lock:
                while not (self._stopping.is_set() or self._has_work()):
                    self._lock.wait(self._seconds_to_next_due())
                if self._stopping.is_set():
                    return
                try:
                    self._work()
                except Exception:
                    logger.exception("folder watcher: handling changes failed; going on")

    def _has_work(self) -> bool:
        due = self._seconds_to_next_due()
        return bool(self._batches or self._ended or self._rewatch) or due == 0

    def _seconds_to_next_due(self) -> float | None:
        times = [f.next_scan for f in self._followed.values() if f.mode == "poll"]
        times += [f.retry_at for f in self._followed.values() if f.retry_at is not None]
        return max(0.0, min(times) - time.monotonic()) if times else None

    def _work(self) -> None:
        batches, self._batches = self._batches, []
        ended, self._ended = self._ended, set()
        if self._rewatch:
            self._watch_again()
        for followed in self._changed(batches):
            self._request_sync(followed)
        now = time.monotonic()
        for followed in list(self._followed.values()):
            if self._stopping.is_set():
                return
            if followed.mode == "poll" and followed.next_scan <= now:
                self._scan(followed)
            retry_due = followed.retry_at is not None and followed.retry_at <= now
            if followed.dirty and (followed.project_id in ended or retry_due):
                self._request_sync(followed)

    def _changed(self, batches: list[ChangeBatch]) -> list[Followed]:
        """The watched projects that a batch touched in a way a sync would see."""
        by_root: dict[str, list[Followed]] = {}
        for followed in self._watched():
            by_root.setdefault(followed.root, []).append(followed)
        changed: dict[str, Followed] = {}
        for path in {path for batch in batches for path in batch}:
            for root in _folders_above(path, by_root):
                for followed in by_root[root]:
                    if path == root:
                        self._check_folder(followed)
                    if is_relevant(root, path):
                        changed[followed.slug] = followed
        return list(changed.values())

    def _check_folder(self, followed: Followed) -> None:
        """The watched folder itself was moved or removed: watch what is there now, or scan
        for it until it comes back (the sync that follows records that it is gone)."""
        identity = _identity(followed.root)
        if identity is None:
            self._poll(followed, "the folder is gone; it is synced once it comes back", True)
            self._announce(followed)
            self._watch_again()
        elif identity != followed.identity:
            followed.identity = identity  # another folder in its place: watch that one
            self._watch_again()

    def _scan(self, followed: Followed) -> None:
        started = time.monotonic()
        current = fingerprint(followed.root, self._stopping.is_set)
        cost = time.monotonic() - started
        followed.next_scan = time.monotonic() + max(self._interval, cost / SCAN_SHARE)
        if current == followed.fingerprint or self._stopping.is_set():
            return
        appeared = followed.fingerprint is None
        followed.fingerprint = current
        if appeared:  # back, or there at last: watched where it can be
            if self._choose_mode(followed) == "watch":
                self._watch_again()
            self._announce(followed)
        self._request_sync(followed)

    def _request_sync(self, followed: Followed) -> None:
        followed.dirty, followed.retry_at = False, None
        try:
            self._runner.start_sync(followed.slug)
        except SyncInProgressError:
            followed.dirty = True  # synced again when the running one ends
        except NotFoundError:
            self._unfollow(followed.slug)  # deleted meanwhile
        except Exception as exc:  # the database busy or failing: asked again shortly
            followed.dirty, followed.retry_at = True, time.monotonic() + RETRY_SECONDS
            logger.warning(
                "project %s: a sync could not be started (%s); trying again", followed.slug, exc
            )

    # ---- called from the other threads ------------------------------------------------

    def _changes_seen(self, batch: ChangeBatch) -> None:
        with self._lock:
            self._batches.append(batch)
            self._lock.notify_all()

    def _notifications_failed(self, reason: str) -> None:
        with self._lock:
            self._failures.append(reason)
            logger.warning("folder notifications failed (%s); watching again", reason)
            for followed in self._watched():  # changes may have been missed: sync them all
                followed.dirty, followed.retry_at = True, time.monotonic()
            self._rewatch = True
            self._lock.notify_all()

    def _sync_ended(self, project_id: int) -> None:
        with self._lock:
            self._ended.add(project_id)
            self._lock.notify_all()


# The projects the watcher follows: local ones with auto_sync and a folder.
_FOLLOWED = select(projects.c.id, projects.c.slug, projects.c.sdlc_path).where(
    projects.c.auto_sync.is_(True),
    projects.c.source_type == "local",
    projects.c.sdlc_path.is_not(None),
)


def _identity(folder: str) -> tuple[int, int] | None:
    """The folder's (device, inode), or None when there is no folder at that path."""
    try:
        info = os.stat(folder)  # noqa: PTH116
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def _folders_above(path: str, roots: dict[str, list[Followed]]) -> Iterator[str]:
    """The roots among `roots` that are `path` or one of its parent folders."""
    while True:
        if path in roots:
            yield path
        parent = os.path.dirname(path)  # noqa: PTH120 - strings as notify reports them
        if parent == path:
            return
        path = parent
