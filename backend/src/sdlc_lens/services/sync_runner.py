"""Runs syncs in a background thread, one at a time, and stops them cleanly at shutdown."""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from sdlc_lens.services.sync import SyncResult, run_sync
from sdlc_lens.services.sync_progress import SyncProgressBoard

logger = logging.getLogger(__name__)


class SyncRunner:
    """A single worker thread: syncs queue behind each other instead of fighting for the
    SQLite write lock, and never run on the event loop."""

    def __init__(self, engine: Engine, allowed_base: Path | None) -> None:
        self._engine = engine
        self._allowed_base = allowed_base
        self._stopping = threading.Event()
        self.progress = SyncProgressBoard()  # read by the project endpoints
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync")

    def submit(self, project_id: int, *, allow_empty: bool = False) -> Future[SyncResult | None]:
        """Queue a sync of a project that has already been claimed as `syncing`."""
        return self._executor.submit(self._run, project_id, allow_empty)

    def _run(self, project_id: int, allow_empty: bool) -> SyncResult | None:
        try:
            with self.progress.track(project_id) as progress:
                return run_sync(
                    self._engine,
                    project_id,
                    allowed_base=self._allowed_base,
                    allow_empty=allow_empty,
                    should_stop=self._stopping.is_set,
                    progress=progress,
                )
        except Exception:
            # Already logged and recorded on the project by run_sync; keep the worker alive.
            return None

    def shutdown(self) -> None:
        """Ask running and queued syncs to stop (they write nothing) and wait for them."""
        self._stopping.set()
        self._executor.shutdown(wait=True)
