"""Answers of the read API computed once per data version, and HTTP revalidation.

Every answer of a cached route (marked with `@cached(...)`) is keyed by the route, its path
values and the query parameters it declares (others are ignored by FastAPI, so they do not
split the cache), and identified by the data version of what it reads (db/versions.py)
together with the runtime state it shows that the database does not hold: a running sync's
`sync_progress` and a followed folder's `auto_sync_mode`.

- An answer whose identity did not move while it was computed is kept in memory, bounded
  in bytes (`SDLC_LENS_RESPONSE_CACHE_MB`; an answer over an eighth of it is never kept), and
  served as it is until a commit or the runtime state moves its identity on.
- Identical requests that arrive while the answer is being computed wait for it instead of
  computing it again.
- Every 200 carries a strong `ETag` derived from the key and the identity, and
  `Cache-Control: no-cache` (a browser asks again each time, with `If-None-Match`); an
  `If-None-Match` that names the current ETag gets a 304 without a body, decided from the
  counters in memory, without a query. An answer computed while its data changed gets an
  ETag of its own that nothing will match again.
- An answer that turns false with time alone (the checkup's stale documents) says until when
  it holds (`holds_until`); it is recomputed after that.

The cache sits in the route (CachedRoute, FastAPI's documented extension point), after
routing and before the request's parameters are validated or its dependencies solved: a
hit costs the routing and a dictionary lookup.
"""

import asyncio
import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from enum import Enum
from itertools import count
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from sdlc_lens.api.responses import HEAD_ONLY
from sdlc_lens.db.versions import DataVersions, data_versions
from sdlc_lens.services.freshness.watcher import FolderWatcher
from sdlc_lens.services.sync.progress import SyncProgressBoard

# An answer larger than this share of the cache is never kept: one answer must not empty it.
LARGEST_SHARE = 8
# What an entry costs besides its body (key, headers, bookkeeping), counted against the bound.
ENTRY_OVERHEAD = 512
CACHE_CONTROL = (b"cache-control", b"no-cache")
# Set on the request's scope by an endpoint whose answer holds only until a time (Unix time).
HOLDS_UNTIL = "sdlc_lens.holds_until"


class AnswerScope(Enum):
    """What an answer reads, and so which data version and runtime state identify it."""

    # Search too, even with `project=`: its scores weigh words by how rare they are in the
    # whole index, which every project's sync changes.
    ALL_PROJECTS = "answers over all projects"
    PROJECT = "one project's documents (`slug`)"
    PROJECT_LIST = "the project list, with each project's sync progress and watch mode"
    ONE_PROJECT = "one project (`slug`), with its sync progress and watch mode"


_SCOPES: dict[Callable[..., Any], AnswerScope] = {}


def cached[F: Callable[..., Any]](scope: AnswerScope) -> Callable[[F], F]:
    """Mark an endpoint's answers as cached, identified by what `scope` says it reads."""

    def mark(endpoint: F) -> F:
        _SCOPES[endpoint] = scope
        return endpoint

    return mark


def holds_until(request: Request, moment: float | None) -> None:
    """Say that this request's answer holds only until `moment` (Unix time; None: always)."""
    if moment is not None:
        request.scope[HOLDS_UNTIL] = moment


type Key = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]
type Identity = tuple[Hashable, ...]


@dataclass(slots=True)
class Answer:
    """A whole 200 answer as it was sent, and what it was computed from."""

    identity: Identity
    etag: bytes
    raw_headers: list[tuple[bytes, bytes]]  # ETag and Cache-Control included
    body: bytes
    holds_until: float

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD

    def response(self, request: Request) -> Response:
        """This answer again for `request`: a 304 if it names the ETag."""
        if _matches(request, self.etag):
            return _not_modified(self.etag)
        return _Sent(self.raw_headers, self.body)


class _Sent(Response):
    """A stored answer sent again: its headers as they were, no rendering."""

    def __init__(self, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = list(raw_headers)  # middleware may add to the list it is given


class AnswerStore:
    """Answers by key, the least recently used dropped first to stay within `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.largest = max_bytes // LARGEST_SHARE
        self.bytes = 0
        self._answers: OrderedDict[Key, Answer] = OrderedDict()

    def get(self, key: Key) -> Answer | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: Key, answer: Answer) -> None:
        if answer.size > self.largest:
            return
        self.discard(key)
        self._answers[key] = answer
        self.bytes += answer.size
        while self.bytes > self.max_bytes:
            _key, dropped = self._answers.popitem(last=False)
            self.bytes -= dropped.size

    def discard(self, key: Key) -> None:
        answer = self._answers.pop(key, None)
        if answer is not None:
            self.bytes -= answer.size

    def __len__(self) -> int:
        return len(self._answers)


@dataclass(slots=True)
class CacheStats:
    """What the cache did since the app started (counted in the event loop's thread)."""

    computed: int = 0  # answers the route computed
    hits: int = 0  # answers (200 or 304) given from memory, without computing
    joined: int = 0  # requests that waited for an identical one's computation


class AnswerCache:
    """What the cached routes of one app share: the store, the data versions, the runtime
    state their answers show, and the computations under way."""

    def __init__(
        self,
        engine: Engine,
        max_bytes: int,
        progress: SyncProgressBoard,
        watcher: FolderWatcher,
    ) -> None:
        self.store = AnswerStore(max_bytes) if max_bytes > 0 else None
        self.versions: DataVersions = data_versions(engine)
        self._progress = progress
        self._watcher = watcher
        self._computing: dict[tuple[Key, Identity], asyncio.Future[Answer | None]] = {}
        self._one_off = count()
        self._epoch = self.versions.epoch.encode()
        self.stats = CacheStats()

    def identity(self, scope: AnswerScope, path: dict[str, Any]) -> Identity | None:
        """What identifies an answer of `scope` now; None while its data is being changed."""
        versions = self.versions
        match scope:
            case AnswerScope.ALL_PROJECTS:
                return versions.of_all()
            case AnswerScope.PROJECT:
                return versions.of_project(path["slug"])
            case AnswerScope.ONE_PROJECT:
                slug = path["slug"]
                version = versions.of_project(slug)
                if version is None:
                    return None
                return (*version, self._watcher.mode_of(slug), self._progress.state_of(slug))
            case AnswerScope.PROJECT_LIST:
                version = versions.of_all()
                if version is None:
                    return None
                return (*version, self._watcher.modes_version, self._progress.states())

    def etag(self, key: Key, identity: Identity, until: float) -> bytes:
        """The strong ETag of the answer to `key` with this identity."""
        digest = hashlib.blake2b(repr((key, identity, until)).encode(), digest_size=9)
        return b'"' + self._epoch + b"-" + digest.hexdigest().encode() + b'"'

    def one_off_etag(self) -> bytes:
        """An ETag for an answer that belongs to no version: never matched again."""
        return b'"' + self._epoch + b"-u" + str(next(self._one_off)).encode() + b'"'

    async def answer(self, request: Request, route: "CachedAnswers") -> Response:
        """The answer to `request` on `route`: stored, awaited, or computed (and kept)."""
        path = request.path_params
        given = request.query_params
        query = {name: given[name] for name in route.declared if name in given}
        key: Key = (route.path, tuple(path.values()), tuple(query.items()))
        identity = self.identity(route.scope, path)
        if identity is None:  # a commit under way: answer, but belong to no version
            self.stats.computed += 1
            return _tagged(await route.handler(request), self.one_off_etag())
        stored = None if self.store is None else self.store.get(key)
        if stored is not None and stored.identity == identity and stored.holds_until > time.time():
            self.stats.hits += 1
            return stored.response(request)
        etag = self.etag(key, identity, math.inf)
        if _matches(request, etag):
            self.stats.hits += 1
            return _not_modified(etag)
        flight = (key, identity)
        computing = self._computing.get(flight)
        if computing is not None:  # the same answer is being computed: wait for it
            self.stats.joined += 1
            answer = await asyncio.shield(computing)
            if answer is not None:
                return answer.response(request)
            return (await self._compute(request, route, key, identity))[0]
        if self.store is None:
            return (await self._compute(request, route, key, identity))[0]
        future: asyncio.Future[Answer | None] = asyncio.get_running_loop().create_future()
        self._computing[flight] = future
        answer = None
        try:
            response, answer = await self._compute(request, route, key, identity)
            return response
        finally:
            del self._computing[flight]
            future.set_result(answer)

    async def _compute(
        self, request: Request, route: "CachedAnswers", key: Key, identity: Identity
    ) -> tuple[Response, Answer | None]:
        """The route's own answer, tagged; kept (and returned) when it belongs to `identity`."""
        self.stats.computed += 1
        response = await route.handler(request)
        if response.status_code != 200:
            return response, None
        if self.identity(route.scope, request.path_params) != identity:
            return _tagged(response, self.one_off_etag()), None
        until = request.scope.get(HOLDS_UNTIL, math.inf)
        etag = self.etag(key, identity, until)
        _tagged(response, etag)
        body = getattr(response, "body", None)  # None: a streamed answer, never kept
        answer = None
        if self.store is not None and isinstance(body, bytes) and not request.scope.get(HEAD_ONLY):
            answer = Answer(identity, etag, list(response.raw_headers), body, until)
            self.store.put(key, answer)
        if _matches(request, etag):
            return _not_modified(etag), answer
        return response, answer


def _tagged(response: Response, etag: bytes) -> Response:
    if response.status_code == 200:
        response.raw_headers += [(b"etag", etag), CACHE_CONTROL]
    return response


def _not_modified(etag: bytes) -> Response:
    response = Response(status_code=304)
    response.raw_headers = [(b"etag", etag), CACHE_CONTROL]
    return response


def _matches(request: Request, etag: bytes) -> bool:
    """Whether the request's If-None-Match names `etag` (weak comparison, as RFC 9110 asks)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    wanted = etag.decode()
    for candidate in header.split(","):
        tag = candidate.strip().removeprefix("W/")
        if tag in (wanted, "*"):
            return True
    return False


type Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class CachedRoute(APIRoute):
    """An APIRoute whose endpoint, when marked with `@cached`, answers through the cache."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        scope = _SCOPES.get(self.endpoint)
        if scope is None:
            return handler
        declared = tuple(sorted(field.alias for field in _query_fields(self.dependant)))
        return CachedAnswers(handler, scope, self.path, declared)


def _query_fields(dependant: Any) -> list[Any]:
    fields = list(dependant.query_params)
    for sub in dependant.dependencies:
        fields += _query_fields(sub)
    return fields


@dataclass(frozen=True, slots=True)
class CachedAnswers:
    """The request handler of one cached route: its own handler behind the app's cache."""

    handler: Handler
    scope: AnswerScope
    path: str
    declared: tuple[str, ...]  # the query parameters the route reads, by name

    async def __call__(self, request: Request) -> Response:
        cache: AnswerCache = request.app.state.answer_cache
        return await cache.answer(request, self)
