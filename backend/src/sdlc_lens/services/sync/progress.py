"""How far each running sync has got, kept in memory for the project JSON (`sync_progress`).

The sync thread writes, request handlers read; a lock keeps every snapshot consistent. Nothing
here touches the database: progress must not cost a write per file.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any


class SyncPhase(StrEnum):
    """What a running sync is doing: walking the folder, reading and parsing, committing."""

    SCANNING = "scanning"
    PARSING = "parsing"
    WRITING = "writing"


class SyncProgress:
    """The counters of one sync; updated by the sync thread only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._phase = SyncPhase.SCANNING
        self._files_seen = 0
        self._files_to_process = 0
        self._files_done = 0

    def files_seen(self, count: int) -> None:
        """The walk found `count` more document files."""
        with self._lock:
            self._files_seen += count

    def start_parsing(self, files_to_process: int) -> None:
        """The walk is over; this many new or changed files are to be read and parsed."""
        with self._lock:
            self._phase = SyncPhase.PARSING
            self._files_to_process = files_to_process

    def file_done(self) -> None:
        """One of the files to process has been read (parsed, unchanged, or failed)."""
        with self._lock:
            self._files_done += 1

    def start_writing(self) -> None:
        """Everything is read; the sync is writing its one transaction."""
        with self._lock:
            self._phase = SyncPhase.WRITING

    def state(self) -> tuple[str, int, int, int]:
        """(phase, files seen, files to process, files done), as one consistent reading."""
        with self._lock:
            return (self._phase.value, self._files_seen, self._files_to_process, self._files_done)

    def snapshot(self) -> dict[str, Any]:
        """The `sync_progress` JSON object."""
        return dict(zip(_SNAPSHOT_KEYS, self.state(), strict=True))


_SNAPSHOT_KEYS = ("phase", "files_seen", "files_to_process", "files_done")


class SyncProgressBoard:
    """The progress of every sync running right now, by project id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[int, SyncProgress] = {}
        self._by_slug: dict[str, SyncProgress] = {}

    @contextmanager
    def track(self, project_id: int, slug: str) -> Iterator[SyncProgress]:
        """Publish a new progress record for the duration of one sync."""
        progress = SyncProgress()
        with self._lock:
            self._running[project_id] = progress
            self._by_slug[slug] = progress
        try:
            yield progress
        finally:
            with self._lock:
                self._running.pop(project_id, None)
                if self._by_slug.get(slug) is progress:
                    del self._by_slug[slug]

    def state_of(self, slug: str) -> tuple[str, int, int, int] | None:
        """`SyncProgress.state()` of the project's running sync, or None: what its answers'
        cache keys hold of the progress they show."""
        progress = self._by_slug.get(slug)
        return None if progress is None else progress.state()

    def states(self) -> tuple[tuple[str, tuple[str, int, int, int]], ...]:
        """(slug, state) of every running sync: what the project list's cache key holds."""
        with self._lock:
            running = sorted(self._by_slug.items())
        return tuple((slug, progress.state()) for slug, progress in running)

    def snapshot(self, project_id: int) -> dict[str, Any] | None:
        """The project's `sync_progress`, or None when no sync of it is running."""
        with self._lock:
            progress = self._running.get(project_id)
        return None if progress is None else progress.snapshot()
