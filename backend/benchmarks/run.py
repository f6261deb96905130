"""The benchmark suite: syncs, API latency and throughput, memory, hostile searches, image.

Everything runs against real processes: a Uvicorn server started exactly as the image starts
it, a real SQLite file, real HTTP over loopback, and the real image for the Docker figures.
"""

import os
import platform
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.corpus import generate
from benchmarks.image import measure_image
from benchmarks.results import Effort, Results
from benchmarks.scenarios.api import measure_api, measure_load
from benchmarks.scenarios.hostile import measure_abuse, measure_big_document
from benchmarks.scenarios.repository import measure_repository
from benchmarks.scenarios.scale import measure_scale
from benchmarks.scenarios.sync import measure_huge_sync, measure_sync
from benchmarks.scenarios.trees import measure_trees
from benchmarks.scenarios.watching import measure_watching
from benchmarks.settings import HUGE, LARGE, SMALL
from benchmarks.workspace import workspace
from harness import BACKEND_DIR

# The scenarios, in the order a full run takes them; `--only` picks some.
SCENARIOS = (
    "trees",
    "sync",
    "api",
    "load",
    "abuse",
    "big-document",
    "watching",
    "repository",
    "huge",
    "scale",
    "image",
)


def run_all(
    effort: Effort,
    *,
    image: bool,
    only: frozenset[str] | None = None,
    corpora: Path | None = None,
) -> Results:
    """Run every scenario (or those in `only`); corpora and databases live in the workspace,
    removed at the end (the growth scenario's corpora in `corpora`, kept, when given)."""
    results = Results(machine=machine_info(), effort=effort)

    def wanted(name: str) -> bool:
        return only is None or name in only

    with workspace() as work:
        small, large, huge = work / "corpus-5k", work / "corpus-20k", work / "corpus-50k"
        if wanted("trees"):
            step("trees", lambda: measure_trees(results, effort, work))
        needs_large = wanted("sync") or wanted("api")
        if any(map(wanted, ("sync", "api", "load", "abuse", "watching", "repository"))):
            step(
                "generating corpora",
                lambda: (generate(SMALL, small), needs_large and generate(LARGE, large)),
            )
        if wanted("sync"):
            step("sync, memory and WAL", lambda: measure_sync(results, small, large, effort))
            generate(SMALL, small)  # undo the edits
        if wanted("api"):
            step("API latency", lambda: measure_api(results, small, large, effort))
        shutil.rmtree(large, ignore_errors=True)
        if wanted("load"):
            step("load check", lambda: measure_load(results, small, work, effort))
        if wanted("abuse"):
            step("search abuse", lambda: measure_abuse(results, small, effort))
        if wanted("big-document"):
            step("search with a big document", lambda: measure_big_document(results, work, effort))
        if wanted("watching"):
            step("folder watching", lambda: measure_watching(results, small, work, effort))
        if wanted("repository"):
            step("git repository", lambda: measure_repository(results, small, work, effort))
        if wanted("huge") and effort.huge_corpus:
            step(f"cold sync of {HUGE:,}", lambda: measure_huge_sync(results, generate(HUGE, huge)))
            shutil.rmtree(huge)
        elif wanted("huge"):
            results.not_available[f"memory at {HUGE:,} documents"] = (
                "left out of a --quick run; add --huge to include it"
            )
        if wanted("scale"):
            step(
                "growth to 100,000 documents",
                lambda: measure_scale(results, work, effort, corpora),
            )
        if image and wanted("image"):
            step("image", lambda: measure_image(results, effort))
        elif wanted("image"):
            results.not_available["image"] = "left out with --skip-image"
    return results


def step(name: str, action: Callable[[], object]) -> None:
    started = time.perf_counter()
    print(f"{name} ...", flush=True)
    action()
    print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)


def machine_info() -> dict[str, str]:
    """Where and on what the figures were measured."""
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
        ["git", "status", "--porcelain", "--", ".", ":!BENCHMARKS.*"],
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
