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

    def file_seen(self) -> None:
        """The walk found one more document file."""
        with self._lock:
            self._files_seen += 1

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

    def snapshot(self) -> dict[str, Any]:
        """The `sync_progress` JSON object."""
        with self._lock:
            return {
                "phase": self._phase.value,
                "files_seen": self._files_seen,
                "files_to_process": self._files_to_process,
                "files_done": self._files_done,
            }


class SyncProgressBoard:
    """The progress of every sync running right now, by project id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[int, SyncProgress] = {}

    @contextmanager
    def track(self, project_id: int) -> Iterator[SyncProgress]:
        """Publish a new progress record for the duration of one sync."""
        progress = SyncProgress()
        with self._lock:
            self._running[project_id] = progress
        try:
            yield progress
        finally:
            with self._lock:
                self._running.pop(project_id, None)

    def snapshot(self, project_id: int) -> dict[str, Any] | None:
        """The project's `sync_progress`, or None when no sync of it is running."""
        with self._lock:
            progress = self._running.get(project_id)
        return None if progress is None else progress.snapshot()
