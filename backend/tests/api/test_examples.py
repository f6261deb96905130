"""The example project in examples/ (what `docker compose up` shows first) syncs cleanly, and
its documents refer to each other the way an sdlc-studio tree does."""

from fastapi.testclient import TestClient

from tests.helpers import REPO_DIR, register, sync

EXAMPLE = REPO_DIR / "examples" / "bookshelf" / "sdlc-studio"


def test_the_example_project_syncs_without_errors(client: TestClient) -> None:
    register(client, "bookshelf", EXAMPLE)
    project = sync(client, "bookshelf")
    assert (project["sync_status"], project["sync_error"]) == ("synced", None)

    stats = client.get("/api/v1/projects/bookshelf/stats").json()
    assert stats["by_type"] == {"prd": 1, "epic": 2, "story": 4, "plan": 2, "bug": 1}
    assert stats["total_documents"] == 10


def test_the_example_documents_reference_each_other(client: TestClient) -> None:
    register(client, "bookshelf", EXAMPLE)
    sync(client, "bookshelf")
    listed = client.get("/api/v1/projects/bookshelf/documents", params={"per_page": 50}).json()
    docs = listed["items"]
    assert len(docs) == 10
    heads: dict[str, set[str]] = {}  # type -> id heads (EP0001, ...)
    for doc in docs:
        heads.setdefault(doc["type"], set()).add(doc["doc_id"].split("-")[0])
    for doc in docs:
        assert doc["status"], doc  # every document has a recognised status
        if doc["type"] in ("story", "plan", "bug"):
            assert doc["epic"] in heads["epic"], doc
        if doc["type"] in ("plan", "bug"):
            assert doc["story"] in heads["story"], doc
    # Every status is one of its type's vocabulary (canonical casing), i.e. the front matter
    # parses as the real tool writes it.
    statuses = {(doc["type"], doc["status"]) for doc in docs}
    assert ("bug", "Open") in statuses and ("plan", "Complete") in statuses
    assert ("story", "In Progress") in statuses and ("epic", "Ready") in statuses
