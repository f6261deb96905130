"""Growth to 100,000 documents: syncs, every read endpoint, memory, and how long a writer
waits while a large sync writes (issue 18).

At each size a fresh server syncs the tree cold, re-syncs it unchanged and with 10 edited
files, answers each read endpoint, then re-syncs it with every file changed. During the cold
and the full-change sync a probe connection asks for SQLite's write lock over and over (as a
project write or another project's sync would): the longest it waited is the longest the
sync held the lock at a stretch, as any other writer sees it.
"""

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks.corpus import generate
from benchmarks.load import run_load
from benchmarks.results import Effort, Results, Runs, ScaleRun
from benchmarks.scenarios.api import related_paths
from benchmarks.servers import (
    PROJECT,
    document_path,
    fresh_server,
    memory,
    register,
    settled,
    timed_sync,
)
from benchmarks.settings import EDITED_DOCUMENTS, FREQUENT_WORD, SCALE_SIZES

# Reads timed at every size (sequential p50): each endpoint the SPA calls for a project.
HEALTH_CHECK_REQUESTS = 20  # it reads the whole project: fewer calls keep the run short
PROBE_INTERVAL = 0.02  # seconds between two write-lock requests of the probe


def measure_scale(results: Results, work: Path, effort: Effort, corpora: Path | None) -> None:
    """Every size of SCALE_SIZES, its corpus generated into `corpora` (kept and reused when
    given, as large corpora take a minute to write) or the workspace."""
    for size in SCALE_SIZES:
        tree = corpus(size, corpora or work)
        results.scale[f"{size:,}"] = measure_size(tree, size, effort)
        if corpora is None:
            shutil.rmtree(tree)


def corpus(size: int, folder: Path) -> Path:
    """The generated corpus of `size` documents in `folder`; reused when already complete."""
    tree = folder / f"corpus-{size}"
    marker = folder / f"corpus-{size}.complete"
    if not marker.exists():
        marker.unlink(missing_ok=True)
        generate(size, tree)
        marker.touch()
    return tree


def measure_size(tree: Path, size: int, effort: Effort) -> ScaleRun:
    runs = max(2, effort.sync_runs // 2)
    with (
        fresh_server(f"scale-{size}") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as client,
    ):
        register(client, "bench", tree)
        with lock_probe(server.database) as cold_wait:
            cold = timed_sync(client, "bench")
        settled(server)
        unchanged = Runs(samples=[timed_sync(client, "bench") for _ in range(runs)])
        edited = []
        for _ in range(runs):
            with restored(edited_files(tree)):
                edited.append(timed_sync(client, "bench"))
        timed_sync(client, "bench")  # back to the generated tree
        p50 = read_p50s(server.base_url, client, effort)
        with restored(sorted(tree.rglob("*.md"))), lock_probe(server.database) as full_wait:
            full_change = timed_sync(client, "bench")
        timed_sync(client, "bench")
        settled(server)
        return ScaleRun(
            documents=size,
            cold=cold,
            unchanged=unchanged,
            edited=Runs(samples=edited),
            full_change=full_change,
            p50=p50,
            rss_after=memory(server),
            writer_wait_cold=max(cold_wait, default=0.0),
            writer_wait_full_change=max(full_wait, default=0.0),
        )


def read_p50s(base_url: str, client: httpx.Client, effort: Effort) -> dict[str, float]:
    """Sequential p50 (seconds) of each read endpoint of the project."""
    listed = client.get(f"{PROJECT}/documents", params={"type": "story"}).json()
    story = listed["items"][len(listed["items"]) // 2]
    endpoints = {
        "documents list (per_page=50)": ([f"{PROJECT}/documents?per_page=50"], effort.sequential),
        "document detail": ([document_path("story", story["doc_id"])], effort.sequential),
        "related (story, epic, plan)": (related_paths(client), effort.sequential),
        "project stats": ([f"{PROJECT}/stats"], effort.sequential),
        "project health-check": ([f"{PROJECT}/health-check"], HEALTH_CHECK_REQUESTS),
        "search: frequent word": ([f"/api/v1/search?q={FREQUENT_WORD}"], effort.sequential),
    }
    p50: dict[str, float] = {}
    for name, (paths, requests) in endpoints.items():
        run_load(base_url, paths, requests=min(30, requests))  # warm-up
        p50[name] = run_load(base_url, paths, requests=requests).p50
    return p50


def edited_files(tree: Path, count: int = EDITED_DOCUMENTS) -> list[Path]:
    """`count` documents spread over the tree (the ones `edit_files` would pick)."""
    files = sorted(tree.rglob("*.md"))
    step = max(1, len(files) // count)
    return files[::step][:count]


@contextmanager
def restored(files: list[Path]) -> Iterator[None]:
    """Each of `files` gets a line appended, and is cut back to its size afterwards."""
    sizes = {path: path.stat().st_size for path in files}
    for path in files:
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\nA second version of this document.\n")
    try:
        yield
    finally:
        for path, size in sizes.items():
            os.truncate(path, size)


@contextmanager
def lock_probe(database: Path) -> Iterator[list[float]]:
    """Ask for the write lock every PROBE_INTERVAL while the block runs; the list holds how
    long each request waited (seconds)."""
    waits: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        conn = sqlite3.connect(database, timeout=600, isolation_level=None)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                waits.append(time.perf_counter() - started)
                conn.execute("COMMIT")
                stop.wait(PROBE_INTERVAL)
        finally:
            conn.close()

    worker = threading.Thread(target=probe, name="lock-probe")
    worker.start()
    try:
        yield waits
    finally:
        stop.set()
        worker.join()
