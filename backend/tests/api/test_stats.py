"""Statistics (SPEC §11), recomputed independently from the documents list."""

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.helpers import assert_error, register, sync

# SPEC §11: terminal stories are Done, Won't Implement, Superseded (and Complete, for all).
TERMINAL_STORY = {"Done", "Won't Implement", "Superseded", "Complete"}


def documents_of(client: TestClient, slug: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get(
            f"/api/v1/projects/{slug}/documents", params={"page": page, "per_page": 100}
        ).json()
        items.extend(body["items"])
        if page >= body["pages"]:
            return items
        page += 1


def expected_counts(items: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int], int, int]:
    """by_type, by_status, stories, terminal stories, from list items alone."""
    by_type = Counter(item["type"] for item in items)
    by_status = Counter("null" if item["status"] is None else item["status"] for item in items)
    stories = [item for item in items if item["type"] == "story"]
    terminal = sum(1 for item in stories if item["status"] in TERMINAL_STORY)
    return dict(by_type), dict(by_status), len(stories), terminal


def write_stories(
    root: Path, statuses: list[str | None], extra: dict[str, str] | None = None
) -> Path:
    root.mkdir(parents=True)
    (root / "stories").mkdir()
    for n, status in enumerate(statuses, start=1):
        line = f"> **Status:** {status}\n" if status is not None else "> **Owner:** x\n"
        (root / "stories" / f"US{n:04d}-s.md").write_text(f"# US{n:04d}: S\n\n{line}\nBody.\n")
    for rel_path, text in (extra or {}).items():
        (root / rel_path).parent.mkdir(parents=True, exist_ok=True)
        (root / rel_path).write_text(text)
    return root


@pytest.mark.parametrize("slug", ["recipe-box", "garden-monitor"])
def test_project_stats_match_the_documents_list(corpus: TestClient, slug: str) -> None:
    items = documents_of(corpus, slug)
    by_type, by_status, stories, terminal = expected_counts(items)
    stats = corpus.get(f"/api/v1/projects/{slug}/stats").json()
    assert stats["slug"] == slug
    assert stats["total_documents"] == len(items) > 0
    assert stats["by_type"] == by_type
    assert stats["by_status"] == by_status
    assert stats["completion_percentage"] == round(100 * terminal / stories, 1)
    project = corpus.get(f"/api/v1/projects/{slug}").json()
    assert stats["name"] == project["name"]
    assert stats["last_synced_at"] == project["last_synced_at"] is not None


def test_sample_project_figures(corpus: TestClient) -> None:
    # Known values of the generated projects, so a wrong recomputation cannot hide.
    stats = corpus.get("/api/v1/projects/recipe-box/stats").json()
    assert stats["total_documents"] == 38
    assert stats["by_type"]["story"] == 12
    assert stats["by_status"] == {"Done": 18, "Complete": 16, "Approved": 2, "null": 2}
    assert stats["completion_percentage"] == 100.0
    stats = corpus.get("/api/v1/projects/garden-monitor/stats").json()
    assert (stats["total_documents"], stats["by_type"]["story"]) == (33, 15)
    assert stats["completion_percentage"] == 0.0


def test_global_stats_are_sums_and_weighted(corpus: TestClient) -> None:
    per_project = {slug: documents_of(corpus, slug) for slug in ("recipe-box", "garden-monitor")}
    everything = [item for items in per_project.values() for item in items]
    by_type, by_status, stories, terminal = expected_counts(everything)
    stats = corpus.get("/api/v1/stats").json()
    assert set(stats) == {
        "total_projects",
        "total_documents",
        "by_type",
        "by_status",
        "completion_percentage",
        "projects",
    }
    assert stats["total_projects"] == 2
    assert stats["total_documents"] == len(everything)
    assert stats["by_type"] == by_type
    assert stats["by_status"] == by_status
    assert stats["completion_percentage"] == round(100 * terminal / stories, 1)
    assert [p["slug"] for p in stats["projects"]] == ["recipe-box", "garden-monitor"]
    for line in stats["projects"]:
        assert set(line) == {
            "slug",
            "name",
            "total_documents",
            "completion_percentage",
            "last_synced_at",
        }
        own = corpus.get(f"/api/v1/projects/{line['slug']}/stats").json()
        for key in line:
            assert line[key] == own[key]


def test_unknown_project_is_404(client: TestClient) -> None:
    assert_error(client.get("/api/v1/projects/nope/stats"), 404, "NOT_FOUND", "Project not found")


def test_no_projects(client: TestClient) -> None:
    assert client.get("/api/v1/stats").json() == {
        "total_projects": 0,
        "total_documents": 0,
        "by_type": {},
        "by_status": {},
        "completion_percentage": 0.0,
        "projects": [],
    }


def test_never_synced_project_has_zeros(client: TestClient, tmp_path: Path) -> None:
    register(client, "Fresh", tmp_path)
    stats = client.get("/api/v1/projects/fresh/stats").json()
    assert stats == {
        "slug": "fresh",
        "name": "Fresh",
        "total_documents": 0,
        "by_type": {},
        "by_status": {},
        "completion_percentage": 0.0,
        "last_synced_at": None,
    }
    overall = client.get("/api/v1/stats").json()
    assert overall["projects"] == [
        {
            "slug": "fresh",
            "name": "Fresh",
            "total_documents": 0,
            "completion_percentage": 0.0,
            "last_synced_at": None,
        }
    ]


def test_terminal_statuses_and_null_key(client: TestClient, tmp_path: Path) -> None:
    statuses = ["Done", "Superseded", "Won't Implement", "Complete", "Draft", "In Progress", None]
    extra = {
        "epics/EP0001-e.md": "# EP0001: E\n\n> **Status:** Done\n",
        "bugs/BG0001-b.md": "# BG0001: B\n\n> **Status:** Fixed\n",
    }
    register(client, "Mixed", write_stories(tmp_path / "mixed", statuses, extra))
    sync(client, "mixed")
    stats = client.get("/api/v1/projects/mixed/stats").json()
    assert stats["total_documents"] == 9
    assert stats["by_type"] == {"story": 7, "epic": 1, "bug": 1}
    assert stats["by_status"] == {
        "Done": 2,
        "Superseded": 1,
        "Won't Implement": 1,
        "Complete": 1,
        "Draft": 1,
        "In Progress": 1,
        "Fixed": 1,
        "null": 1,
    }
    # 4 of 7 stories are terminal; the Done epic and Fixed bug do not count.
    assert stats["completion_percentage"] == 57.1


def test_rounding_to_one_decimal(client: TestClient, tmp_path: Path) -> None:
    register(client, "Thirds", write_stories(tmp_path / "thirds", ["Done", "Draft", "Draft"]))
    sync(client, "thirds")
    assert client.get("/api/v1/projects/thirds/stats").json()["completion_percentage"] == 33.3


def test_no_stories_means_zero_completion(client: TestClient, tmp_path: Path) -> None:
    root = tmp_path / "epics-only"
    (root / "epics").mkdir(parents=True)
    (root / "epics" / "EP0001-x.md").write_text("# EP0001: X\n\n> **Status:** Done\n")
    register(client, "Epics Only", root)
    sync(client, "epics-only")
    stats = client.get("/api/v1/projects/epics-only/stats").json()
    assert (stats["total_documents"], stats["completion_percentage"]) == (1, 0.0)


def test_global_completion_is_weighted_by_stories(client: TestClient, tmp_path: Path) -> None:
    # 1/3 and 1/1: weighted 2/4 = 50.0, where an average of percentages would say 66.7.
    register(client, "Big", write_stories(tmp_path / "big", ["Done", "Draft", "Draft"]))
    register(client, "Small", write_stories(tmp_path / "small", ["Done"]))
    sync(client, "big")
    sync(client, "small")
    stats = client.get("/api/v1/stats").json()
    assert stats["completion_percentage"] == 50.0
    assert [(p["slug"], p["completion_percentage"]) for p in stats["projects"]] == [
        ("big", 33.3),
        ("small", 100.0),
    ]


def test_projects_are_listed_in_creation_order(client: TestClient, tmp_path: Path) -> None:
    for name in ("Zulu", "Alpha", "Mike"):
        (tmp_path / name).mkdir()
        register(client, name, tmp_path / name)
    slugs = [p["slug"] for p in client.get("/api/v1/stats").json()["projects"]]
    assert slugs == ["zulu", "alpha", "mike"]


def test_statement_count_does_not_grow_with_projects(client: TestClient, tmp_path: Path) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    def statements_for(url: str) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    register(client, "P0", write_stories(tmp_path / "p0", ["Done", "Draft"]))
    sync(client, "p0")
    one_project = statements_for("/api/v1/stats")
    one_project_own = statements_for("/api/v1/projects/p0/stats")
    for n in range(1, 6):
        register(client, f"P{n}", write_stories(tmp_path / f"p{n}", ["Done"] * n + [None]))
        sync(client, f"p{n}")
    assert statements_for("/api/v1/stats") == one_project <= 2
    assert statements_for("/api/v1/projects/p3/stats") == one_project_own <= 2
