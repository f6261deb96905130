"""The health check's answer stays small whatever the project: at most 100 findings per rule
and 100 documents per finding, with the totals alongside; an id shared by a group is
reported once; the score still counts every finding."""

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import BODY, markdown, synced_project

LISTED = 100


def health(client: TestClient, slug: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/projects/{slug}/health-check")
    assert response.status_code == 200, response.text
    return response.json()


def of_rule(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if finding["rule_id"] == rule_id]


def story(n: int, **fields: str) -> str:
    values = {"Status": "Draft", "Owner": "Ann", "Priority": "P1", "Story_Points": "1"}
    return markdown(f"US{n:04d}: S{n}", **{**values, **fields})


BASE = {"prd.md": markdown("PRD"), "trd.md": markdown("TRD")}


def test_a_rule_lists_its_first_100_findings_and_counts_them_all(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        **BASE,
        "epics/EP0001-e.md": markdown("EP0001: E", Status="Draft", Owner="Ann"),
        **{f"stories/US{n:04d}-s.md": story(n, Epic="EP0001") for n in range(150)},
        **{
            f"test-specs/TS{n:04d}-t.md": markdown(f"TS{n:04d}", Story=f"US{n:04d}", Status="Draft")
            for n in range(150)
        },
    }
    report = health(client, synced_project(client, tmp_path, "many", files))
    plans = of_rule(report, "MISSING_PLAN")
    # The first 100 in file_path order, and the total beside them.
    assert [f["affected_documents"][0]["doc_id"] for f in plans] == [
        f"US{n:04d}-s" for n in range(LISTED)
    ]
    assert report["findings_per_rule"] == {"MISSING_PLAN": 150}
    # The summary and the score count every finding, not only the listed ones.
    assert report["summary"] == {"critical": 0, "high": 0, "medium": 150, "low": 0}
    assert report["score"] == 0
    assert report["total_documents"] == 303


def test_epics_sharing_an_id_are_compared_with_its_stories_once(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        **BASE,
        **{
            f"epics/EP0001-e{n}.md": markdown(f"EP0001: E{n}", Status="Done", Owner="Ann")
            for n in range(3)
        },
        "stories/US0001-s.md": story(1, Epic="EP0001"),
        "stories/US0002-s.md": story(2, Epic="EP0001"),
    }
    report = health(client, synced_project(client, tmp_path, "shared", files))
    [mismatch] = of_rule(report, "STATUS_MISMATCH")
    # The epic the id names (smallest path), as /related resolves a story's `Epic:`.
    assert [d["doc_id"] for d in mismatch["affected_documents"]] == [
        "EP0001-e0",
        "US0001-s",
        "US0002-s",
    ]
    assert mismatch["affected_count"] == 3
    assert report["findings_per_rule"]["STATUS_MISMATCH"] == 1
    # The group itself is one DUPLICATE_DOC_ID finding; no epic of it lacks stories.
    assert report["findings_per_rule"]["DUPLICATE_DOC_ID"] == 1
    assert "EPIC_NO_STORIES" not in report["findings_per_rule"]


def test_a_finding_lists_its_first_100_documents_and_counts_them_all(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        **BASE,
        "epics/EP0001-e.md": markdown("EP0001: E", Status="Done", Owner="Ann"),
        **{f"stories/US{n:04d}-s.md": story(n, Epic="EP0001") for n in range(150)},
    }
    report = health(client, synced_project(client, tmp_path, "wide", files))
    [mismatch] = of_rule(report, "STATUS_MISMATCH")
    assert mismatch["message"] == (
        "Epic 'EP0001: E' is marked Done but has 150 incomplete child stories."
    )
    listed = [d["doc_id"] for d in mismatch["affected_documents"]]
    assert listed == ["EP0001-e", *(f"US{n:04d}-s" for n in range(LISTED - 1))]
    assert mismatch["affected_count"] == 151


def test_a_large_duplicate_group_names_its_first_100_members(
    client: TestClient, tmp_path: Path
) -> None:
    files = {f"copies/c{n:03d}/US0001-same.md": markdown("US0001: Same", BODY) for n in range(120)}
    report = health(client, synced_project(client, tmp_path, "copies", files))
    [duplicate] = of_rule(report, "DUPLICATE_DOC_ID")
    assert duplicate["message"] == (
        f"Multiple documents share doc_id 'US0001-same': {', '.join(['story'] * LISTED)} "
        "and 20 more."
    )
    assert duplicate["suggested_fix"].endswith(
        "c098/US0001-same.md, copies/c099/US0001-same.md and 20 more."
    )
    assert len(duplicate["affected_documents"]) == LISTED
    assert duplicate["affected_count"] == 120
