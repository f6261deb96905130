"""Servers under measurement: each a real Uvicorn process on its own migrated database.

Also what the scenarios read from a server besides HTTP timings: its memory, the size of
its write-ahead log, and whether an endpoint exists yet.
"""

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from benchmarks.results import Memory
from benchmarks.workspace import WORK_DIR
from harness.database import migrate
from harness.processes import Server, start_server, wait_for_sync

# Every scenario's server holds one project, registered under this slug.
PROJECT = "/api/v1/projects/bench"
# A sync that takes longer than this is stuck, and the run says so instead of waiting.
SYNC_TIMEOUT = 600.0


def server_folder(name: str) -> Path:
    """An empty folder for one server's database and log."""
    folder = WORK_DIR / "servers" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@contextlib.contextmanager
def fresh_server(
    name: str, stop_timeout: float = 10, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """A Uvicorn process on a new, migrated database; stopped and its folder removed after.

    A server still busy with abandoned requests after `stop_timeout` is killed: the figures
    are taken by then. When the scenario fails, the folder (database, log) stays for a look.
    """
    folder = server_folder(name)
    database = folder / "lens.db"
    migrate(f"sqlite:///{database}")
    server = start_server(database, folder / "server.log", settings=settings)
    try:
        yield server
    finally:
        try:
            server.stop(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            server.stop(signal.SIGKILL)
    shutil.rmtree(folder)


def register(client: httpx.Client, slug: str, path: Path) -> None:
    response = client.post("/api/v1/projects", json={"name": slug, "sdlc_path": str(path)})
    response.raise_for_status()


def sync_and_wait(client: httpx.Client, slug: str) -> tuple[float, dict[str, Any]]:
    """Trigger a sync and poll until it is over: (seconds, the project as it ended)."""
    started = time.perf_counter()
    client.post(f"/api/v1/projects/{slug}/sync").raise_for_status()
    project = wait_for_sync(client, slug, timeout=SYNC_TIMEOUT, interval=0.005)
    return time.perf_counter() - started, project


def timed_sync(client: httpx.Client, slug: str) -> float:
    """Seconds a sync takes until documents and search index are committed; it must succeed."""
    seconds, project = sync_and_wait(client, slug)
    if project["sync_status"] != "synced":
        raise RuntimeError(
            f"sync of {slug} ended {project['sync_status']}: {project['sync_error']}"
        )
    return seconds


def document_path(doc_type: str, doc_id: str, *rest: str) -> str:
    """`PROJECT/documents/{type}/{doc_id}[/rest...]`, each value escaped for the path."""
    parts = (quote(doc_type, safe=""), quote(doc_id, safe=""), *rest)
    return f"{PROJECT}/documents/" + "/".join(parts)


def unavailable(client: httpx.Client, path: str) -> str | None:
    """None when GET `path` answers 200, else why not: for endpoints still being built."""
    response = client.get(path)
    if response.status_code == 200:
        return None
    try:
        error = response.json()["error"]
        detail = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        detail = response.text[:200]
    return f"GET {path} answered {response.status_code} ({detail})"


def memory(server: Server) -> Memory:
    """The server's resident memory, anonymous separately from file-backed (MB)."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{server.process.pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0]) / 1024  # kB
    return Memory(rss=fields["Rss"], anonymous=fields["Anonymous"])


def wal_size(server: Server) -> float:
    """The size of the database's write-ahead log file (MB); 0 when there is none."""
    wal = server.database.with_name(server.database.name + "-wal")
    return wal.stat().st_size / 1e6 if wal.exists() else 0.0


def settled(server: Server, quiet: float = 1.0, limit: float = 60.0) -> float:
    """Wait until the server has finished its post-sync tidy-up (WAL checkpoint, freed memory
    handed back): its WAL size and RSS unchanged for `quiet` seconds. The seconds waited."""
    started = time.perf_counter()
    last = (wal_size(server), memory(server).rss)
    quiet_since = started
    while time.perf_counter() - started < limit:
        time.sleep(0.25)
        now = (wal_size(server), memory(server).rss)
        if now != last:
            last, quiet_since = now, time.perf_counter()
        elif time.perf_counter() - quiet_since >= quiet:
            break
    return time.perf_counter() - started
