"""Sync times at 5,000 and 20,000 documents, and the server's memory and WAL around syncs."""

import hashlib
import time
from pathlib import Path

import httpx

from benchmarks.results import Effort, MemoryChange, Results, Runs, SyncFigures
from benchmarks.servers import fresh_server, memory, register, settled, timed_sync, wal_size


def measure_sync(results: Results, small: Path, large: Path, effort: Effort) -> None:
    """Cold, no-change and 10-edit syncs at 5,000; cold at 20,000; memory and WAL after them."""
    cold: list[float] = []
    for run in range(effort.sync_runs):
        with (
            fresh_server(f"cold-{run}") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            before = memory(server)
            register(client, "bench", small)
            cold.append(timed_sync(client, "bench"))
            if run == 0:
                waited = settled(server)
                results.memory["5,000"] = MemoryChange(
                    before=before, after=memory(server), settled_after=waited
                )
                results.wal["after a cold sync of 5,000"] = wal_size(server)
                counts = client.get("/api/v1/projects/bench/stats").json()["by_type"]
            if run == effort.sync_runs - 1:
                unchanged = [timed_sync(client, "bench") for _ in range(effort.sync_runs)]
                edited = []
                for edit_run in range(effort.sync_runs):
                    edit_files(small, edit_run)
                    edited.append(timed_sync(client, "bench"))
                for extra in range(10 - effort.sync_runs):  # 10 re-syncs in all for memory
                    edit_files(small, 100 + extra)
                    timed_sync(client, "bench")
                settled(server)
                after_resyncs = memory(server)
                results.wal["after 10 re-syncs of 5,000"] = wal_size(server)
    cold_large = []
    for run in range(effort.sync_runs):
        with (
            fresh_server(f"cold-large-{run}") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            register(client, "bench", large)
            cold_large.append(timed_sync(client, "bench"))
            if run == 0:
                settled(server)
                results.wal["after a cold sync of 20,000"] = wal_size(server)
    results.sync = SyncFigures(
        runs={
            "cold 5k": Runs(samples=cold),
            "no change 5k": Runs(samples=unchanged),
            "10 edited 5k": Runs(samples=edited),
            "cold 20k": Runs(samples=cold_large),
        },
        hash_baseline=Runs(samples=[hash_baseline(small) for _ in range(effort.sync_runs)]),
        counts=counts,
        memory_after_resyncs=after_resyncs,
    )


def measure_huge_sync(results: Results, huge: Path) -> None:
    """One cold sync of 50,000 documents: the memory it leaves behind, its WAL, its time."""
    with (
        fresh_server("cold-50k") as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        before = memory(server)
        register(client, "bench", huge)
        seconds = timed_sync(client, "bench")
        waited = settled(server)
        results.memory["50,000"] = MemoryChange(
            before=before, after=memory(server), settled_after=waited
        )
        results.wal["after a cold sync of 50,000"] = wal_size(server)
    if results.sync is not None:
        results.sync.runs["cold 50k"] = Runs(samples=[seconds])


def edit_files(tree: Path, run: int, count: int = 10) -> list[Path]:
    """Change `count` documents spread over the tree (a line appended to each); those."""
    files = sorted(tree.rglob("*.md"))
    step = max(1, len(files) // count)
    for path in files[::step][:count]:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\nEdited by benchmark run {run}.\n")
    return files[::step][:count]


def hash_baseline(tree: Path) -> float:
    """Seconds to read and SHA-256 every markdown file: the floor for any sync."""
    started = time.perf_counter()
    for path in sorted(tree.rglob("*.md")):
        hashlib.sha256(path.read_bytes()).hexdigest()
    return time.perf_counter() - started
