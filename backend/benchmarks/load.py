"""A small HTTP/1.1 keep-alive load generator on asyncio streams.

Each client holds one connection and sends its next request as soon as the previous answer
is read. It is deliberately lean (a few microseconds per request) so that on a 2-core machine
the load generator takes as little CPU as possible away from the server it measures.
"""

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(slots=True)
class LoadResult:
    """Latencies in seconds, status counts and wall time of one load run."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    wall: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

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

    @property
    def rps(self) -> float:
        return self.requests / self.wall if self.wall else 0.0


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def _raw_get(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode()


async def _client(
    host: str,
    port: int,
    next_path: Callable[[], str],
    stop: Callable[[int], bool],
    result: LoadResult,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not stop(result.requests):
            raw = _raw_get(f"{host}:{port}", next_path())
            started = time.perf_counter()
            try:
                status = await _request(reader, writer, raw)
            except (ConnectionError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


def run_load(
    base_url: str,
    paths: Sequence[str],
    *,
    clients: int = 1,
    requests: int | None = None,
    seconds: float | None = None,
) -> LoadResult:
    """GET `paths` round-robin from `clients` connections, for a count or a duration."""
    host, port = base_url.removeprefix("http://").split(":")
    result = LoadResult()
    counter = iter(range(10**12))

    def next_path() -> str:
        return paths[next(counter) % len(paths)]

    async def main() -> None:
        started = time.perf_counter()
        deadline = started + seconds if seconds is not None else float("inf")

        def stop(done: int) -> bool:
            if requests is not None and done >= requests:
                return True
            return time.perf_counter() >= deadline

        await asyncio.gather(
            *(_client(host, int(port), next_path, stop, result) for _ in range(clients))
        )
        result.wall = time.perf_counter() - started

    asyncio.run(main())
    return result
