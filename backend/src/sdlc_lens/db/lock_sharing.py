"""Sharing SQLite's write lock: the writers of this process waiting for it, and when a writer
that takes it over and over (a large sync's batches, db/batched_sync.py) lets go of it.

SQLite queues nobody: a writer that finds the lock taken sleeps in its busy handler and tries
again, at most 100 ms later. A batched writer that took the lock again at once after each
COMMIT would keep it until its last batch. Yet pausing after every batch made a cold sync of
5,000 documents twice as slow (1.2 s to 2.4 s), for writers that are rarely there. So a
batched writer lets go only when someone may be waiting:

- a writer of this process (every one goes through `db.engine.begin_immediate`, which counts
  it while its BEGIN waits): the batched writer waits, briefly, until each has the lock;
- a writer of another process, which nothing here can see (the database is this service's:
  only a migration or a tool run by hand writes it): the batched writer pauses long enough
  for a busy handler to try again before the lock would be held over HOLD_LIMIT_SECONDS
  since its last pause, were its next batch to take as long as its longest so far. Such a
  writer waits about HOLD_LIMIT_SECONDS, or that and one batch longer than any before it
  (the 100,000-document benchmark measures it: under 1.5 s).
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from sdlc_lens.db.per_engine import PerEngine

# The longest a batched writer holds the lock without a pause, counting the batch it expects
# next to take as long as its longest so far. A batch can take twice as long as any before it
# (an FTS segment merge): the limit leaves room for one, within BUSY_TIMEOUT_MS (db/engine.py).
HOLD_LIMIT_SECONDS = 0.4
# A pause: longer than the longest sleep of SQLite's busy handler (100 ms), so that a writer
# of another process waiting in it tries again, and gets the lock, within the pause.
PAUSE_SECONDS = 0.11
# How long a batched writer waits for the writers of this process to get the lock before it
# carries on anyway (each gets it within one sleep of its busy handler, unless it gave up).
SERVE_WAIT_SECONDS = 0.5


class WaitingWriters:
    """How many writers of one database, in this process, wait for its write lock."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Count the caller while the block runs (its BEGIN IMMEDIATE)."""
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                self._changed.notify_all()

    @property
    def count(self) -> int:
        """How many writers are waiting now (a writer still in its BEGIN counts)."""
        return self._count

    def wait_until_none(self, timeout: float) -> bool:
        """Wait until no writer is waiting (each has the lock), at most `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)


_writers = PerEngine(WaitingWriters)


def waiting_writers(engine: Engine) -> WaitingWriters:
    """The waiting writers of the database behind `engine` (one object per engine)."""
    return _writers.of(engine)


class LockSharing:
    """One batched writer's turns with the write lock: wrap each of its transactions in
    `turn()`, which afterwards lets go of the lock for as long as others need it."""

    def __init__(self, engine: Engine) -> None:
        self._writers = waiting_writers(engine)
        self._held = 0.0  # seconds in transactions since the lock was last let go of
        self._longest = 0.0  # seconds of the longest transaction so far
        self.pauses = 0  # times it was let go of (for the log and the tests)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """One transaction of the batched writer (the block), then a pause if one is due."""
        started = time.perf_counter()
        yield
        took = time.perf_counter() - started
        self._held += took
        self._longest = max(self._longest, took)
        if self._writers.count:
            self._writers.wait_until_none(SERVE_WAIT_SECONDS)
        elif self._held + self._longest > HOLD_LIMIT_SECONDS:
            time.sleep(PAUSE_SECONDS)
        else:
            return
        self._held = 0.0
        self.pauses += 1
