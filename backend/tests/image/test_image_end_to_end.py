"""An operator's first session: mount a project read-only, register it, sync, read it back."""

import httpx
import pytest

from harness.processes import wait_for_sync
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image

TASK_LIST = dh.CORPUS_DIR / "task-list"
TASK_LIST_DOCUMENTS = 38  # every .md under task-list except the _index.md files


def test_register_sync_stats_and_search_a_mounted_project(image: str, lab: dh.Lab) -> None:
    container = lab.container(image, volumes={str(TASK_LIST): ("/data/projects/task-list", "ro")})
    url = dh.wait_healthy(container)

    created = dh.api(
        "POST",
        f"{url}/api/v1/projects",
        json={"name": "Task List", "sdlc_path": "/data/projects/task-list"},
    )
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    assert slug == "task-list"

    started = dh.api("POST", f"{url}/api/v1/projects/{slug}/sync")
    assert started.status_code == 202, started.text
    with httpx.Client(base_url=url, timeout=10) as client:
        project = wait_for_sync(client, slug)
    assert project["sync_status"] == "synced", project
    assert project["document_count"] == TASK_LIST_DOCUMENTS

    stats = dh.api("GET", f"{url}/api/v1/projects/{slug}/stats")
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["total_documents"] == TASK_LIST_DOCUMENTS
    assert sum(body["by_type"].values()) == TASK_LIST_DOCUMENTS
    assert body["by_type"]["story"] == 12

    found = dh.api("GET", f"{url}/api/v1/search", params={"q": "dentist", "project": slug})
    assert found.status_code == 200, found.text
    results = found.json()
    doc_ids = [item["doc_id"] for item in results["items"]]
    assert results["total"] >= 1
    assert "US0002-create-task" in doc_ids, doc_ids
