"""Project health check (SPEC-2 §15): test vectors 4-9, the fixture answer, the §15.5 fixes."""

import os
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.api.schemas.checkup import HealthCheck
from sdlc_lens.services.reports.checkup import check_project
from sdlc_lens.services.sources import folder as folder_source
from tests.fixtures import E2E_FILES
from tests.helpers import (
    BODY,
    assert_error,
    deny_reading,
    markdown,
    recorded_statements,
    register,
    sync,
    synced_project,
    write_tree,
)

FILLER = BODY
doc = markdown


def story(title: str, **fields: str) -> str:
    """A story that passes every story rule unless `fields` say otherwise."""
    values = {"Status": "Draft", "Owner": "Ann", "Priority": "P1", "Story_Points": "1"}
    return doc(title, **{**values, **fields})


project = synced_project


def health(client: TestClient, slug: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/projects/{slug}/health-check")
    assert response.status_code == 200, response.text
    return response.json()


def rules(report: dict[str, Any]) -> list[str]:
    return [finding["rule_id"] for finding in report["findings"]]


def affected(finding: dict[str, Any]) -> list[str]:
    return [document["doc_id"] for document in finding["affected_documents"]]


def findings_of(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if finding["rule_id"] == rule_id]


def execute(client: TestClient, sql: str, *params: Any) -> None:
    with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(sql, params)


# --- test vector 4: the fixture, a new project, an unknown one -----------------------------


def test_vector4_fixture_answer_exactly(client: TestClient, tmp_path: Path) -> None:
    slug = project(client, tmp_path, "E2E Test Project", E2E_FILES)
    report = health(client, slug)
    assert report["project_slug"] == "e2e-test-project"
    assert report["total_documents"] == 10
    assert report["summary"] == {"critical": 0, "high": 0, "medium": 4, "low": 0}
    assert report["score"] == 92
    assert [(f["rule_id"], affected(f)) for f in report["findings"]] == [
        ("MISSING_PLAN", ["US0003-widget-api"]),
        ("MISSING_PLAN", ["US0004-widget-tests"]),
        ("MISSING_TEST_SPEC", ["US0003-widget-api"]),
        ("MISSING_TEST_SPEC", ["US0004-widget-tests"]),
    ]
    first = report["findings"][0]
    assert first == {
        "rule_id": "MISSING_PLAN",
        "severity": "medium",
        "category": "completeness",
        "message": "Story 'US0003: Widget API' has no associated plan.",
        "affected_documents": [
            {"doc_id": "US0003-widget-api", "doc_type": "story", "title": "US0003: Widget API"}
        ],
        "suggested_fix": "Create a plan document for story US0003-widget-api with acceptance "
        "criteria coverage.",
        "affected_count": 1,
    }
    assert report["findings_per_rule"] == {"MISSING_PLAN": 2, "MISSING_TEST_SPEC": 2}
    assert report["findings"][3]["suggested_fix"] == (
        "Create a test-spec document for story US0004-widget-tests with test cases covering "
        "the acceptance criteria."
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", report["checked_at"])
    assert list(report["summary"]) == ["critical", "high", "medium", "low"]


def test_vector4_never_synced_project_is_healthy(client: TestClient, tmp_path: Path) -> None:
    slug = register(client, "Fresh", write_tree(tmp_path / "fresh", {"prd.md": "# P\n"}))["slug"]
    report = health(client, slug)
    assert (report["total_documents"], report["findings"], report["score"]) == (0, [], 100)
    assert report["summary"] == {"critical": 0, "high": 0, "medium": 0, "low": 0}


def test_vector4_unknown_project(client: TestClient) -> None:
    assert_error(
        client.get("/api/v1/projects/nope/health-check"), 404, "NOT_FOUND", "Project not found"
    )


# --- test vectors 5-8 ----------------------------------------------------------------------


def test_vector5_one_bare_draft_story(client: TestClient, tmp_path: Path) -> None:
    body = "x" * 60
    slug = project(
        client,
        tmp_path,
        "lone",
        {"stories/US0001-lone.md": doc("US0001: Lone", body, Status="Draft")},
    )
    report = health(client, slug)
    assert rules(report) == [
        "MISSING_PRD",
        "MISSING_TRD",
        "MISSING_PLAN",
        "MISSING_TEST_SPEC",
        "STORY_NO_EPIC",
        "MISSING_OWNER",
        "MISSING_PRIORITY",
        "MISSING_STORY_POINTS",
    ]
    assert report["score"] == 67
    assert report["findings"][0]["affected_documents"] == []
    assert report["findings"][0]["message"] == "Project has no PRD document."


def test_vector6_ten_bare_epics_score_zero(client: TestClient, tmp_path: Path) -> None:
    files = {f"epics/EP{n:04d}-e.md": doc(f"EP{n:04d}: E") for n in range(1, 11)}
    slug = project(client, tmp_path, "epics", files)
    report = health(client, slug)
    assert report["summary"] == {"critical": 1, "high": 21, "medium": 10, "low": 0}
    assert report["score"] == 0


def test_vector7_a_complete_project_scores_100(client: TestClient, tmp_path: Path) -> None:
    files = {
        "prd.md": doc("PRD"),
        "trd.md": doc("TRD"),
        "epics/EP0001-e.md": doc("EP0001: E", Status="Draft", Owner="Ann"),
        "stories/US0001-s.md": story("US0001: S", Epic="EP0001"),
        "plans/PL0001-p.md": doc("PL0001: P", Status="Draft", Story="US0001"),
        "test-specs/TS0001-t.md": doc("TS0001: T", Status="Draft", Epic="EP0001"),
    }
    report = health(client, project(client, tmp_path, "complete", files))
    assert (report["findings"], report["score"]) == ([], 100)


def test_vector8_done_epic_with_open_stories(client: TestClient, tmp_path: Path) -> None:
    files = {
        "prd.md": doc("PRD"),
        "trd.md": doc("TRD"),
        "epics/EP0001-e.md": doc("EP0001: E", Status="Done", Owner="Ann"),
        "stories/US0001-draft.md": story("US0001: Draft", Epic="EP0001"),
        "stories/US0002-wont.md": story("US0002: Wont", Epic="EP0001", Status="Won't Implement"),
        "stories/US0003-none.md": story("US0003: None", Epic="EP0001", Status="None"),
    }
    report = health(client, project(client, tmp_path, "mismatch", files))
    [mismatch] = findings_of(report, "STATUS_MISMATCH")
    assert (
        mismatch["message"] == "Epic 'EP0001: E' is marked Done but has 2 incomplete child stories."
    )
    assert affected(mismatch) == ["EP0001-e", "US0001-draft", "US0003-none"]
    assert (mismatch["severity"], mismatch["category"]) == ("low", "consistency")


# --- test vector 9: boundaries -------------------------------------------------------------


@pytest.mark.parametrize(("body", "fires"), [(" " + "y" * 49 + " ", True), ("y" * 50, False)])
def test_vector9_empty_content_boundary(
    client: TestClient, tmp_path: Path, body: str, fires: bool
) -> None:
    slug = project(client, tmp_path, "stub", {"prd.md": f"# PRD\n\n{body}"})
    assert ("EMPTY_CONTENT" in rules(health(client, slug))) is fires


def test_vector9_stale_document_boundary(client: TestClient, tmp_path: Path) -> None:
    slug = project(client, tmp_path, "old", {"prd.md": doc("PRD"), "trd.md": doc("TRD")})
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    on_the_day = (now - timedelta(days=30)).isoformat(timespec="microseconds")
    a_second_more = (now - timedelta(days=30, seconds=1)).isoformat(timespec="microseconds")
    execute(client, "UPDATE projects SET last_synced_at = ?", on_the_day)
    execute(client, "UPDATE documents SET synced_at = ? WHERE doc_id = 'prd'", on_the_day)
    execute(client, "UPDATE documents SET synced_at = ? WHERE doc_id = 'trd'", a_second_more)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert rules(check_project(conn, slug, now)) == []
    execute(client, "UPDATE projects SET last_synced_at = ?", a_second_more)
    with engine.connect() as conn:
        report = check_project(conn, slug, now)
    [stale] = findings_of(report, "STALE_DOCUMENT")
    assert affected(stale) == ["trd"]
    assert stale["message"] == (
        "Document 'TRD' has not been synced in over 30 days (last synced 2026-05-02)."
    )


def test_vector9_inbox_bug(client: TestClient, tmp_path: Path) -> None:
    slug = project(
        client, tmp_path, "inbox", {"bugs/BG0001-b.md": doc("BG0001: Crash", Status="inbox")}
    )
    [inbox] = findings_of(health(client, slug), "UNTRIAGED_INBOX")
    assert inbox["message"] == "BUG 'BG0001: Crash' is still in the inbox (untriaged)."


def test_vector9_null_status_plan_under_a_done_story(client: TestClient, tmp_path: Path) -> None:
    files = {
        "stories/US0001-s.md": story("US0001: S", Status="Done"),
        "plans/PL0001-p.md": doc("PL0001: P", Story="US0001"),
    }
    [stale] = findings_of(
        health(client, project(client, tmp_path, "artefact", files)), "STALE_ARTEFACT_STATUS"
    )
    assert affected(stale) == ["PL0001-p"]
    # Corrected wording: no 'None' for a missing status, the plan's own completed status.
    assert stale["message"] == "Plan 'PL0001: P' has no status but its story is 'Done'."
    assert (
        stale["suggested_fix"]
        == "Update the status of PL0001-p to Complete to match its completed story."
    )


def test_vector9_duplicate_doc_id_with_an_archive_copy(client: TestClient, tmp_path: Path) -> None:
    files = {
        "stories/US0001-a.md": doc("US0001: A", Status="Draft"),
        "archive/US0001-a.md": doc("US0001: A", Status="Draft"),
    }
    report = health(client, project(client, tmp_path, "archived", files))
    [duplicate] = findings_of(report, "DUPLICATE_DOC_ID")
    assert duplicate["message"] == "Multiple documents share doc_id 'US0001-a': story, story."
    assert duplicate["suggested_fix"].endswith(
        "Affected: archive/US0001-a.md, stories/US0001-a.md."
    )
    assert affected(duplicate) == ["US0001-a", "US0001-a"]
    # The reference doubles every per-story finding; an `archive/` copy is archived here, and
    # archived copies are exempt from the story rules, so each fires once (for the live copy).
    counts = Counter(rules(report))
    for rule in ("MISSING_PLAN", "MISSING_TEST_SPEC", "STORY_NO_EPIC", "MISSING_OWNER"):
        assert counts[rule] == 1, rule
    assert all(affected(f) == ["US0001-a"] for f in findings_of(report, "MISSING_PLAN"))
    assert findings_of(report, "MISSING_PLAN")[0]["affected_documents"][0]["title"] == "US0001: A"


def test_vector9_duplicate_live_copies_double_every_story_finding(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "stories/US0001-a.md": doc("US0001: A", Status="Draft"),
        "stories/old/US0001-a.md": doc("US0001: A", Status="Draft"),
    }
    report = health(client, project(client, tmp_path, "twice", files))
    counts = Counter(rules(report))
    assert counts["DUPLICATE_DOC_ID"] == 1
    for rule in ("MISSING_PLAN", "MISSING_TEST_SPEC", "STORY_NO_EPIC", "MISSING_OWNER"):
        assert counts[rule] == 2, rule


# --- §15.5: the improvements ---------------------------------------------------------------


def test_stale_is_measured_from_the_last_sync_that_saw_the_file(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree(tmp_path / "seen", {"prd.md": doc("PRD"), "trd.md": doc("TRD")})
    slug = register(client, "Seen", root)["slug"]
    sync(client, slug)
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="microseconds")
    # As if the files were written by a sync 40 days ago and never changed since.
    execute(client, "UPDATE documents SET synced_at = ?", long_ago)
    execute(client, "UPDATE projects SET last_synced_at = ?", long_ago)
    assert rules(health(client, slug)) == ["STALE_DOCUMENT", "STALE_DOCUMENT"]

    sync(client, slug)  # nothing changed: no row is rewritten ...
    detail = client.get(f"/api/v1/projects/{slug}/documents/prd/prd").json()
    assert detail["synced_at"] == long_ago
    assert rules(health(client, slug)) == []  # ... yet both files were just seen

    deny_reading(monkeypatch, "trd.md")
    os.utime(root / "trd.md")  # make the sync open it
    assert sync(client, slug)["sync_status"] == "error"
    assert rules(health(client, slug)) == []  # seen by the sync before this one
    sync(client, slug)  # still unreadable: still seen no later than that sync
    execute(client, "UPDATE projects SET last_synced_at = ?", datetime.now(UTC).isoformat())
    execute(
        client,
        "UPDATE documents SET last_seen_at = ? WHERE last_seen_at IS NOT NULL",
        long_ago,
    )
    [stale] = findings_of(health(client, slug), "STALE_DOCUMENT")
    assert affected(stale) == ["trd"]
    monkeypatch.undo()  # readable again
    os.utime(root / "trd.md")
    sync(client, slug)
    assert rules(health(client, slug)) == []


def test_references_match_aliases_and_stored_ulid_ids(client: TestClient, tmp_path: Path) -> None:
    files = {
        "prd.md": doc("PRD"),
        "trd.md": doc("TRD"),
        "epics/EP0001-e.md": doc("EP0001: E", Status="Draft", Owner="Ann", Aliases="EP0100"),
        # Named by its alias only.
        "stories/US0002-b.md": story("US0002: B", Epic="EP0100", Aliases="US0100"),
        "plans/PL0001-p.md": doc("PL0001: P", Status="Draft", Story="US0100"),
        "test-specs/TS0001-t.md": doc("TS0001: T", Status="Draft", Story="[[US-0100]]"),
        # A ULID id whose tail starts with four digits must not be cut to US0123.
        "stories/US-0123ABCD-u.md": story("US-0123ABCD: U", Epic="EP0001"),
        "plans/PL0002-u.md": doc("PL0002: U", Status="Draft", Story="US-0123ABCD"),
        "test-specs/TS0002-u.md": doc("TS0002: U", Status="Draft", Story="US-0123ABCD"),
    }
    report = health(client, project(client, tmp_path, "aliases", files))
    assert report["findings"] == []


def test_orphan_references_name_the_stored_value(client: TestClient, tmp_path: Path) -> None:
    files = {"plans/PL0001-p.md": doc("PL0001: P", Status="Draft", Epic="EP-0009", Story="US0009")}
    report = health(client, project(client, tmp_path, "orphans", files))
    orphans = findings_of(report, "ORPHAN_REFERENCE")
    assert [f["message"] for f in orphans] == [
        "Document 'PL0001: P' references non-existent epic 'EP0009'.",
        "Document 'PL0001: P' references non-existent story 'US0009'.",
    ]
    assert orphans[1]["suggested_fix"] == (
        "Update the story reference in PL0001-p to point to an existing story, or create story "
        "US0009."
    )


def test_wording_names_types_statuses_and_counts_as_they_are(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "epics/EP0001-e.md": doc("EP0001: E", Status="Complete", Owner="Ann"),
        "stories/US0001-s.md": story("US0001: S", Epic="EP0001", Status="Done"),
        "stories/US0002-s.md": story("US0002: Open", Epic="EP0001"),
        "test-specs/TS0001-t.md": doc("TS0001: T", Status="Draft", Story="US0001"),
        "change-requests/CR0001-c.md": doc("CR0001: C", Status="Proposed", Story="US0001"),
    }
    report = health(client, project(client, tmp_path, "wording", files))
    [mismatch] = findings_of(report, "STATUS_MISMATCH")
    assert mismatch["message"] == (
        "Epic 'EP0001: E' is marked Complete but has 1 incomplete child story."
    )
    assert "update the incomplete story under EP0001-e" in mismatch["suggested_fix"]
    stale = findings_of(report, "STALE_ARTEFACT_STATUS")
    assert [f["message"] for f in stale] == [
        "CR 'CR0001: C' is 'Proposed' but its story is 'Done'.",
        "Test-spec 'TS0001: T' is 'Draft' but its story is 'Done'.",
    ]
    assert [f["suggested_fix"] for f in stale] == [
        "Update the status of CR0001-c to Complete to match its completed story.",
        "Update the status of TS0001-t to Complete to match its completed story.",
    ]


def test_archived_copies_and_records_are_exempt(client: TestClient, tmp_path: Path) -> None:
    files = {
        "prd.md": doc("PRD"),
        "trd.md": doc("TRD"),
        "decisions.md": doc("Decisions"),
        "constitution.md": doc("Constitution"),
        "retros/RETRO0001-r.md": doc("RETRO0001: R"),
        "archive/PL0009-old-plan.md": doc("PL0009: Old plan", Status="Draft"),
        "archive/EP0009-old-epic.md": doc("EP0009: Old epic", Status="Done"),
        "archive/US0009-old-story.md": doc("US0009: Old story", Status="Draft", Epic="EP0009"),
        "_US0008-retired.md": doc("US0008: Retired"),
    }
    report = health(client, project(client, tmp_path, "exempt", files))
    assert report["findings"] == []


def test_epic_named_in_the_body_counts_everywhere(client: TestClient, tmp_path: Path) -> None:
    files = {
        "prd.md": doc("PRD"),
        "trd.md": doc("TRD"),
        "epics/EP0001-e.md": doc("EP0001: E", Status="Draft", Owner="Ann"),
        "stories/US0001-s.md": story("US0001: S", body=f"**Epic:** EP0001\n\n{FILLER}"),
        "plans/PL0001-p.md": doc("PL0001: P", Status="Draft", Story="US0001"),
        "test-specs/TS0001-t.md": doc(
            "TS0001: T", body=f"**Epic:** EP0001\n\n{FILLER}", Status="Draft"
        ),
    }
    # No STORY_NO_EPIC, TEST_SPEC_NO_STORY, EPIC_NO_STORIES or MISSING_TEST_SPEC.
    assert health(client, project(client, tmp_path, "bodies", files))["findings"] == []


def test_documents_sharing_an_id_head_are_reported(client: TestClient, tmp_path: Path) -> None:
    files = {
        "epics/EP0001-alpha.md": doc("EP0001: Alpha", Status="Draft", Owner="Ann"),
        "epics/EP0001-beta.md": doc("EP0001: Beta", Status="Draft", Owner="Ann"),
    }
    report = health(client, project(client, tmp_path, "shared", files))
    [shared] = findings_of(report, "DUPLICATE_DOC_ID")
    assert (
        shared["message"] == "Multiple documents share the id 'EP0001': EP0001-alpha, EP0001-beta."
    )
    assert affected(shared) == ["EP0001-alpha", "EP0001-beta"]
    assert shared["severity"] == "critical"


def test_documents_are_in_file_path_order_within_a_rule(client: TestClient, tmp_path: Path) -> None:
    files = {
        "stories/b/US0001-x.md": story("US0001: X", Epic="EP0001"),
        "stories/a/US0002-y.md": story("US0002: Y", Epic="EP0001"),
    }
    report = health(client, project(client, tmp_path, "order", files))
    assert [affected(f) for f in findings_of(report, "MISSING_PLAN")] == [
        ["US0002-y"],
        ["US0001-x"],
    ]


def test_two_statements_and_no_document_text_per_check(client: TestClient, tmp_path: Path) -> None:
    slug = project(client, tmp_path, "cheap", E2E_FILES)
    with recorded_statements(client.app.state.engine) as statements:  # type: ignore[attr-defined]
        health(client, slug)
    reads = [sql for sql, _params in statements if sql.startswith("SELECT")]
    assert len(reads) == 2
    assert not any(re.search(r"\bcontent\b(?!_)", sql) for sql in reads)


def test_files_the_walk_could_not_see_keep_when_they_were_last_seen(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"prd.md": doc("PRD"), "trd.md": doc("TRD"), "notes/a.md": doc("A", Status="Draft")}
    slug = project(client, tmp_path, "folders", files)
    first = client.get(f"/api/v1/projects/{slug}").json()["last_synced_at"]
    real_walk = folder_source.walk_project

    def notes_unreadable(root: str, *args: Any) -> Any:
        walk = real_walk(root, *args)
        walk.files = {path: st for path, st in walk.files.items() if not path.startswith("notes/")}
        walk.unreadable_dirs.append("notes")
        del walk.files["trd.md"]
        walk.problems["trd.md"] = "cannot be examined"  # a file the walk could not stat
        return walk

    monkeypatch.setattr(folder_source, "walk_project", notes_unreadable)
    assert sync(client, slug)["sync_status"] == "error"
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        seen = dict(conn.exec_driver_sql("SELECT file_path, last_seen_at FROM documents").all())
    assert seen == {"prd.md": None, "trd.md": first, "notes/a.md": first}


def test_openapi_documents_the_response_and_the_404(client: TestClient, tmp_path: Path) -> None:
    schema = client.get("/openapi.json").json()
    get = schema["paths"]["/api/v1/projects/{slug}/health-check"]["get"]
    ok = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/HealthCheck"}
    assert "404" in get["responses"]
    finding = schema["components"]["schemas"]["Finding"]["properties"]
    assert finding["severity"]["enum"] == ["critical", "high", "medium", "low"]
    assert finding["category"]["enum"] == ["completeness", "consistency", "quality", "integrity"]
    # What is sent is what the schema says (responses skip re-validation on the way out).
    report = health(client, project(client, tmp_path, "schema", E2E_FILES))
    assert HealthCheck.model_validate(report).model_dump() == report


RULE_TABLE = [
    ("MISSING_PRD", "critical", "completeness"),
    ("MISSING_TRD", "high", "completeness"),
    ("MISSING_PLAN", "medium", "completeness"),
    ("MISSING_TEST_SPEC", "medium", "completeness"),
    ("EPIC_NO_STORIES", "high", "completeness"),
    ("STORY_NO_EPIC", "high", "consistency"),
    ("PLAN_NO_STORY", "medium", "consistency"),
    ("TEST_SPEC_NO_STORY", "medium", "consistency"),
    ("ORPHAN_REFERENCE", "medium", "consistency"),
    ("STATUS_MISMATCH", "low", "consistency"),
    ("STALE_ARTEFACT_STATUS", "low", "consistency"),
    ("UNTRIAGED_INBOX", "low", "consistency"),
    ("MISSING_STATUS", "high", "quality"),
    ("MISSING_OWNER", "medium", "quality"),
    ("MISSING_PRIORITY", "low", "quality"),
    ("MISSING_STORY_POINTS", "low", "quality"),
    ("DUPLICATE_DOC_ID", "critical", "integrity"),
    ("EMPTY_CONTENT", "high", "integrity"),
    ("STALE_DOCUMENT", "low", "integrity"),
]


def test_every_rule_fires_with_its_severity_and_category_in_table_order(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "epics/EP0001-done.md": doc("EP0001: Done", Status="Done", Owner="Ann"),
        "epics/EP0002-empty.md": doc("EP0002: No stories", Status="Draft", Owner="Ann"),
        "stories/US0001-open.md": doc("US0001: Open", Status="Draft", Epic="EP0001"),
        "stories/US0002-orphan.md": story("US0002: No epic"),
        "stories/US0003-done.md": story("US0003: Done", Status="Done", Epic="EP0001"),
        "plans/PL0001-loose.md": doc("PL0001: Loose", Status="Draft", Epic="EP0099"),
        "plans/PL0002-behind.md": doc("PL0002: Behind", Status="Draft", Story="US0003"),
        "test-specs/TS0001-loose.md": doc("TS0001: Loose", Status="Draft"),
        "bugs/BG0001-new.md": doc("BG0001: New", Status="inbox"),
        "notes/no-status.md": doc("No status"),
        "notes/stub.md": doc("Stub", body="Too short.", Status="Draft"),
        "other/stub.md": doc("Stub again", Status="Draft"),
    }
    slug = project(client, tmp_path, "all-rules", files)
    later = datetime.now(UTC) + timedelta(days=31)  # every document is then a month old
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        report = check_project(conn, slug, later)
    seen = list(
        dict.fromkeys((f["rule_id"], f["severity"], f["category"]) for f in report["findings"])
    )
    assert seen == RULE_TABLE
    summary = Counter(f["severity"] for f in report["findings"])
    assert report["summary"] == {
        severity: summary[severity] for severity in ("critical", "high", "medium", "low")
    }
    penalty = (
        15 * summary["critical"] + 5 * summary["high"] + 2 * summary["medium"] + summary["low"]
    )
    assert report["score"] == max(0, 100 - penalty)
