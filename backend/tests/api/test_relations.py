"""Relationships (SPEC-2 §14): the fixture answers, test vectors 2-3 and the §14.6 decisions."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.api.schemas.relations import DocumentRelationships
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.fixtures import E2E_FILES, PRD_AFTER_TITLE, US0001_BODY
from tests.helpers import (
    assert_error,
    markdown,
    migrate,
    recorded_statements,
    register,
    sync,
    synced_project,
    wait_until_runner_idle,
    write_tree,
)

E2E = "/api/v1/projects/e2e-test-project/documents"


def related(client: TestClient, slug: str, doc_type: str, doc_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/projects/{slug}/documents/{doc_type}/{doc_id}/related")
    assert response.status_code == 200, response.text
    return response.json()


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["doc_id"] for item in items]


def item(doc_id: str, doc_type: str, title: str, status: str | None) -> dict[str, Any]:
    return {"doc_id": doc_id, "type": doc_type, "title": title, "status": status}


doc = markdown


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app with the e2e fixture project synced, shared by the read-only tests below."""
    root = tmp_path_factory.mktemp("relations")
    url = f"sqlite:///{root / 'lens.db'}"
    migrate(url)
    with TestClient(create_app(Settings(database_url=url, log_level="DEBUG"))) as client:
        register(client, "E2E Test Project", write_tree(root / "e2e", E2E_FILES))
        assert sync(client, "e2e-test-project")["sync_status"] == "synced"
        yield client


# --- §13: the fixture's bodies (test vector 1) ---------------------------------------------


def test_vector1_fixture_story_detail_and_body(e2e: TestClient) -> None:
    story = e2e.get(f"{E2E}/story/US0001-create-widget").json()
    assert (story["title"], story["epic"], story["story"]) == (
        "US0001: Create Widget",
        "EP0001",
        None,
    )
    # §13.3 row 1: the reference's content minus its leading newline.
    assert story["content"] == US0001_BODY
    assert story["content"].startswith("## User Story\n\n**As a** platform user\n")
    assert story["content"].endswith("409 Conflict\n")


def test_vector1_fixture_prd_body_keeps_its_key_lines(e2e: TestClient) -> None:
    # §13.3 row 2: no quote block; the `**Key:** value` lines stay, only the title goes.
    prd = e2e.get(f"{E2E}/prd/prd").json()
    assert prd["content"] == PRD_AFTER_TITLE
    assert prd["content"].startswith("**Project:** Widget Platform\n**Version:** 1.0.0\n")


# --- §14.5: the fixture answers (test vector 2) --------------------------------------------

EP0001 = item("EP0001-alpha-feature", "epic", "EP0001: Alpha Feature", "Done")
US0001 = item("US0001-create-widget", "story", "US0001: Create Widget", "Done")


def test_vector2_us0001_exactly(e2e: TestClient) -> None:
    assert related(e2e, "e2e-test-project", "story", "US0001-create-widget") == {
        "doc_id": "US0001-create-widget",
        "type": "story",
        "title": "US0001: Create Widget",
        "parents": [EP0001],
        "children": [
            item(
                "PL0001-create-widget-plan",
                "plan",
                "PL0001: Create Widget - Implementation Plan",
                "Complete",
            )
        ],
        "depends_on": [],
        "dependents": [],
    }


def test_vector2_ep0001_exactly(e2e: TestClient) -> None:
    assert related(e2e, "e2e-test-project", "epic", "EP0001-alpha-feature") == {
        "doc_id": "EP0001-alpha-feature",
        "type": "epic",
        "title": "EP0001: Alpha Feature",
        "parents": [],
        "children": [
            US0001,
            item("US0002-update-widget", "story", "US0002: Update Widget", "Done"),
            item("TS0001-create-widget-tests", "test-spec", "TS0001: Create Widget Tests", "Draft"),
        ],
        "depends_on": [],
        "dependents": [],
    }


def test_vector2_plan_has_story_then_epic_and_no_children(e2e: TestClient) -> None:
    plan = related(e2e, "e2e-test-project", "plan", "PL0001-create-widget-plan")
    assert plan["parents"] == [US0001, EP0001]
    assert plan["children"] == []


def test_vector2_test_spec_naming_only_an_epic_is_the_epics_child(e2e: TestClient) -> None:
    spec = related(e2e, "e2e-test-project", "test-spec", "TS0001-create-widget-tests")
    assert spec["parents"] == [EP0001]
    # Its text mentions US0001, but only front matter makes relationships.
    story = related(e2e, "e2e-test-project", "story", "US0001-create-widget")
    assert "TS0001-create-widget-tests" not in ids(story["children"])


def test_vector2_ep0002_children(e2e: TestClient) -> None:
    epic = related(e2e, "e2e-test-project", "epic", "EP0002-beta-feature")
    assert ids(epic["children"]) == ["US0003-widget-api", "US0004-widget-tests"]


def test_vector2_prd_has_no_relationships(e2e: TestClient) -> None:
    assert related(e2e, "e2e-test-project", "prd", "prd") == {
        "doc_id": "prd",
        "type": "prd",
        "title": "Product Requirements Document",
        "parents": [],
        "children": [],
        "depends_on": [],
        "dependents": [],
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"{E2E}/story/US0001/related", "Document not found: story/US0001"),
        (
            f"{E2E}/epic/US0001-create-widget/related",
            "Document not found: epic/US0001-create-widget",
        ),
        ("/api/v1/projects/nope/documents/story/US0001-create-widget/related", "Project not found"),
    ],
)
def test_vector2_not_found(e2e: TestClient, path: str, message: str) -> None:
    assert_error(e2e.get(path), 404, "NOT_FOUND", message)


def test_related_is_routed_before_the_document_detail(e2e: TestClient) -> None:
    # The schema lists routes in the order they are matched.
    paths = list(e2e.get("/openapi.json").json()["paths"])
    detail = paths.index("/api/v1/projects/{slug}/documents/{doc_type}/{doc_id}")
    assert paths.index("/api/v1/projects/{slug}/documents/{doc_type}/{doc_id}/related") < detail
    assert "parents" in e2e.get(f"{E2E}/story/US0001-create-widget/related").json()


# --- test vector 3 -------------------------------------------------------------------------

VECTOR3 = {
    "epics/EP0001-a.md": doc("EP0001: A", Status="Done"),
    "stories/US0001-a.md": doc("US0001: A", Epic="[EP0001: A](x)"),
    "stories/US0002-b.md": doc(
        "US0002: B", Epic="EP-0001", Depends_on="US0003, US0001, US9999, US0001", Aliases="US0100"
    ),
    "stories/US0003-c.md": doc("US0003: C", Epic="US0001"),
    "bugs/BG0002-d.md": doc("BG0002: D", Epic="EP0001"),
    "epics/EP0002-e.md": doc("EP0002: E", Epic="EP0001"),
    "plans/PL0001-story-and-epic.md": doc("PL0001: F", Story="US0001", Epic="EP0002"),
    "plans/PL0003-alias.md": doc("PL0003: G", Story="[[US-0100]]"),
}
MISSING_STORY_PLAN = {
    "plans/PL0002-missing-story.md": doc("PL0002: H", Story="US9999", Epic="EP0001")
}


@pytest.fixture
def vector3(client: TestClient, tmp_path: Path) -> str:
    return synced_project(client, tmp_path, "vector3", VECTOR3)


def test_vector3_epic_children_are_every_type_naming_it_without_a_story(
    client: TestClient, vector3: str
) -> None:
    epic = related(client, vector3, "epic", "EP0001-a")
    assert ids(epic["children"]) == ["BG0002-d", "EP0002-e", "US0001-a", "US0002-b"]


def test_vector3_depends_on_in_declared_order_without_repeats_or_dangling_ids(
    client: TestClient, vector3: str
) -> None:
    story = related(client, vector3, "story", "US0002-b")
    assert ids(story["depends_on"]) == ["US0003-c", "US0001-a"]
    assert ids(related(client, vector3, "story", "US0001-a")["dependents"]) == ["US0002-b"]
    assert ids(related(client, vector3, "story", "US0003-c")["dependents"]) == ["US0002-b"]


def test_vector3_cross_type_epic_and_its_exact_inverse(client: TestClient, vector3: str) -> None:
    assert ids(related(client, vector3, "story", "US0003-c")["parents"]) == ["US0001-a"]
    # §14.6 asymmetry fixed: US0001 lists US0003 (and the plan naming it as its story).
    children = related(client, vector3, "story", "US0001-a")["children"]
    assert ids(children) == ["PL0001-story-and-epic", "US0003-c"]


def test_vector3_story_wins_over_the_plans_own_epic(client: TestClient, vector3: str) -> None:
    plan = related(client, vector3, "plan", "PL0001-story-and-epic")
    assert ids(plan["parents"]) == ["US0001-a", "EP0001-a"]
    # Its own `Epic: EP0002` is ignored, so EP0002 does not list it either.
    assert related(client, vector3, "epic", "EP0002-e")["children"] == []


def test_vector3_story_named_by_alias_and_its_exact_inverse(
    client: TestClient, vector3: str
) -> None:
    assert ids(related(client, vector3, "plan", "PL0003-alias")["parents"]) == [
        "US0002-b",
        "EP0001-a",
    ]
    assert ids(related(client, vector3, "story", "US0002-b")["children"]) == ["PL0003-alias"]


def test_vector3_missing_story_falls_back_to_the_own_epic(
    client: TestClient, tmp_path: Path
) -> None:
    slug = synced_project(client, tmp_path, "fallback", {**VECTOR3, **MISSING_STORY_PLAN})
    plan = related(client, slug, "plan", "PL0002-missing-story")
    # Reference answers [] (upstream TC0366); we follow §14.6's SHOULD so the epic is not lost.
    assert ids(plan["parents"]) == ["EP0001-a"]
    # ... and the epic's children stay the exact inverse of the parents.
    epic = related(client, slug, "epic", "EP0001-a")
    assert ids(epic["children"]) == [
        "BG0002-d",
        "EP0002-e",
        "PL0002-missing-story",
        "US0001-a",
        "US0002-b",
    ]


def test_vector3_self_references_give_nothing(client: TestClient, tmp_path: Path) -> None:
    files = {"epics/EP0001-solo.md": doc("EP0001: Solo", Epic="EP0001", Depends_on="EP0001")}
    slug = synced_project(client, tmp_path, "solo", files)
    answer = related(client, slug, "epic", "EP0001-solo")
    assert [answer[key] for key in ("parents", "children", "depends_on", "dependents")] == [
        [],
        [],
        [],
        [],
    ]


# --- §14.6: ambiguity and duplicates -------------------------------------------------------


def test_colliding_ids_resolve_to_the_live_copy_and_only_it_lists_the_child(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        # The archive copy sorts first by path and was the reference's (arbitrary) answer.
        "archive/EP0001-beta.md": doc("EP0001: Beta (old)", Status="Done"),
        "epics/EP0001-alpha.md": doc("EP0001: Alpha", Status="Draft"),
        "stories/US0001-a.md": doc("US0001: A", Epic="EP0001"),
    }
    slug = synced_project(client, tmp_path, "collide", files)
    assert ids(related(client, slug, "story", "US0001-a")["parents"]) == ["EP0001-alpha"]
    assert ids(related(client, slug, "epic", "EP0001-alpha")["children"]) == ["US0001-a"]
    assert related(client, slug, "epic", "EP0001-beta")["children"] == []


def test_colliding_live_ids_resolve_to_the_smallest_path(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "epics/EP0001-beta.md": doc("EP0001: Beta"),
        "epics/EP0001-alpha.md": doc("EP0001: Alpha"),
        "stories/US0001-a.md": doc("US0001: A", Epic="EP0001"),
    }
    slug = synced_project(client, tmp_path, "smallest", files)
    assert ids(related(client, slug, "story", "US0001-a")["parents"]) == ["EP0001-alpha"]
    assert related(client, slug, "epic", "EP0001-beta")["children"] == []


def test_own_key_beats_alias_and_the_fields_type_breaks_alias_ties(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "stories/US0100-real.md": doc("US0100: Real", Epic="EP0009"),
        "stories/US0002-b.md": doc("US0002: B", Aliases="US0100, US0200"),
        "epics/EP0003-c.md": doc("EP0003: C", Aliases="US0200"),
        "plans/PL0001-own-key.md": doc("PL0001: By key", Story="US0100"),
        "plans/PL0002-story-alias.md": doc("PL0002: By alias", Story="US0200"),
        "plans/PL0003-epic-alias.md": doc("PL0003: By alias", Epic="US0200"),
    }
    slug = synced_project(client, tmp_path, "ranked", files)
    assert ids(related(client, slug, "plan", "PL0001-own-key")["parents"]) == ["US0100-real"]
    # US0200 is an alias of a story and of an epic: a Story field takes the story ...
    assert ids(related(client, slug, "plan", "PL0002-story-alias")["parents"]) == ["US0002-b"]
    # ... and an Epic field the epic.
    assert ids(related(client, slug, "plan", "PL0003-epic-alias")["parents"]) == ["EP0003-c"]
    assert ids(related(client, slug, "epic", "EP0003-c")["children"]) == ["PL0003-epic-alias"]
    assert ids(related(client, slug, "story", "US0002-b")["children"]) == ["PL0002-story-alias"]


def test_duplicate_type_and_id_answer_from_the_copy_the_detail_shows(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "archive/stories/US0001-a.md": doc("US0001: Old", Epic="EP0002"),
        "stories/US0001-a.md": doc("US0001: Current", Epic="EP0001"),
        "epics/EP0001-one.md": doc("EP0001: One"),
        "epics/EP0002-two.md": doc("EP0002: Two"),
        "plans/PL0001-p.md": doc("PL0001: P", Story="US0001"),
    }
    slug = synced_project(client, tmp_path, "dupes", files)
    base = f"/api/v1/projects/{slug}/documents/story/US0001-a"
    detail = client.get(base).json()
    answer = related(client, slug, "story", "US0001-a")
    assert detail["title"] == answer["title"] == "US0001: Current"
    assert ids(answer["parents"]) == ["EP0001-one"]
    assert ids(answer["children"]) == ["PL0001-p"]
    # The archived copy is no one's parent or child: each (type, doc_id) is listed once.
    assert ids(related(client, slug, "epic", "EP0001-one")["children"]) == ["US0001-a"]
    assert related(client, slug, "epic", "EP0002-two")["children"] == []
    assert ids(related(client, slug, "plan", "PL0001-p")["parents"]) == ["US0001-a", "EP0001-one"]


# --- stored links: kept in step with the files, resolved per request -----------------------


def link_count(client: TestClient, slug: str) -> int:
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.exec_driver_sql(
            "SELECT count(*) FROM document_links JOIN projects p ON p.id = project_id "
            "WHERE p.slug = ?",
            (slug,),
        ).scalar_one()


def synced_at(client: TestClient, slug: str, doc_type: str, doc_id: str) -> str:
    return client.get(f"/api/v1/projects/{slug}/documents/{doc_type}/{doc_id}").json()["synced_at"]


def test_a_new_epic_is_found_without_reparsing_its_stories(
    client: TestClient, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "late", {"stories/US0001-a.md": doc("US0001: A", Epic="EP0009")})
    register(client, "Late", root)
    sync(client, "late")
    assert related(client, "late", "story", "US0001-a")["parents"] == []
    before = synced_at(client, "late", "story", "US0001-a")
    write_tree(root, {"epics/EP0009-new.md": doc("EP0009: New")})
    sync(client, "late")
    assert synced_at(client, "late", "story", "US0001-a") == before  # not re-parsed
    assert ids(related(client, "late", "story", "US0001-a")["parents"]) == ["EP0009-new"]
    assert ids(related(client, "late", "epic", "EP0009-new")["children"]) == ["US0001-a"]


def test_links_follow_edits_deletes_and_project_deletion(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "epics/EP0001-a.md": doc("EP0001: A"),
        "epics/EP0002-b.md": doc("EP0002: B"),
        "stories/US0001-a.md": doc("US0001: A", Epic="EP0001"),
        "stories/US0002-b.md": doc("US0002: B", Epic="EP0001", Depends_on="US0001"),
    }
    root = write_tree(tmp_path / "edits", files)
    register(client, "Edits", root)
    sync(client, "edits")
    # Own keys 4, epics 2, depends on 1.
    assert link_count(client, "edits") == 7
    untouched = synced_at(client, "edits", "story", "US0002-b")

    write_tree(root, {"stories/US0001-a.md": doc("US0001: A", Epic="EP0002")})
    sync(client, "edits")
    assert ids(related(client, "edits", "epic", "EP0001-a")["children"]) == ["US0002-b"]
    assert ids(related(client, "edits", "epic", "EP0002-b")["children"]) == ["US0001-a"]
    assert synced_at(client, "edits", "story", "US0002-b") == untouched
    assert link_count(client, "edits") == 7

    (root / "stories/US0001-a.md").unlink()
    sync(client, "edits")
    assert related(client, "edits", "epic", "EP0002-b")["children"] == []
    assert related(client, "edits", "story", "US0002-b")["depends_on"] == []
    assert link_count(client, "edits") == 5

    assert client.delete("/api/v1/projects/edits").status_code == 204
    assert link_count(client, "edits") == 0
    wait_until_runner_idle(client)  # the deleted project's rows are removed in the background
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.exec_driver_sql("SELECT count(*) FROM document_links").scalar_one() == 0


def statements_per_request(client: TestClient, path: str) -> list[tuple[str, Any]]:
    """The SQL reads one request runs."""
    with recorded_statements(client.app.state.engine) as seen:  # type: ignore[attr-defined]
        assert client.get(path).status_code == 200
    return [(sql, params) for sql, params in seen if sql.startswith("SELECT")]


def test_one_request_is_a_few_indexed_reads_whatever_the_project_size(
    client: TestClient, tmp_path: Path
) -> None:
    def tree(stories: int) -> dict[str, str]:
        files = {"epics/EP0001-a.md": doc("EP0001: A")}
        for n in range(1, stories + 1):
            files[f"stories/US{n:04d}-s.md"] = doc(f"US{n:04d}: S", Epic="EP0001")
            files[f"plans/PL{n:04d}-p.md"] = doc(f"PL{n:04d}: P", Story=f"US{n:04d}")
        return files

    counts = []
    for stories in (2, 150):
        slug = synced_project(client, tmp_path, f"size{stories}", tree(stories))
        for doc_type, doc_id in (("epic", "EP0001-a"), ("plan", "PL0002-p")):
            path = f"/api/v1/projects/{slug}/documents/{doc_type}/{doc_id}/related"
            statements = statements_per_request(client, path)
            counts.append(len(statements))
            with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
                for sql, params in statements:
                    plan = [
                        row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                    ]
                    # Tables are reached through indexes; only json_each (the key list) is scanned.
                    scans = [
                        step for step in plan if step.startswith("SCAN") and "json_each" not in step
                    ]
                    assert scans == [], (sql, plan)
    assert max(counts) <= 3
    assert counts[:2] == counts[2:]  # the same statements for 2 or 150 stories


def test_openapi_documents_the_response_and_the_404(e2e: TestClient) -> None:
    schema = e2e.get("/openapi.json").json()
    get = schema["paths"]["/api/v1/projects/{slug}/documents/{doc_type}/{doc_id}/related"]["get"]
    ok = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/DocumentRelationships"}
    assert "404" in get["responses"]
    model = schema["components"]["schemas"]["DocumentRelationships"]
    assert set(model["required"]) == {
        "doc_id", "type", "title", "parents", "children", "depends_on", "dependents"
    }  # fmt: skip
    # What is sent is what the schema says (responses skip re-validation on the way out).
    answer = related(e2e, "e2e-test-project", "plan", "PL0001-create-widget-plan")
    assert DocumentRelationships.model_validate(answer).model_dump() == answer
