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
from benchmarks.scenarios.sync import measure_huge_sync, measure_sync
from benchmarks.scenarios.trees import measure_trees
from benchmarks.settings import HUGE, LARGE, SMALL
from benchmarks.workspace import workspace
from harness import BACKEND_DIR


def run_all(effort: Effort, *, image: bool) -> Results:
    """Run every scenario; corpora and databases live in the workspace, removed at the end."""
    results = Results(machine=machine_info(), effort=effort)
    with workspace() as work:
        small, large, huge = work / "corpus-5k", work / "corpus-20k", work / "corpus-50k"
        step("trees", lambda: measure_trees(results, effort, work))
        step("generating corpora", lambda: (generate(SMALL, small), generate(LARGE, large)))
        step("sync, memory and WAL", lambda: measure_sync(results, small, large, effort))
        generate(SMALL, small)  # undo the edits
        step("API latency", lambda: measure_api(results, small, large, effort))
        shutil.rmtree(large)
        step("load check", lambda: measure_load(results, small, work, effort))
        step("search abuse", lambda: measure_abuse(results, small, effort))
        step("search with a big document", lambda: measure_big_document(results, work, effort))
        if effort.huge_corpus:
            step(f"cold sync of {HUGE:,}", lambda: measure_huge_sync(results, generate(HUGE, huge)))
            shutil.rmtree(huge)
        else:
            results.not_available[f"memory at {HUGE:,} documents"] = (
                "left out of a --quick run; add --huge to include it"
            )
        if image:
            step("image", lambda: measure_image(results, effort))
        else:
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
