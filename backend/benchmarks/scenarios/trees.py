"""The real trees in ../shared/corpus/: what they hold and how long they take to sync."""

import httpx

from benchmarks.corpus import CORPUS_DIR
from benchmarks.load import run_load
from benchmarks.results import Effort, Results, Runs, TreeFigures, TreeReport
from benchmarks.scenarios.api import PROJECT, endpoint_paths
from benchmarks.servers import fresh_server, register, timed_sync


def measure_real_trees(results: Results, effort: Effort) -> None:
    """Each real tree: documents by type, cold and no-change syncs; p50s on the largest."""
    trees = sorted(p for p in CORPUS_DIR.iterdir() if p.is_dir())
    largest = max(trees, key=lambda tree: len(list(tree.rglob("*.md"))))
    figures: dict[str, TreeFigures] = {}
    largest_p50: dict[str, float] = {}
    for tree in trees:
        with (
            fresh_server(f"real-{tree.name}") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            register(client, "bench", tree)
            cold = timed_sync(client, "bench")
            unchanged = Runs(samples=[timed_sync(client, "bench") for _ in range(effort.sync_runs)])
            counts = client.get(f"{PROJECT}/stats").json()["by_type"]
            figures[tree.name] = TreeFigures(counts=counts, cold=cold, unchanged=unchanged)
            if tree == largest:
                for name, path in endpoint_paths(client).items():
                    run_load(server.base_url, [path], requests=30)
                    largest_p50[name] = run_load(
                        server.base_url, [path], requests=effort.sequential
                    ).p50
    results.trees = TreeReport(trees=figures, largest=largest.name, largest_p50=largest_p50)
