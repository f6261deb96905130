"""Bodies, relationships and the health check over every real tree in ../shared/corpus/."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import CORPUS_DIR, migrate, register, sync

TREES = sorted(path.name for path in CORPUS_DIR.iterdir() if path.is_dir())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app with every corpus tree synced as its own project (slug = folder name)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('corpus-relations') / 'lens.db'}"
    migrate(url)
    with TestClient(create_app(Settings(database_url=url, log_level="INFO"))) as client:
        for tree in TREES:
            register(client, tree, CORPUS_DIR / tree)
            assert sync(client, tree)["sync_status"] == "synced"
        yield client


def documents(client: TestClient, slug: str) -> list[dict[str, Any]]:
    body = client.get(f"/api/v1/projects/{slug}/documents", params={"per_page": 100}).json()
    assert body["pages"] == 1
    return body["items"]


def test_there_are_trees() -> None:
    assert len(TREES) >= 2


@pytest.mark.parametrize("tree", TREES)
def test_no_body_starts_with_its_title_line(corpus: TestClient, tree: str) -> None:
    for item in documents(corpus, tree):
        detail = corpus.get(f"/api/v1/projects/{tree}/documents/{item['type']}/{item['doc_id']}")
        content = detail.json()["content"]
        assert not content.startswith(f"# {item['title']}"), item["doc_id"]
        assert not content.startswith("\n"), item["doc_id"]


@pytest.mark.parametrize("tree", TREES)
def test_every_direct_parent_lists_the_document_among_its_children(
    corpus: TestClient, tree: str
) -> None:
    answers = {}
    for item in documents(corpus, tree):
        path = f"/api/v1/projects/{tree}/documents/{item['type']}/{item['doc_id']}/related"
        response = corpus.get(path)
        assert response.status_code == 200, (path, response.text)
        answers[(item["type"], item["doc_id"])] = response.json()
    parented = 0
    for (doc_type, doc_id), answer in answers.items():
        if doc_type == "story":
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


@pytest.mark.parametrize("tree", TREES)
def test_health_check_answers(corpus: TestClient, tree: str) -> None:
    response = corpus.get(f"/api/v1/projects/{tree}/health-check")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["total_documents"] == len(documents(corpus, tree))
    assert 0 <= report["score"] <= 100
    assert sum(report["summary"].values()) == len(report["findings"])
