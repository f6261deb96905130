"""Folder watching (issue 17): write → visible, a 500-file burst, idle CPU, memory per project.

Every figure is what a client sees: a file is written, and the API is polled (every 10 ms)
until the document is there. Idle CPU is the server process's own CPU time (user + system,
from /proc) over a quiet minute, without and with folders followed.
"""

import shutil
import time
from pathlib import Path

import httpx

from benchmarks.results import Effort, Results, Runs, WatchFigures
from benchmarks.servers import PROJECT, fresh_server, memory, register, settled
from harness.processes import Server, wait_for_sync

BURST = 500  # files, as a `git checkout` or `git pull` writes them
FOLLOWED_PROJECTS = 100
SMALL_PROJECT = 10  # documents in each of the FOLLOWED_PROJECTS
PAUSE = 1.5  # seconds between two measured writes, so that each is a change of its own
POLL = 0.01


def story(number: int) -> str:
    return f"# US{number}: Watched story {number}\n\n> **Status:** Draft\n\nWritten by the bench.\n"


def measure_watching(results: Results, small: Path, work: Path, effort: Effort) -> None:
    """Write → visible and bursts on the 5,000-document project, idle CPU before and after
    following it, then memory and idle CPU with 100 small projects followed."""
    idle_seconds = effort.watch_idle_seconds
    with fresh_server("watching") as server, httpx.Client(base_url=server.base_url) as client:
        idle_nothing = idle_cpu(server, idle_seconds)
        register(client, "bench", small)
        follow(client, "bench")
        wait_for_sync(client, "bench", timeout=600, interval=POLL)
        stories = small / "stories"
        writes = range(90_000, 90_000 + effort.watch_writes)
        visible = [write_and_wait(client, stories, number) for number in writes]
        bursts, syncs = [], []
        for run in range(effort.watch_bursts):
            seconds, count = burst(server, client, stories, 100_000 + run * 1000)
            bursts.append(seconds)
            syncs.append(count)
        settled(server)
        idle_one = idle_cpu(server, idle_seconds)
    for written in [*stories.glob("US*-watched.md"), *stories.glob("US*-burst.md")]:
        written.unlink()  # the corpus as it was, for whatever runs next
    with fresh_server("watching-100") as server, httpx.Client(base_url=server.base_url) as client:
        per_project, watches, idle_many = follow_many(server, client, work, idle_seconds)
    results.watching = WatchFigures(
        write_to_visible=Runs(samples=visible),
        burst_visible=Runs(samples=bursts),
        burst_syncs=syncs,
        idle_seconds=idle_seconds,
        idle_cpu={
            "nothing followed": idle_nothing,
            "one 5,000-document project watched": idle_one,
            f"{FOLLOWED_PROJECTS} projects watched": idle_many,
        },
        memory_per_project=per_project,
        inotify_watches=watches,
    )


def follow(client: httpx.Client, slug: str) -> None:
    answer = client.put(f"/api/v1/projects/{slug}", json={"auto_sync": True})
    answer.raise_for_status()
    if answer.json()["auto_sync_mode"] != "watch":
        raise RuntimeError(f"{slug} is not watched: {answer.json()['auto_sync_mode']}")


def write_and_wait(client: httpx.Client, folder: Path, number: int) -> float:
    """Seconds from writing a new story to the API showing it."""
    time.sleep(PAUSE)
    path = f"{PROJECT}/documents/story/US{number}-watched"
    started = time.perf_counter()
    (folder / f"US{number}-watched.md").write_text(story(number), encoding="utf-8")
    while client.get(path).status_code != 200:
        time.sleep(POLL)
    return time.perf_counter() - started


def burst(server: Server, client: httpx.Client, folder: Path, first: int) -> tuple[float, int]:
    """Seconds from the first of BURST new files to all of them shown, and the syncs it took."""
    time.sleep(PAUSE)
    expected = client.get(PROJECT).json()["document_count"] + BURST
    syncs_before = server.log().count("sync of bench started")
    started = time.perf_counter()
    for number in range(first, first + BURST):
        (folder / f"US{number}-burst.md").write_text(story(number), encoding="utf-8")
    while client.get(PROJECT).json()["document_count"] != expected:
        time.sleep(POLL)
    seconds = time.perf_counter() - started
    time.sleep(PAUSE * 2)  # a follow-up sync, if one is due, has started by now
    wait_for_sync(client, "bench", timeout=600, interval=POLL)
    return seconds, server.log().count("sync of bench started") - syncs_before


def follow_many(
    server: Server, client: httpx.Client, work: Path, idle_seconds: float
) -> tuple[float, int, float]:
    """Memory each followed project adds (MB; synced first, so that only following counts),
    the inotify watches in use, and the idle CPU share, with FOLLOWED_PROJECTS followed."""
    root = work / "followed"
    for index in range(FOLLOWED_PROJECTS):
        folder = root / f"p{index}" / "stories"
        folder.mkdir(parents=True)
        for number in range(SMALL_PROJECT):
            (folder / f"US{number + 1}-s.md").write_text(story(number + 1), encoding="utf-8")
        register(client, f"p{index}", folder.parent)
        client.post(f"/api/v1/projects/p{index}/sync").raise_for_status()
        wait_for_sync(client, f"p{index}", interval=POLL)
    settled(server)
    before = memory(server).rss
    for index in range(FOLLOWED_PROJECTS):
        follow(client, f"p{index}")
    for index in range(FOLLOWED_PROJECTS):
        wait_for_sync(client, f"p{index}", interval=POLL)
    settled(server)
    per_project = (memory(server).rss - before) / FOLLOWED_PROJECTS
    watches = inotify_watches(server)
    idle = idle_cpu(server, idle_seconds)
    shutil.rmtree(root)
    return per_project, watches, idle


def cpu_seconds(server: Server) -> float:
    """CPU time of the server's threads so far, in nanoseconds of run time (the first field of
    each thread's schedstat): /proc/PID/stat counts 10 ms clock ticks, sampled, and an idle
    minute is a handful of them, so one tick more or less swung the share by 0.017 %."""
    total = 0
    for task in Path(f"/proc/{server.process.pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def idle_cpu(server: Server, seconds: float) -> float:
    """The share of one CPU the server used while nothing happened for `seconds`."""
    time.sleep(1)  # the last answer's aftermath
    started, cpu = time.perf_counter(), cpu_seconds(server)
    time.sleep(seconds)
    return (cpu_seconds(server) - cpu) / (time.perf_counter() - started)


def inotify_watches(server: Server) -> int:
    """Inotify watches the server holds: the `inotify wd:` lines of its inotify descriptors."""
    count = 0
    fdinfo = Path(f"/proc/{server.process.pid}/fdinfo")
    for entry in fdinfo.iterdir():
        try:
            count += entry.read_text().count("inotify wd:")
        except OSError:
            continue  # closed meanwhile
    return count
