"""Bodies, relationships and the health check over every generated tree, and every real tree
SDLC_LENS_TEST_CORPUS names."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import CorpusTree, corpus_cases, corpus_tree, corpus_tree_params
from tests.helpers import register, sync, synced_app

CASES = corpus_tree_params()


@pytest.fixture(scope="module")
def synced(
    tmp_path_factory: pytest.TempPathFactory, fixture_tree_paths: dict[str, Path]
) -> Iterator[tuple[TestClient, dict[str, tuple[str, CorpusTree]]]]:
    """One app with every tree synced as its own project: the client, and (slug, tree) by
    case."""
    trees = {}
    with synced_app(tmp_path_factory.mktemp("corpus-relations"), ()) as client:
        for case in corpus_cases():
            tree = corpus_tree(case, fixture_tree_paths)
            slug = register(client, tree.name, tree.path)["slug"]
            assert sync(client, slug)["sync_status"] == "synced"
            trees[case] = (slug, tree)
        yield client, trees


def documents(client: TestClient, slug: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get(
            f"/api/v1/projects/{slug}/documents", params={"per_page": 100, "page": page}
        ).json()
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1


def document_path(slug: str, item: dict[str, Any], tail: str = "") -> str:
    """The detail URL of a listed document, its doc_id quoted as a frontend must."""
    doc_id = quote(item["doc_id"], safe="")
    return f"/api/v1/projects/{slug}/documents/{item['type']}/{doc_id}{tail}"


@pytest.mark.parametrize("case", CASES)
def test_no_body_starts_with_its_title_line(synced: Any, case: Any) -> None:
    client, trees = synced
    slug, _ = trees[case]
    for item in documents(client, slug):
        response = client.get(document_path(slug, item))
        assert response.status_code == 200, (item, response.text)
        content = response.json()["content"]
        assert not content.startswith(f"# {item['title']}"), item["doc_id"]
        assert not content.startswith("\n"), item["doc_id"]


@pytest.mark.parametrize("case", CASES)
def test_every_direct_parent_lists_the_document_among_its_children(synced: Any, case: Any) -> None:
    client, trees = synced
    slug, tree = trees[case]
    answers = {}
    for item in documents(client, slug):
        path = document_path(slug, item, "/related")
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        answers[(item["type"], item["doc_id"])] = response.json()
    parented = 0
    for (doc_type, doc_id), answer in answers.items():
        if doc_type == "story" and doc_id not in tree.epicless_stories:
            assert answer["parents"], f"story {doc_id} has no epic"
        if not answer["parents"]:
            continue
        parented += 1
        parent = answer["parents"][0]
        children = answers[(parent["type"], parent["doc_id"])]["children"]
        assert {"doc_id": doc_id, "type": doc_type} in [
            {"doc_id": child["doc_id"], "type": child["type"]} for child in children
        ], (doc_id, parent["doc_id"])
    # ... and every child listed has that parent first: the lists are exact inverses.
    listed = sum(len(answer["children"]) for answer in answers.values())
    assert listed == parented > 0


@pytest.mark.parametrize("case", CASES)
def test_health_check_answers(synced: Any, case: Any) -> None:
    client, trees = synced
    slug, _ = trees[case]
    response = client.get(f"/api/v1/projects/{slug}/health-check")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["total_documents"] == len(documents(client, slug))
    assert 0 <= report["score"] <= 100
    assert sum(report["summary"].values()) == len(report["findings"])
