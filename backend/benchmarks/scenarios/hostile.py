"""Searches meant to hurt: a 50 MB document among the results, and a crowd of costly queries.

Both run on a server of their own, killed afterwards if it is still busy: on a build without
the bounds these measure, the server never finishes what it was sent.
"""

from pathlib import Path
from urllib.parse import quote_plus

import httpx

from benchmarks.corpus import generate, write_big_document
from benchmarks.load import Traffic, run_traffic
from benchmarks.results import BigDocumentSearch, Effort, Latency, Results, SearchAbuse
from benchmarks.servers import PROJECT, fresh_server, register, sync_and_wait, timed_sync
from benchmarks.settings import BIG_DOCUMENT_MB, CLIENTS, FREQUENT_WORD, SMALL

BIG_DOCUMENT = "bugs/BG0001-import-log.md"
BIG_ID = Path(BIG_DOCUMENT).stem
COMMON_WORD = FREQUENT_WORD
# A server still grinding through abandoned searches is killed after this long.
STOP_TIMEOUT = 2.0
# Longer than this is a hang as far as a reader of a search page is concerned.
SEARCH_TIMEOUT = 10.0
# 250 one-letter words, each in most documents; 166 one-letter prefixes, each in every one.
# Both fit the 500-character query limit, and both took seconds per query before any bound.
ATTACKS = {
    "250 one-letter words": " ".join("a135"[i % 4] for i in range(250)),
    "166 one-letter prefixes": " ".join("abcdefgilmnoprstuw"[i % 18] + "*" for i in range(166)),
}
READS = {
    "documents list (per_page=50)": f"{PROJECT}/documents?per_page=50",
    "project stats": f"{PROJECT}/stats",
}


def search_path(query: str) -> str:
    return f"/api/v1/search?q={quote_plus(query)}"


def measure_big_document(results: Results, work: Path, effort: Effort) -> None:
    """p50 of a common-word search over 5,000 documents and one of BIG_DOCUMENT_MB MB."""
    tree = generate(SMALL, work / "corpus-5k-big")
    write_big_document(tree / BIG_DOCUMENT, BIG_DOCUMENT_MB, COMMON_WORD)
    with (
        fresh_server("big-document", stop_timeout=STOP_TIMEOUT) as server,
        httpx.Client(base_url=server.base_url, timeout=SEARCH_TIMEOUT) as client,
    ):
        register(client, "bench", tree)
        seconds, project = sync_and_wait(client, "bench")
        bugs = client.get(f"{PROJECT}/documents", params={"type": "bug"}).json()["items"]
        if not any(item["doc_id"] == BIG_ID for item in bugs):
            results.not_available["search with a big document"] = (
                f"the {BIG_DOCUMENT_MB} MB document was not stored (sync "
                f"{project['sync_status']}: {project['sync_error']})"
            )
            return
        path = search_path(COMMON_WORD)
        figures = BigDocumentSearch(
            megabytes=BIG_DOCUMENT_MB,
            word=COMMON_WORD,
            sync=seconds,
            on_first_page=None,
            latency=None,
            timeout=SEARCH_TIMEOUT,
        )
        try:
            first = client.get(path)
        except httpx.TimeoutException:
            results.big_document = figures  # no answer in time: no latency to give
            return
        if first.status_code == 200:
            figures.on_first_page = any(item["doc_id"] == BIG_ID for item in first.json()["items"])
        traffic = Traffic([path], timeout=SEARCH_TIMEOUT)
        load = run_traffic(server.base_url, [traffic], requests=effort.big_document_requests)[0]
        figures.latency = Latency.of(load)
        results.big_document = figures


def measure_abuse(results: Results, small: Path, effort: Effort) -> None:
    """CLIENTS clients send ATTACKS while one client each times READS."""
    with (
        fresh_server("search-abuse", stop_timeout=STOP_TIMEOUT) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        register(client, "bench", small)
        timed_sync(client, "bench")
        attackers = [
            Traffic([search_path(query)], clients=CLIENTS // len(ATTACKS))
            for query in ATTACKS.values()
        ]
        readers = [Traffic([path], timeout=SEARCH_TIMEOUT) for path in READS.values()]
        loads = run_traffic(server.base_url, attackers + readers, seconds=effort.abuse_seconds)
    attacks, reads = loads[: len(attackers)], loads[len(attackers) :]
    results.abuse = SearchAbuse(
        queries=ATTACKS,
        attacks={name: Latency.of(load) for name, load in zip(ATTACKS, attacks, strict=True)},
        reads={name: Latency.of(load) for name, load in zip(READS, reads, strict=True)},
    )
