"""API latency and throughput per endpoint, growth to 20,000 documents, and a load check."""

import shutil
import threading
from pathlib import Path

import httpx

from benchmarks.corpus import generate
from benchmarks.load import run_load
from benchmarks.results import ApiFigures, Effort, Latency, LoadCheck, Results
from benchmarks.servers import (
    PROJECT,
    document_path,
    fresh_server,
    register,
    server_folder,
    settled,
    timed_sync,
    unavailable,
    wal_size,
)
from benchmarks.settings import CLIENTS, FREQUENT_WORD, SMALL
from harness.processes import start_server
from sdlc_lens.healthcheck import HEALTH_PATH

RELATED = "related (story, epic, plan)"
HEALTH_CHECK = "project health-check"
# The health check reads the whole project: fewer sequential calls keep the run short.
HEALTH_CHECK_SEQUENTIAL = 100
GROWTH = ("documents list (per_page=50)", "project stats", "search: frequent word")
# Answers the cache serves (issue 18), measured again with If-None-Match and with it off.
CACHED = (
    "documents list (per_page=50)",
    "document detail",
    RELATED,
    "project stats",
    HEALTH_CHECK,
    "search: frequent word",
)


def endpoint_paths(client: httpx.Client) -> dict[str, str]:
    """The requests measured, against a synced project named `bench`."""
    listed = client.get(f"{PROJECT}/documents", params={"type": "story"}).json()
    story = listed["items"][len(listed["items"]) // 2]
    return {
        "health": HEALTH_PATH,
        "documents list (per_page=50)": f"{PROJECT}/documents?per_page=50",
        "document detail": document_path("story", story["doc_id"]),
        "project stats": f"{PROJECT}/stats",
        "global stats": "/api/v1/stats",
        "search: frequent word": f"/api/v1/search?q={FREQUENT_WORD}",
        "search: rare word": "/api/v1/search?q=telegram",
        "search: two words": "/api/v1/search?q=docker+compose",
        "search: id": "/api/v1/search?q=US0003",
    }


def related_paths(client: httpx.Client, per_type: int = 10) -> list[str]:
    """`/related` of `per_type` stories, epics and plans: pages a reader opens, in turn."""
    paths = []
    for doc_type in ("story", "epic", "plan"):
        listed = client.get(
            f"{PROJECT}/documents",
            params={"type": doc_type, "sort": "title", "order": "asc", "per_page": 50},
        ).json()["items"]
        for item in listed[:: max(1, len(listed) // per_type)][:per_type]:
            paths.append(document_path(doc_type, item["doc_id"], "related"))
    return paths


def share_of_documents(client: httpx.Client, word: str) -> float:
    """Fraction of the project's documents that a search for `word` finds (is it frequent?)."""
    found = client.get("/api/v1/search", params={"q": word, "per_page": 1}).json()["total"]
    return found / client.get(f"{PROJECT}/stats").json()["total_documents"]


def measure_api(results: Results, small: Path, large: Path, effort: Effort) -> None:
    """Sequential and concurrent figures per endpoint at 5,000; a few again at 20,000."""
    sequential: dict[str, Latency] = {}
    concurrent: dict[str, Latency] = {}

    def measure(base_url: str, name: str, paths: list[str], requests: int) -> None:
        run_load(base_url, paths, requests=30)  # warm-up
        sequential[name] = Latency.of(run_load(base_url, paths, requests=requests))
        concurrent[name] = Latency.of(
            run_load(base_url, paths, clients=CLIENTS, seconds=effort.concurrent_seconds)
        )

    folder = server_folder("api-floor")
    floor = start_server(
        folder / "unused.db",  # the floor app opens no database
        folder / "floor.log",
        app="benchmarks.floor_app:create_app",
        health_path="/floor",
    )
    try:
        measure(floor.base_url, "floor (constant)", ["/floor"], effort.sequential)
    finally:
        floor.stop()

    with fresh_server("api-5k") as server, httpx.Client(base_url=server.base_url) as client:
        register(client, "bench", small)
        timed_sync(client, "bench")
        share = share_of_documents(client, FREQUENT_WORD)
        for name, path in endpoint_paths(client).items():
            measure(server.base_url, name, [path], effort.sequential)
        # Endpoints built on other branches: measured where they answer, else said so.
        related = related_paths(client)
        health_check = f"{PROJECT}/health-check"
        for name, paths, requests in (
            (RELATED, related, effort.sequential),
            (HEALTH_CHECK, [health_check], min(effort.sequential, HEALTH_CHECK_SEQUENTIAL)),
        ):
            reason = unavailable(client, paths[0])
            if reason is None:
                measure(server.base_url, name, paths, requests)
            else:
                results.not_available[name] = reason
        measured = {**endpoint_paths(client), RELATED: related[0], HEALTH_CHECK: health_check}
        cached_paths = {name: measured[name] for name in CACHED if name in sequential}
        revalidated = {
            name: Latency.of(
                run_load(
                    server.base_url,
                    [path],
                    clients=CLIENTS,
                    seconds=effort.concurrent_seconds,
                    headers={"If-None-Match": client.get(path).headers["etag"]},
                )
            )
            for name, path in cached_paths.items()
        }

    uncached = {}
    with (
        fresh_server("api-5k-uncached", settings={"RESPONSE_CACHE_MB": "0"}) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        register(client, "bench", small)
        timed_sync(client, "bench")
        for name, path in cached_paths.items():
            run_load(server.base_url, [path], requests=30)
            count = min(effort.sequential, HEALTH_CHECK_SEQUENTIAL)
            uncached[name] = Latency.of(run_load(server.base_url, [path], requests=count))

    large_p50: dict[str, float] = {}
    with fresh_server("api-20k") as server, httpx.Client(base_url=server.base_url) as client:
        register(client, "bench", large)
        timed_sync(client, "bench")
        paths = endpoint_paths(client)
        for name in GROWTH:
            run_load(server.base_url, [paths[name]], requests=30)
            large_p50[name] = run_load(
                server.base_url, [paths[name]], requests=effort.sequential
            ).p50
    results.api = ApiFigures(
        frequent_word_share=share,
        sequential=sequential,
        concurrent=concurrent,
        large_p50=large_p50,
        revalidated=revalidated,
        uncached=uncached,
    )


def measure_load(results: Results, small: Path, work: Path, effort: Effort) -> None:
    """20 clients of mixed reads while full re-syncs of 5,000 documents run back to back."""
    changed = generate(SMALL, work / "corpus-5k-changed")
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
        failures: list[Exception] = []

        def resync_forever() -> None:
            nonlocal syncs
            trees = [changed, small]
            try:
                while not stop.is_set():
                    tree = trees[syncs % 2]  # every document changes at every sync
                    client.put(PROJECT, json={"sdlc_path": str(tree)}).raise_for_status()
                    timed_sync(client, "bench")
                    syncs += 1
            except Exception as exc:  # re-raised below: a failed sync fails the check
                failures.append(exc)

        worker = threading.Thread(target=resync_forever)
        worker.start()
        try:
            load = run_load(server.base_url, paths, clients=CLIENTS, seconds=effort.load_seconds)
        finally:
            stop.set()
            worker.join()
        if failures:
            raise failures[0]
        results.load = LoadCheck(latency=Latency.of(load), syncs=syncs)
        settled(server)
        results.wal[f"after {syncs} full re-syncs under load"] = wal_size(server)
    shutil.rmtree(changed)
