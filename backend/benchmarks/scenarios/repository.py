"""A project in a git repository (issue 16's targets): the 5,000-document corpus committed into
a bare repository with a 30 MB file outside `repo_path`, served by git's own http-backend
(harness/git_server.py) on loopback, synced by a real Uvicorn process.

Cold sync against the same tree as a folder, the bytes the server sent against the
documents' size, an unchanged head (time, round trips), a 10-document commit (time, bytes),
a cold sync from a server without partial clone, and what the freshness poller costs.
"""

import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.results import Effort, RepositoryFigures, Results, Runs
from benchmarks.scenarios.sync import edit_files
from benchmarks.servers import SYNC_TIMEOUT, fresh_server, register, timed_sync
from benchmarks.settings import EDITED_DOCUMENTS
from harness.git_server import GitServer, commit_tree, make_repository

FOLDER = "sdlc-studio"
BIG_FILE = "media/walkthrough.mp4"
BIG_FILE_BYTES = 30 * 1024 * 1024
POLL_INTERVAL = 1.0
POLL_SECONDS = 12.0


def measure_repository(results: Results, small: Path, work: Path, effort: Effort) -> None:
    """Every figure of `RepositoryFigures`; the corpus is copied, not changed."""
    served = work / "git"
    served.mkdir()
    repo = make_repository(served, "bench")
    shutil.copytree(small, repo / FOLDER)
    (repo / BIG_FILE).parent.mkdir(parents=True)
    (repo / BIG_FILE).write_bytes(os.urandom(BIG_FILE_BYTES))
    commit_tree(repo, "the benchmark corpus")
    documents = sorted((repo / FOLDER).rglob("*.md"))
    documents_bytes = sum(path.stat().st_size for path in documents)

    folder_cold = []
    for run in range(effort.sync_runs):
        with fresh_server(f"folder-{run}") as server, httpx.Client(base_url=server.base_url) as c:
            register(c, "bench", small)
            folder_cold.append(timed_sync(c, "bench"))

    cold, unchanged, committed = [], [], []
    cold_bytes = cold_trips = unchanged_trips = commit_trips = 0
    commit_bytes: list[int] = []
    edited_bytes: list[int] = []
    with GitServer(served) as git:
        url = f"{git.url}/bench.git"
        for run in range(effort.sync_runs):
            with (
                fresh_server(f"repo-{run}") as server,
                httpx.Client(base_url=server.base_url) as client,
            ):
                register_repository(client, url)
                git.traffic.reset()
                cold.append(timed_sync(client, "bench"))
                cold_bytes, cold_trips = git.traffic.bytes_sent, git.traffic.round_trips
                if run < effort.sync_runs - 1:
                    continue
                for _ in range(effort.sync_runs):
                    git.traffic.reset()
                    unchanged.append(timed_sync(client, "bench"))
                    unchanged_trips = git.traffic.round_trips
                for edit_run in range(effort.sync_runs):
                    changed = edit_files(repo / FOLDER, edit_run, EDITED_DOCUMENTS)
                    edited_bytes.append(sum(path.stat().st_size for path in changed))
                    commit_tree(repo, f"edit {edit_run}")
                    git.traffic.reset()
                    committed.append(timed_sync(client, "bench"))
                    commit_bytes.append(git.traffic.bytes_sent)
                    commit_trips = git.traffic.round_trips
        polled = poll_cost(url, git)
    with GitServer(served, allow_filter=False) as plain:
        with (
            fresh_server("repo-unfiltered") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            register_repository(client, f"{plain.url}/bench.git")
            unfiltered = timed_sync(client, "bench")
        unfiltered_bytes = plain.traffic.bytes_sent

    results.repository = RepositoryFigures(
        documents=len(documents),
        documents_mb=documents_bytes / 1e6,
        other_mb=BIG_FILE_BYTES / 1e6,
        folder_cold=Runs(samples=folder_cold),
        cold=Runs(samples=cold),
        cold_mb=cold_bytes / 1e6,
        cold_round_trips=cold_trips,
        unchanged=Runs(samples=unchanged),
        unchanged_round_trips=unchanged_trips,
        commit=Runs(samples=committed),
        commit_mb=max(commit_bytes) / 1e6,
        commit_documents_mb=min(edited_bytes) / 1e6,
        commit_round_trips=commit_trips,
        unfiltered_cold=unfiltered,
        unfiltered_mb=unfiltered_bytes / 1e6,
        poll_requests_per_interval=polled,
    )


def register_repository(client: httpx.Client, url: str, **fields: Any) -> None:
    body = {"name": "bench", "source_type": "git", "repo_url": url, "repo_path": FOLDER}
    client.post("/api/v1/projects", json={**body, **fields}).raise_for_status()


def poll_cost(url: str, git: GitServer) -> float:
    """Requests the poller sends per project and interval while the head stays put."""
    settings = {"SYNC_POLL_INTERVAL_SECONDS": str(POLL_INTERVAL)}
    with (
        fresh_server("repo-poll", settings=settings) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        register_repository(client, url, auto_sync=True)  # the poller syncs it first
        deadline = time.monotonic() + SYNC_TIMEOUT
        while client.get("/api/v1/projects/bench").json()["sync_status"] != "synced":
            if time.monotonic() > deadline:
                raise RuntimeError("the poller did not sync the project")
            time.sleep(0.05)
        git.traffic.reset()
        time.sleep(POLL_SECONDS)
        requests = git.traffic.round_trips
    return requests / (POLL_SECONDS / POLL_INTERVAL)
