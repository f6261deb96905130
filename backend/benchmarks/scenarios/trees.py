"""Whole trees: what they hold, their syncs, health and links.

The real trees SDLC_LENS_TEST_CORPUS names when it is set, else the generated fixture trees
(harness/fixture_trees.py), so that a plain clone measures something too.
"""

from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load import run_load
from benchmarks.results import Effort, Results, Runs, TreeFigures, TreeReport
from benchmarks.scenarios.api import endpoint_paths
from benchmarks.servers import (
    PROJECT,
    document_path,
    fresh_server,
    register,
    timed_sync,
    unavailable,
)
from harness.fixture_trees import TEST_CORPUS_VARIABLE, real_trees, write_fixture_trees

MAX_PER_PAGE = 50


def trees_to_measure(work: Path) -> tuple[list[Path], str]:
    """The real trees if SDLC_LENS_TEST_CORPUS names some, else the fixture trees (written
    below `work`); and where they come from, for the report."""
    real = real_trees()
    if real:
        return real, f"the real trees in {TEST_CORPUS_VARIABLE}"
    generated = write_fixture_trees(work / "fixture-trees")
    return sorted(generated.values()), f"the generated fixture trees (no {TEST_CORPUS_VARIABLE})"


def measure_trees(results: Results, effort: Effort, work: Path) -> None:
    """Each tree: documents by type, syncs, health check, links; p50s on the largest."""
    trees, source = trees_to_measure(work)
    largest = max(trees, key=lambda tree: len(list(tree.rglob("*.md"))))
    figures: dict[str, TreeFigures] = {}
    largest_p50: dict[str, float] = {}
    for tree in trees:
        with (
            fresh_server(f"tree-{tree.name}") as server,
            httpx.Client(base_url=server.base_url) as client,
        ):
            register(client, "bench", tree)
            cold = timed_sync(client, "bench")
            unchanged = Runs(samples=[timed_sync(client, "bench") for _ in range(effort.sync_runs)])
            counts = client.get(f"{PROJECT}/stats").json()["by_type"]
            figures[tree.name] = tree_figures = TreeFigures(
                counts=counts, cold=cold, unchanged=unchanged
            )
            add_health_check(results, client, tree_figures)
            add_links(results, client, tree_figures)
            if tree == largest:
                for name, path in endpoint_paths(client).items():
                    run_load(server.base_url, [path], requests=30)
                    largest_p50[name] = run_load(
                        server.base_url, [path], requests=effort.sequential
                    ).p50
    results.trees = TreeReport(
        trees=figures, largest=largest.name, largest_p50=largest_p50, source=source
    )


def add_health_check(results: Results, client: httpx.Client, figures: TreeFigures) -> None:
    """The health-check score and findings per rule, where the endpoint answers."""
    path = f"{PROJECT}/health-check"
    reason = unavailable(client, path)
    if reason is not None:
        results.not_available["trees: health check"] = reason
        return
    report = client.get(path).json()
    figures.health_score = report["score"]
    figures.findings = dict(sorted(Counter(f["rule_id"] for f in report["findings"]).items()))


def add_links(results: Results, client: httpx.Client, figures: TreeFigures) -> None:
    """Parent→child links: the children of every document's /related answer, summed."""
    documents = all_documents(client)
    paths = [document_path(doc["type"], doc["doc_id"], "related") for doc in documents]
    reason = unavailable(client, paths[0]) if paths else "the tree has no documents"
    if reason is not None:
        results.not_available["trees: related"] = reason
        return
    figures.parent_child_links = sum(len(client.get(path).json()["children"]) for path in paths)


def all_documents(client: httpx.Client) -> list[dict[str, Any]]:
    """Every document of the project, page by page."""
    documents: list[dict[str, Any]] = []
    page = 1
    while True:
        listed = client.get(
            f"{PROJECT}/documents", params={"per_page": MAX_PER_PAGE, "page": page}
        ).json()
        documents += listed["items"]
        if page >= listed["pages"]:
            return documents
        page += 1
