"""A small HTTP/1.1 keep-alive load generator on asyncio streams.

Each client holds one connection and sends its next request as soon as the previous answer
is read. It is deliberately lean (a few microseconds per request) so that on a 2-core machine
the load generator takes as little CPU as possible away from the server it measures.
"""

import asyncio
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

# How long a timed run waits for answers still due at its end before abandoning them.
_DRAIN_SECONDS = 2.0


@dataclass(slots=True)
class LoadResult:
    """Latencies in seconds, status counts and wall time of one load run."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    timeouts: int = 0
    unfinished: int = 0
    wall: float = 0.0

    @property
    def requests(self) -> int:
        """Requests answered."""
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        """The q-th percentile latency (0 < q < 100) in seconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bool]:
    """Send one request, read the whole answer: (status, whether the server keeps the line)."""
    writer.write(raw)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    keep_alive = True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep_alive = value.strip().lower() != b"close"
    if length:
        await reader.readexactly(length)
    return status, keep_alive


def _raw_get(host: str, path: str, headers: Mapping[str, str]) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n{extra}\r\n".encode()
    )


@dataclass(frozen=True, slots=True)
class Traffic:
    """One kind of client in a load run: what it asks for, how many, how long it waits."""

    paths: Sequence[str]
    clients: int = 1
    timeout: float | None = None  # seconds per request; slower ones count as timeouts
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. If-None-Match


async def _client(
    host: str,
    port: int,
    next_path: Callable[[], str],
    may_send: Callable[[], bool],
    result: LoadResult,
    kind: Traffic,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    started = None  # when the request now waiting for its answer was sent
    try:
        while may_send():
            raw = _raw_get(f"{host}:{port}", next_path(), kind.headers)
            started = time.perf_counter()
            try:
                if kind.timeout is None:  # no timer: the common case stays as lean as it can be
                    status, keep_alive = await _request(reader, writer, raw)
                else:
                    async with asyncio.timeout(kind.timeout):
                        status, keep_alive = await _request(reader, writer, raw)
            except (ConnectionError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                started = None
                if isinstance(exc, TimeoutError):
                    result.timeouts += 1
                else:
                    result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            started = None
            if not keep_alive:  # e.g. after an error answer: a new line for the next request
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    except asyncio.CancelledError:
        if started is not None:
            result.unfinished += 1
        raise
    finally:
        writer.close()


def run_load(
    base_url: str,
    paths: Sequence[str],
    *,
    clients: int = 1,
    requests: int | None = None,
    seconds: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """GET `paths` round-robin from `clients` connections, for a count or a duration."""
    kind = Traffic(paths, clients, headers=headers or {})
    return run_traffic(base_url, [kind], requests=requests, seconds=seconds)[0]


def run_traffic(
    base_url: str,
    traffic: Sequence[Traffic],
    *,
    requests: int | None = None,
    seconds: float | None = None,
) -> list[LoadResult]:
    """Run several kinds of clients at once; one result per kind, in the same order.

    With `seconds`, requests still unanswered shortly after the end are abandoned and
    counted as unfinished: a server that hangs cannot hang the benchmark.
    """
    host, port = base_url.removeprefix("http://").split(":")
    results = [LoadResult() for _ in traffic]

    def path_cycle(paths: Sequence[str]) -> Callable[[], str]:
        counter = iter(range(10**12))
        return lambda: paths[next(counter) % len(paths)]

    async def main() -> None:
        started = time.perf_counter()
        deadline = started + seconds if seconds is not None else float("inf")

        def budget() -> Callable[[], bool]:
            """One kind's permission to send: `requests` in all, or until the deadline."""
            issued = 0

            def may_send() -> bool:
                nonlocal issued
                if requests is not None and issued >= requests:
                    return False
                if time.perf_counter() >= deadline:
                    return False
                issued += 1
                return True

            return may_send

        tasks = []
        for kind, result in zip(traffic, results, strict=True):
            may_send, next_path = budget(), path_cycle(kind.paths)
            tasks += [
                asyncio.create_task(_client(host, int(port), next_path, may_send, result, kind))
                for _ in range(kind.clients)
            ]
        drain = None if seconds is None else seconds + _DRAIN_SECONDS
        done, pending = await asyncio.wait(tasks, timeout=drain)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # a client's own failure (e.g. no connection) is the run's
        wall = time.perf_counter() - started
        for result in results:
            result.wall = wall

    asyncio.run(main())
    return results
