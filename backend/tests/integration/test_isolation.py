"""Work that grows with the data never holds up the rest, against a real Uvicorn: with
clients hammering the project health check and `/related` of an id thousands of documents
share, `/system/health` and the document list stay prompt."""

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from harness.processes import Server, wait_for_sync
from sdlc_lens.healthcheck import HEALTH_PATH
from tests.helpers import BODY, markdown, write_tree

SHARED = 1500  # epics sharing one id, and stories naming it


def test_health_and_lists_stay_prompt_under_health_checks_and_shared_id_relations(
    server: Server, tmp_path: Path
) -> None:
    files = {}
    for n in range(SHARED):
        files[f"epics/EP0001-e{n:05d}.md"] = markdown(f"EP0001: E{n}", BODY, Status="Draft")
        files[f"stories/US{n:05d}-s.md"] = markdown(f"US{n:05d}: S", Epic="EP0001")
    folder = write_tree(tmp_path / "shared", files)
    base = "/api/v1/projects/shared"
    with httpx.Client(base_url=server.base_url, timeout=120) as client:
        client.post("/api/v1/projects", json={"name": "Shared", "sdlc_path": str(folder)})
        client.post(f"{base}/sync")
        assert wait_for_sync(client, "shared", timeout=120)["sync_status"] == "synced"
        # Before the fix: `/related` compared every pair of the 1,500 (quadratic) on the
        # event loop, and the checks took every thread that serves lists.
        related = client.get(f"{base}/documents/epic/EP0001-e00000/related").json()
        assert len(related["children"]) == SHARED

        stop = threading.Event()
        answers: Counter[int] = Counter()

        def hammer(path: str) -> None:
            with httpx.Client(base_url=server.base_url, timeout=120) as own:
                while not stop.is_set():
                    answers[own.get(path).status_code] += 1

        hammers = [
            threading.Thread(target=hammer, args=(f"{base}/health-check",)) for _ in range(20)
        ] + [
            threading.Thread(target=hammer, args=(f"{base}/documents/epic/EP0001-e00000/related",))
            for _ in range(10)
        ]
        for thread in hammers:
            thread.start()
        try:
            health, listing = [], []
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert client.get(HEALTH_PATH).status_code == 200
                health.append(time.monotonic() - started)
                started = time.monotonic()
                assert client.get(f"{base}/documents", params={"per_page": 50}).status_code == 200
                listing.append(time.monotonic() - started)
        finally:
            stop.set()
            for thread in hammers:
                thread.join()
    assert answers[200] > 0 and set(answers) == {200}, answers
    assert max(health) < 2.0, max(health)
    assert max(listing) < 3.0, max(listing)
