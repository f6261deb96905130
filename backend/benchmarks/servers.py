"""Servers under measurement: each a real Uvicorn process on its own migrated database."""

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from benchmarks.results import Memory
from benchmarks.workspace import WORK_DIR
from harness.database import migrate
from harness.processes import Server, start_server

# A sync that takes longer than this is stuck, and the run says so instead of waiting.
SYNC_TIMEOUT = 600.0


def server_folder(name: str) -> Path:
    """An empty folder for one server's database and log."""
    folder = WORK_DIR / "servers" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@contextlib.contextmanager
def fresh_server(name: str) -> Iterator[Server]:
    """A Uvicorn process on a new, migrated database; stopped and its folder removed after.

    When the scenario fails, the folder (database, log) stays for a look.
    """
    folder = server_folder(name)
    database = folder / "lens.db"
    migrate(f"sqlite:///{database}")
    server = start_server(database, folder / "server.log")
    try:
        yield server
    finally:
        server.stop()
    shutil.rmtree(folder)


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
        if time.perf_counter() - started > SYNC_TIMEOUT:
            raise RuntimeError(f"sync of {slug} still running after {SYNC_TIMEOUT:.0f} s")
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    if project["sync_status"] != "synced":
        raise RuntimeError(
            f"sync of {slug} ended {project['sync_status']}: {project['sync_error']}"
        )
    return seconds


def memory(server: Server) -> Memory:
    """The server's resident memory (MB)."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    kilobytes = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
    )
    return Memory(rss=kilobytes / 1024)
