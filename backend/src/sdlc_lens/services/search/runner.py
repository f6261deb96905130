"""Runs searches on workers of their own, each within a time budget, never for a gone client.

A costly search must not starve the rest of the service. Searches therefore run on a
WorkerPool of their own (services/workers.py): at most SEARCH_WORKERS run at once, at most
SEARCH_QUEUE more wait for one, and any beyond that are answered 503 at once. Each search may
work for the configured budget (the clock starts when it does), and it stops as soon as its
client disconnects, whether it is running or still waiting.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy import Engine

from sdlc_lens.errors import SearchBudgetExceededError, SearchBusyError, SearchCancelledError
from sdlc_lens.services.search.query import parse_query
from sdlc_lens.services.search.service import SearchBudget, SearchFilters, search
from sdlc_lens.services.workers import WorkerPool

logger = logging.getLogger(__name__)

# Two cores' worth of searching; a third search waits rather than slowing everything else.
SEARCH_WORKERS = 2
# Waiting searches cost a coroutine each; enough for bursts of legitimate use to queue rather
# than fail, while a flood is refused at once.
SEARCH_QUEUE = 64


SEARCH_BUSY_MESSAGE = "Too many searches are running; try again shortly"


class SearchRunner:
    """The search workers, their queue and the budget each search gets."""

    def __init__(
        self,
        engine: Engine,
        budget_seconds: float,
        *,
        workers: int = SEARCH_WORKERS,
        queue: int = SEARCH_QUEUE,
    ) -> None:
        self._engine = engine
        self._budget_seconds = budget_seconds
        self._pool = WorkerPool(
            "search",
            workers=workers,
            queue=queue,
            busy=lambda: SearchBusyError(
                SEARCH_BUSY_MESSAGE, retry_after=SearchBudget(budget_seconds).retry_after
            ),
        )

    async def search(
        self,
        query: str,
        filters: SearchFilters,
        page: int,
        per_page: int,
        *,
        client_gone: Callable[[], Awaitable[bool]],
    ) -> dict[str, Any]:
        """The search's result, computed on a search worker; 503 when they are all taken."""
        parse_query(query)  # a query over its bounds is refused before it takes a place
        budget = SearchBudget(self._budget_seconds)
        job = partial(self._run, budget, query, filters, page, per_page)
        return await self._pool.run(job, client_gone=client_gone, stop=budget.cancelled.set)

    def _run(
        self,
        budget: SearchBudget,
        query: str,
        filters: SearchFilters,
        page: int,
        per_page: int,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            with self._engine.connect() as conn:
                return search(conn, query, filters, page, per_page, budget)
        except SearchCancelledError:
            elapsed = time.perf_counter() - started
            logger.info("search stopped after %.2fs: the client disconnected", elapsed)
            raise
        except SearchBudgetExceededError:
            elapsed = time.perf_counter() - started
            logger.warning("search stopped after %.2fs: over its budget", elapsed)
            raise

    def shutdown(self) -> None:
        """Stop running searches at their next step; drop waiting ones."""
        self._pool.shutdown()
