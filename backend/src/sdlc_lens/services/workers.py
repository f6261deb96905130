"""Threads of their own for a costly kind of request, and giving freed memory back.

A request whose work grows with the data (a search, a project's health check) must not
starve the rest of the service: it never runs on the event loop nor on the thread pool that
serves lists, stats and writes. A WorkerPool runs at most `workers` such jobs at once on its
own threads, lets at most `queue` more wait for one, and answers any beyond that at once with
the pool's busy error (503). A job whose client disconnects is told to stop (running) or
never starts (waiting).
"""

import asyncio
import ctypes
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from sdlc_lens.errors import AppError, RequestCancelledError

# How often a waiting request looks whether its client is still connected.
DISCONNECT_POLL_SECONDS = 0.1
CLIENT_LEFT = "The client closed the request"


def _nothing() -> None:
    return None


class WorkerPool:
    """`workers` threads named `name`, a queue of `queue` jobs, then `busy()` at once."""

    def __init__(
        self, name: str, *, workers: int, queue: int, busy: Callable[[], AppError]
    ) -> None:
        self._capacity = workers + queue
        self._busy = busy
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        # How to stop each job admitted and not yet finished; touched on the event loop only.
        self._admitted: dict[object, Callable[[], None]] = {}

    async def run[T](
        self,
        job: Callable[[], T],
        *,
        client_gone: Callable[[], Awaitable[bool]],
        stop: Callable[[], None] = _nothing,
    ) -> T:
        """`job()`, computed on a worker of this pool.

        Raises the pool's busy error when every worker and queue place is taken. When the
        client disconnects, `stop()` is called (a running job should end soon, by raising
        its own error) and a job still waiting never starts (RequestCancelledError).
        """
        if len(self._admitted) >= self._capacity:
            raise self._busy()
        token = object()
        self._admitted[token] = stop
        work = self._executor.submit(job)
        done = asyncio.wrap_future(work)
        try:
            while not (await asyncio.wait({done}, timeout=DISCONNECT_POLL_SECONDS))[0]:
                if await client_gone():
                    break
        finally:
            # Also when this request is cancelled: the worker must not go on alone.
            if not done.done():
                stop()
                work.cancel()  # one still waiting for a worker never starts
                await asyncio.wait({done})
            del self._admitted[token]
        if work.cancelled():
            raise RequestCancelledError(CLIENT_LEFT)
        return done.result()

    def shutdown(self) -> None:
        """Stop running jobs at their next step; drop waiting ones."""
        for stop in list(self._admitted.values()):
            stop()
        self._executor.shutdown(wait=False, cancel_futures=True)


@cache
def _malloc_trim() -> Callable[[int], Any] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc only
    except (AttributeError, OSError):
        return None


def release_free_memory() -> None:
    """Hand memory freed by a large job (a sync, a health check) back to the OS. glibc keeps
    freed heap pages for reuse, so the process would otherwise stay at its peak size;
    elsewhere a no-op."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
