"""The benchmark suite: sync, API latency and throughput, memory, load, image.

Everything runs against real processes: a Uvicorn server started exactly as the image starts
it, a real SQLite file, real HTTP over loopback, and the real image for the Docker figures.
"""

import contextlib
import hashlib
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks import image
from benchmarks.corpus import CORPUS_DIR, generate
from benchmarks.load import LoadResult, run_load
from benchmarks.report import render
from benchmarks.settings import CLIENTS, LARGE, SMALL
from harness.database import migrate
from harness.processes import Server, start_server

BACKEND_DIR = Path(__file__).resolve().parents[1]
WORK_DIR = BACKEND_DIR / "benchmarks" / ".corpora"  # git-ignored


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure."""

    sync_runs: int = 5
    sequential: int = 500
    concurrent_seconds: float = 10.0
    load_seconds: float = 60.0
    image_runs: int = 9

    @classmethod
    def quick(cls) -> "Settings":
        return cls(
            sync_runs=2, sequential=100, concurrent_seconds=2.0, load_seconds=10.0, image_runs=3
        )


@dataclass
class Runs:
    """Repeated timings of one thing, in seconds."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Results:
    """Everything one run measured, for the report."""

    machine: dict[str, str] = field(default_factory=dict)
    sync: dict[str, Runs] = field(default_factory=dict)
    baseline: Runs | None = None
    counts: dict[str, int] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)
    sequential: dict[str, LoadResult] = field(default_factory=dict)
    concurrent: dict[str, LoadResult] = field(default_factory=dict)
    large_p50: dict[str, float] = field(default_factory=dict)
    load: LoadResult | None = None
    load_syncs: int = 0
    image: dict[str, Any] = field(default_factory=dict)
    real_trees: dict[str, "TreeFigures"] = field(default_factory=dict)
    real_p50: dict[str, float] = field(default_factory=dict)
    real_largest: str = ""


@dataclass
class TreeFigures:
    """One real tree from ../shared/corpus/: what it holds and how long it takes to sync."""

    counts: dict[str, int]
    cold: float
    unchanged: Runs


# --- Servers and syncs ------------------------------------------------------------------


def server_folder(name: str) -> Path:
    """An empty folder for one server's database and log."""
    folder = WORK_DIR / "servers" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@contextlib.contextmanager
def fresh_server(name: str) -> Iterator[Server]:
    """A Uvicorn process on a new, migrated database; stopped afterwards."""
    folder = server_folder(name)
    database = folder / "lens.db"
    migrate(f"sqlite:///{database}")
    server = start_server(database, folder / "server.log")
    try:
        yield server
    finally:
        server.stop()


def rss_mb(server: Server) -> float:
    """Resident memory of the server process, in MB."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    kilobytes = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
    )
    return kilobytes / 1024


def register(client: httpx.Client, slug: str, path: Path) -> None:
    response = client.post("/api/v1/projects", json={"name": slug, "sdlc_path": str(path)})
    response.raise_for_status()


def timed_sync(client: httpx.Client, slug: str) -> float:
    """Trigger a sync and poll until it is over (documents and search index committed)."""
    started = time.perf_counter()
    client.post(f"/api/v1/projects/{slug}/sync").raise_for_status()
    while True:
        project = client.get(f"/api/v1/projects/{slug}").json()
        if project["sync_status"] != "syncing":
            break
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    if project["sync_status"] != "synced":
        raise RuntimeError(
            f"sync of {slug} ended {project['sync_status']}: {project['sync_error']}"
        )
    return elapsed


def edit_files(tree: Path, run: int, count: int = 10) -> None:
    """Change `count` documents spread over the tree (a line appended to each)."""
    files = sorted(tree.rglob("*.md"))
    step = max(1, len(files) // count)
    for path in files[::step][:count]:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\nEdited by benchmark run {run}.\n")


def hash_baseline(tree: Path) -> float:
    """Seconds to read and SHA-256 every markdown file: the floor for any sync."""
    started = time.perf_counter()
    for path in sorted(tree.rglob("*.md")):
        hashlib.sha256(path.read_bytes()).hexdigest()
    return time.perf_counter() - started


def measure_sync(results: Results, small: Path, large: Path, cfg: Settings) -> None:
    """Cold, no-change and 10-edit syncs at 5,000; cold at 20,000; memory along the way."""
    cold: list[float] = []
    for run in range(cfg.sync_runs):
        with (
            fresh_server(f"cold-{run}") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            if run == 0:
                results.memory["idle"] = rss_mb(server)
            register(client, "bench", small)
            cold.append(timed_sync(client, "bench"))
            if run == 0:
                results.memory["after cold sync"] = rss_mb(server)
                results.counts = client.get("/api/v1/projects/bench/stats").json()["by_type"]
            if run == cfg.sync_runs - 1:
                unchanged = [timed_sync(client, "bench") for _ in range(cfg.sync_runs)]
                edited = []
                for edit_run in range(cfg.sync_runs):
                    edit_files(small, edit_run)
                    edited.append(timed_sync(client, "bench"))
                for extra in range(10 - cfg.sync_runs):  # 10 re-syncs in all for the memory figure
                    edit_files(small, 100 + extra)
                    timed_sync(client, "bench")
                results.memory["after 10 re-syncs"] = rss_mb(server)
    results.sync["cold 5k"] = Runs(cold)
    results.sync["no change 5k"] = Runs(unchanged)
    results.sync["10 edited 5k"] = Runs(edited)
    results.baseline = Runs([hash_baseline(small) for _ in range(cfg.sync_runs)])
    cold_large = []
    for run in range(cfg.sync_runs):
        with (
            fresh_server(f"cold-large-{run}") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            register(client, "bench", large)
            cold_large.append(timed_sync(client, "bench"))
    results.sync["cold 20k"] = Runs(cold_large)


# --- API --------------------------------------------------------------------------------


def endpoint_paths(client: httpx.Client) -> dict[str, str]:
    """The requests measured, against a synced project named `bench`."""
    listed = client.get("/api/v1/projects/bench/documents", params={"type": "story"}).json()
    story = listed["items"][len(listed["items"]) // 2]
    return {
        "health": "/api/v1/system/health",
        "documents list (per_page=50)": "/api/v1/projects/bench/documents?per_page=50",
        "document detail": f"/api/v1/projects/bench/documents/story/{story['doc_id']}",
        "project stats": "/api/v1/projects/bench/stats",
        "global stats": "/api/v1/stats",
        "search: frequent word": "/api/v1/search?q=status",
        "search: rare word": "/api/v1/search?q=telegram",
        "search: two words": "/api/v1/search?q=docker+compose",
        "search: id": "/api/v1/search?q=US0003",
    }


def share_of_documents(database: Path, word: str) -> float:
    """Fraction of documents whose text contains `word` (to show 'frequent' is frequent)."""
    with sqlite3.connect(database) as conn:
        hits = conn.execute(
            "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH ?", (f'"{word}"',)
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    return hits / total


def measure_api(results: Results, small: Path, large: Path, cfg: Settings) -> None:
    """Sequential and concurrent latency per endpoint at 5,000; list/search/stats at 20,000."""
    floor_folder = server_folder("api-floor")
    floor = start_server(
        floor_folder / "unused.db",  # the floor app opens no database
        floor_folder / "floor.log",
        app="benchmarks.floor_app:create_app",
        health_path="/floor",
    )
    try:
        results.sequential["floor (constant)"] = run_load(
            floor.base_url, ["/floor"], requests=cfg.sequential
        )
        results.concurrent["floor (constant)"] = run_load(
            floor.base_url, ["/floor"], clients=CLIENTS, seconds=cfg.concurrent_seconds
        )
    finally:
        floor.stop()

    with fresh_server("api-5k") as server, httpx.Client(base_url=server.base_url) as client:
        register(client, "bench", small)
        timed_sync(client, "bench")
        results.machine["frequent word share"] = (
            f"{share_of_documents(server.database, 'status'):.0%}"
        )
        for name, path in endpoint_paths(client).items():
            run_load(server.base_url, [path], requests=30)  # warm-up
            results.sequential[name] = run_load(server.base_url, [path], requests=cfg.sequential)
            results.concurrent[name] = run_load(
                server.base_url, [path], clients=CLIENTS, seconds=cfg.concurrent_seconds
            )
    with fresh_server("api-20k") as server, httpx.Client(base_url=server.base_url) as client:
        register(client, "bench", large)
        timed_sync(client, "bench")
        paths = endpoint_paths(client)
        for name in ("documents list (per_page=50)", "project stats", "search: frequent word"):
            run_load(server.base_url, [paths[name]], requests=30)
            results.large_p50[name] = run_load(
                server.base_url, [paths[name]], requests=cfg.sequential
            ).p50


def measure_real_trees(results: Results, cfg: Settings) -> None:
    """Each real tree: documents by type, cold and no-change sync; endpoint p50 on the largest."""
    trees = sorted(p for p in CORPUS_DIR.iterdir() if p.is_dir())
    largest = max(trees, key=lambda tree: len(list(tree.rglob("*.md"))))
    results.real_largest = largest.name
    for tree in trees:
        with (
            fresh_server(f"real-{tree.name}") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            register(client, "bench", tree)
            cold = timed_sync(client, "bench")
            unchanged = Runs([timed_sync(client, "bench") for _ in range(cfg.sync_runs)])
            counts = client.get("/api/v1/projects/bench/stats").json()["by_type"]
            results.real_trees[tree.name] = TreeFigures(counts, cold, unchanged)
            if tree == largest:
                for name, path in endpoint_paths(client).items():
                    run_load(server.base_url, [path], requests=30)
                    results.real_p50[name] = run_load(
                        server.base_url, [path], requests=cfg.sequential
                    ).p50


def measure_load(results: Results, small: Path, cfg: Settings) -> None:
    """20 clients of mixed reads for a minute while full re-syncs of 5,000 documents run."""
    changed = WORK_DIR / "corpus-5k-changed"
    generate(SMALL, changed)
    for path in changed.rglob("*.md"):
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\nA second version of every document.\n")
    with (
        fresh_server("load") as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        register(client, "bench", small)
        timed_sync(client, "bench")
        paths = list(endpoint_paths(client).values())
        stop = threading.Event()
        syncs = 0

        def resync_forever() -> None:
            nonlocal syncs
            trees = [changed, small]
            while not stop.is_set():
                tree = trees[syncs % 2]  # every document changes at every sync
                client.put(
                    "/api/v1/projects/bench", json={"sdlc_path": str(tree)}
                ).raise_for_status()
                timed_sync(client, "bench")
                syncs += 1

        worker = threading.Thread(target=resync_forever)
        worker.start()
        try:
            results.load = run_load(
                server.base_url, paths, clients=CLIENTS, seconds=cfg.load_seconds
            )
        finally:
            stop.set()
            worker.join()
        results.load_syncs = syncs


# --- Image ------------------------------------------------------------------------------


def measure_image(results: Results, cfg: Settings) -> None:
    """Size, build times, run-to-healthy and stop of the image built from this tree."""
    reason = image.docker_unavailable_reason()
    if reason is not None:
        results.image["skipped"] = reason
        return
    tag = f"sdlc-lens-backend:bench-{uuid.uuid4().hex[:10]}"  # private: no one else's tag
    try:
        results.image["cold build"] = Runs([image.time_cold_build(tag)])
        results.image["one-file rebuild"] = Runs([image.time_one_file_rebuild() for _ in range(3)])
        results.image["size MB"] = image.image_size_mb(tag)
        results.image["base MB"] = image.image_size_mb(image.BASE_IMAGE)
        results.image["run to healthy"] = Runs(
            [image.time_to_healthy(tag) for _ in range(cfg.image_runs)]
        )
        results.image["stop"] = Runs(
            [image.time_to_stop(tag) for _ in range(max(3, cfg.image_runs // 2))]
        )
    finally:
        image.remove_image(tag)


# --- Environment ------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=BACKEND_DIR
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", ".", ":!BENCHMARKS.md"],
        capture_output=True,
        text=True,
        cwd=BACKEND_DIR,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu": f"{os.cpu_count()} x {cpu}",
        "memory": f"{memory_kb / 1024 / 1024:.0f} GiB",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def run_all(output: Path, quick: bool, image: bool) -> None:
    """Run the whole suite and write the report to `output`."""
    cfg = Settings.quick() if quick else Settings()
    results = Results(machine=machine_info())
    small, large = WORK_DIR / "corpus-5k", WORK_DIR / "corpus-20k"
    step("real trees", lambda: measure_real_trees(results, cfg))
    step("generating corpora", lambda: (generate(SMALL, small), generate(LARGE, large)))
    step("sync and memory", lambda: measure_sync(results, small, large, cfg))
    generate(SMALL, small)  # undo the edits
    step("API latency", lambda: measure_api(results, small, large, cfg))
    step("load check", lambda: measure_load(results, small, cfg))
    if image:
        step("image", lambda: measure_image(results, cfg))
    output.write_text(render(results, cfg), encoding="utf-8")
    print(f"wrote {output}")


def step(name: str, action: Callable[[], object]) -> None:
    started = time.perf_counter()
    print(f"{name} ...", flush=True)
    action()
    print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
