"""An operator's first session: mount a project read-only, register it, sync, read it back."""

from pathlib import Path

import httpx
import pytest

from harness.processes import wait_for_sync
from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image


def test_register_sync_stats_and_search_a_mounted_project(
    image: str, lab: dh.Lab, sample_tree: Path
) -> None:
    volumes = {str(sample_tree): ("/data/projects/recipe-box", "ro")}
    container = lab.container(image, volumes=volumes)
    url = dh.wait_healthy(container)

    created = dh.api(
        "POST",
        f"{url}/api/v1/projects",
        json={"name": "Recipe Box", "sdlc_path": "/data/projects/recipe-box"},
    )
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    assert slug == "recipe-box"

    started = dh.api("POST", f"{url}/api/v1/projects/{slug}/sync")
    assert started.status_code == 202, started.text
    with httpx.Client(base_url=url, timeout=10) as client:
        project = wait_for_sync(client, slug)
    assert project["sync_status"] == "synced", project
    assert project["document_count"] == dh.SAMPLE_DOCUMENTS

    stats = dh.api("GET", f"{url}/api/v1/projects/{slug}/stats")
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["total_documents"] == dh.SAMPLE_DOCUMENTS
    assert sum(body["by_type"].values()) == dh.SAMPLE_DOCUMENTS
    assert body["by_type"]["story"] == 12

    found = dh.api("GET", f"{url}/api/v1/search", params={"q": "pantry", "project": slug})
    assert found.status_code == 200, found.text
    results = found.json()
    doc_ids = [item["doc_id"] for item in results["items"]]
    assert results["total"] >= 1
    assert "US0007-pantry-stock" in doc_ids, doc_ids
