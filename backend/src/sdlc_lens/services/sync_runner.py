"""Runs syncs in a background thread, one at a time, and stops them cleanly at shutdown."""

import logging
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from sdlc_lens.services.projects import claim_sync
from sdlc_lens.services.sync import SyncResult, run_sync

logger = logging.getLogger(__name__)


class SyncRunner:
    """A single worker thread: syncs queue behind each other instead of fighting for the
    SQLite write lock, and never run on the event loop."""

    def __init__(self, engine: Engine, allowed_base: Path | None) -> None:
        self._engine = engine
        self._allowed_base = allowed_base
        self._stopping = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync")
        self._lock = threading.Lock()
        # Project id -> syncs claimed and queued or running in this process.
        self._claims: Counter[int] = Counter()

    def start_sync(self, slug: str, *, allow_empty: bool = False) -> Future[SyncResult | None]:
        """Claim a project as `syncing` (404 / 409 as `claim_sync`) and queue its sync."""
        with self._lock:  # claim and record the claim as one step for concurrent triggers
            project_id = claim_sync(self._engine, slug, running=set(self._claims))
            self._claims[project_id] += 1
        return self._executor.submit(self._sync, project_id, allow_empty)

    def _sync(self, project_id: int, allow_empty: bool) -> SyncResult | None:
        try:
            return run_sync(
                self._engine,
                project_id,
                allowed_base=self._allowed_base,
                allow_empty=allow_empty,
                should_stop=self._stopping.is_set,
            )
        except Exception:
            # Already logged and recorded on the project by run_sync; keep the worker alive.
            return None
        finally:
            with self._lock:
                self._claims[project_id] -= 1
                if self._claims[project_id] <= 0:
                    del self._claims[project_id]

    def shutdown(self) -> None:
        """Ask running and queued syncs to stop (they write nothing) and wait for them."""
        self._stopping.set()
        self._executor.shutdown(wait=True)
