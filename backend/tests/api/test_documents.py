"""Document browsing (SPEC §10): list filters, sorting, pagination, limits and the detail view."""

import hashlib
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_error, register, sync, write_tree

DOCS = "/api/v1/projects/recipe-box/documents"

# First `**Status:**` line of a file, with or without the blockquote `>`.
STATUS_LINE = re.compile(r"^>?\s*\*\*Status:\*\*\s*(.+?)\s*$", re.MULTILINE)


SINGLETONS = ("prd", "trd", "tsd", "personas")


def corpus_files(root: Path) -> list[Path]:
    """The files a sync turns into documents: every `.md` except `_index.md`."""
    return sorted(p for p in root.rglob("*.md") if p.name != "_index.md")


def expected_doc_id(path: Path) -> str:
    """SPEC §8.2: singletons are lower-cased, every other doc_id is the stem as it is."""
    return path.stem.lower() if path.stem.lower() in SINGLETONS else path.stem


def all_items(client: TestClient, url: str = DOCS, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page by page (per_page 100, as the frontend does)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get(url, params={**params, "page": page, "per_page": 100}).json()
        items.extend(body["items"])
        if page >= body["pages"]:
            return items
        page += 1


@pytest.fixture(scope="module")
def recipe_box(fixture_tree_paths: dict[str, Path]) -> Path:
    """The files behind the `corpus` fixture's project `recipe-box`."""
    return fixture_tree_paths["recipe-box"]


def story(title: str, status: str | None = "Draft", body: str = "Some text.") -> str:
    status_line = f"> **Status:** {status}\n" if status is not None else ""
    return f"# {title}\n\n{status_line}> **Owner:** team\n\n## Story\n\n{body}\n"


# --- list: defaults and shape ----------------------------------------------------------


def test_list_defaults_return_every_document_without_content(
    corpus: TestClient, recipe_box: Path
) -> None:
    body = corpus.get(DOCS).json()
    expected = len(corpus_files(recipe_box))
    assert expected == 38
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (38, 1, 50, 1)
    assert len(body["items"]) == 38
    # The keys of each item are checked against the response model in test_contract.py.
    assert not any("content" in item for item in body["items"])
    assert {item["doc_id"] for item in body["items"]} == {
        expected_doc_id(p) for p in corpus_files(recipe_box)
    }


def test_list_default_order_is_updated_at_desc_then_doc_id_desc(corpus: TestClient) -> None:
    items = corpus.get(DOCS).json()["items"]
    keys = [(item["updated_at"], item["doc_id"]) for item in items]
    assert keys == sorted(keys, reverse=True)


def test_list_unknown_project_is_404(client: TestClient) -> None:
    assert_error(
        client.get("/api/v1/projects/nope/documents"), 404, "NOT_FOUND", "Project not found"
    )


def test_list_of_a_never_synced_project_is_empty(client: TestClient, tmp_path: Path) -> None:
    register(client, "Fresh", tmp_path)
    body = client.get("/api/v1/projects/fresh/documents").json()
    assert body == {"items": [], "total": 0, "page": 1, "per_page": 50, "pages": 0}


# --- list: filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc_type", "folder"),
    [("story", "stories"), ("epic", "epics"), ("plan", "plans"), ("test-spec", "test-specs")],
)
def test_type_filter_counts_match_the_folders_on_disk(
    corpus: TestClient, recipe_box: Path, doc_type: str, folder: str
) -> None:
    on_disk = len(corpus_files(recipe_box / folder))
    body = corpus.get(DOCS, params={"type": doc_type}).json()
    assert body["total"] == on_disk > 0
    assert {item["type"] for item in body["items"]} == {doc_type}


def test_type_filter_is_exact_and_case_sensitive(corpus: TestClient) -> None:
    assert corpus.get(DOCS, params={"type": "prd"}).json()["total"] == 1
    for unknown in ("Story", "stories", "sto", "nope"):
        body = corpus.get(DOCS, params={"type": unknown}).json()
        assert (body["items"], body["total"], body["pages"]) == ([], 0, 0)


def test_status_filter_counts_match_the_files(corpus: TestClient, recipe_box: Path) -> None:
    on_disk: Counter[str | None] = Counter()
    for path in corpus_files(recipe_box):
        found = STATUS_LINE.search(path.read_text(encoding="utf-8"))
        on_disk[found.group(1) if found else None] += 1
    assert on_disk == Counter({"Done": 18, "Complete": 16, "Approved": 2, None: 2})
    for status, count in on_disk.items():
        body = corpus.get(DOCS, params={"status": status or "none"}).json()
        assert body["total"] == count
        assert {item["status"] for item in body["items"]} == {status}


def test_status_filter_is_exact(corpus: TestClient) -> None:
    for status in ("done", "DONE", "Don", "null", ""):
        assert corpus.get(DOCS, params={"status": status}).json()["total"] == 0


def test_type_and_status_filters_combine(corpus: TestClient) -> None:
    stories = all_items(corpus, type="story")
    done = [s for s in stories if s["status"] == "Done"]
    body = corpus.get(DOCS, params={"type": "story", "status": "Done"}).json()
    assert body["total"] == len(done)
    assert sorted(i["doc_id"] for i in body["items"]) == sorted(s["doc_id"] for s in done)


# --- list: sorting ---------------------------------------------------------------------


def _sort_key(item: dict[str, Any], sort: str) -> tuple[Any, ...]:
    value = item["type" if sort == "type" else sort]
    # SQLite sorts NULL before any text.
    return (value is not None, value or "", item["doc_id"])


@pytest.mark.parametrize("sort", ["title", "type", "status", "updated_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort_and_order(corpus: TestClient, sort: str, order: str) -> None:
    items = corpus.get(DOCS, params={"sort": sort, "order": order, "per_page": 100}).json()["items"]
    assert len(items) == 38
    expected = sorted(items, key=lambda item: _sort_key(item, sort), reverse=order == "desc")
    assert [i["doc_id"] for i in items] == [i["doc_id"] for i in expected]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"sort": "created"}, "query.sort"),
        ({"sort": "TITLE"}, "query.sort"),
        ({"order": "up"}, "query.order"),
        ({"order": "ASC"}, "query.order"),
        ({"page": 0}, "query.page"),
        ({"page": -3}, "query.page"),
        ({"page": "two"}, "query.page"),
        ({"per_page": 0}, "query.per_page"),
        ({"per_page": -1}, "query.per_page"),
        ({"per_page": "many"}, "query.per_page"),
    ],
)
def test_invalid_parameters_are_422_naming_the_parameter(
    corpus: TestClient, params: dict[str, Any], loc: str
) -> None:
    assert_error(corpus.get(DOCS, params=params), 422, "VALIDATION_ERROR", loc)


# --- list: pagination ------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [1, 5, 7, 19, 38, 50])
def test_pages_cover_everything_once_in_order(corpus: TestClient, per_page: int) -> None:
    everything = corpus.get(DOCS, params={"per_page": 100}).json()["items"]
    expected_pages = math.ceil(38 / per_page)
    seen: list[str] = []
    for page in range(1, expected_pages + 1):
        body = corpus.get(DOCS, params={"page": page, "per_page": per_page}).json()
        assert (body["total"], body["per_page"], body["pages"]) == (38, per_page, expected_pages)
        expected_len = per_page if page < expected_pages else 38 - per_page * (page - 1)
        assert len(body["items"]) == expected_len
        seen.extend(item["doc_id"] for item in body["items"])
    assert seen == [item["doc_id"] for item in everything]
    assert len(set(seen)) == 38


def test_page_past_the_end_is_empty_with_exact_arithmetic(corpus: TestClient) -> None:
    for page in (5, 6, 1000, 2**63 - 1):  # the largest page SQLite can count to
        body = corpus.get(DOCS, params={"page": page, "per_page": 10}).json()
        assert body == {"items": [], "total": 38, "page": page, "per_page": 10, "pages": 4}


@pytest.mark.parametrize(("asked", "used"), [(100, 100), (101, 100), (5000, 100)])
def test_per_page_above_100_is_capped_and_echoed(corpus: TestClient, asked: int, used: int) -> None:
    body = corpus.get(DOCS, params={"per_page": asked}).json()
    assert body["per_page"] == used
    assert body["pages"] == 1
    assert len(body["items"]) == 38


def test_ties_are_broken_so_pages_never_overlap(client: TestClient, tmp_path: Path) -> None:
    # 23 documents with the same title, status and sync time: only the tie-breaker orders them.
    files = {f"other/note-{n:02d}.md": story("Same title", "Done") for n in range(23)}
    register(client, "Ties", write_tree(tmp_path / "ties", files))
    sync(client, "ties")
    for sort in ("title", "status", "type", "updated_at"):
        for order in ("asc", "desc"):
            seen: list[str] = []
            for page in range(1, 6):
                params = {"sort": sort, "order": order, "page": page, "per_page": 5}
                body = client.get("/api/v1/projects/ties/documents", params=params).json()
                assert body["pages"] == 5
                seen.extend(item["doc_id"] for item in body["items"])
            expected = sorted((f"note-{n:02d}" for n in range(23)), reverse=order == "desc")
            assert seen == expected, (sort, order)


# --- detail ----------------------------------------------------------------------------


def test_detail_shape_and_values(corpus: TestClient, recipe_box: Path) -> None:
    path = recipe_box / "stories" / "US0003-browse-recipes.md"
    response = corpus.get(f"{DOCS}/story/US0003-browse-recipes")
    assert response.status_code == 200
    doc = response.json()
    assert doc["doc_id"] == "US0003-browse-recipes"
    assert doc["type"] == "story"
    assert doc["title"] == "US0003: Browse Recipes"
    assert doc["status"] == "Done"
    assert doc["owner"] == "Kitchen Team"
    assert (doc["priority"], doc["story_points"]) == ("P1", 3)
    assert doc["epic"] == "EP0001"
    assert doc["metadata"] == {"created": "2026-01-23"}
    assert doc["file_path"] == "stories/US0003-browse-recipes.md"
    assert doc["file_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    # A line from the middle of the file.
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines[len(lines) // 2] in doc["content"]


def test_detail_synced_at_matches_the_list(corpus: TestClient) -> None:
    listed = {i["doc_id"]: i["updated_at"] for i in all_items(corpus)}
    doc = corpus.get(f"{DOCS}/plan/PL0001-project-setup-implementation-plan").json()
    assert doc["synced_at"] == listed["PL0001-project-setup-implementation-plan"]


def test_every_document_keeps_all_of_its_prose(corpus: TestClient, recipe_box: Path) -> None:
    listed = all_items(corpus)
    assert len(listed) == 38
    by_id = {item["doc_id"]: item for item in listed}
    for path in corpus_files(recipe_box):
        doc_id = expected_doc_id(path)
        item = by_id[doc_id]
        doc = corpus.get(f"{DOCS}/{item['type']}/{doc_id}").json()
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        # Front matter may leave the body; the title line may too. Every other line stays.
        for line in text.splitlines():
            if line.strip() and not line.lstrip().startswith(">") and not line.startswith("# "):
                assert line in doc["content"], (doc_id, line)


def test_singleton_documents_live_at_type_slash_type(corpus: TestClient) -> None:
    for singleton in SINGLETONS:
        doc = corpus.get(f"{DOCS}/{singleton}/{singleton}").json()
        assert (doc["type"], doc["doc_id"]) == (singleton, singleton)


def test_prd_with_a_late_quote_keeps_everything(
    corpus: TestClient, fixture_tree_paths: dict[str, Path]
) -> None:
    # garden-monitor/prd.md's first `>` line is a prose quote at its end (SPEC §12 content loss).
    doc = corpus.get("/api/v1/projects/garden-monitor/documents/prd/prd").json()
    path = fixture_tree_paths["garden-monitor"] / "prd.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    quote_at = next(n for n, line in enumerate(lines) if line.startswith(">"))
    assert quote_at > 50
    for at in (20, quote_at // 2, quote_at, len(lines) - 1):
        line = next(line for line in lines[at:] if line.strip())
        assert line in doc["content"], line
    assert doc["status"] == "Draft"


@pytest.mark.parametrize(
    "path",
    [
        "story/US9999-missing",
        "epic/US0003-browse-recipes",  # right id, wrong type
        "Story/US0003-browse-recipes",
        "story/us0003-browse-recipes",
        "story/US0003",
        "nope/prd",
    ],
)
def test_detail_unknown_document_is_404(corpus: TestClient, path: str) -> None:
    assert_error(corpus.get(f"{DOCS}/{path}"), 404, "NOT_FOUND", "Document not found")


def test_detail_unknown_project_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/projects/nope/documents/prd/prd")
    assert_error(response, 404, "NOT_FOUND", "Project not found")


def test_metadata_is_null_without_extra_keys(client: TestClient, tmp_path: Path) -> None:
    files = {
        "stories/US0001-plain.md": "# US0001: Plain\n\n> **Status:** Draft\n\nBody.\n",
        "stories/US0002-rich.md": (
            "# US0002: Rich\n\n> **Status:** Draft\n> **Sprint:** Sprint 4\n"
            "> **Created:** 2026-02-20\n\nBody.\n"
        ),
    }
    register(client, "Meta", write_tree(tmp_path / "meta", files))
    sync(client, "meta")
    base = "/api/v1/projects/meta/documents/story"
    assert client.get(f"{base}/US0001-plain").json()["metadata"] is None
    rich = client.get(f"{base}/US0002-rich").json()["metadata"]
    assert rich == {"sprint": "Sprint 4", "created": "2026-02-20"}


def test_duplicate_type_and_id_answer_the_live_copy_with_the_smallest_path(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        # Sorts first by path, but it is an archived copy.
        "archive/stories/US0001-login.md": story("US0001: Old login", "Superseded", "old body"),
        "stories/US0001-login.md": story("US0001: Login", "Done", "current body"),
        "zz/US0002-pay.md": story("US0002: Pay zz", "Draft", "zz body"),
        "aa/US0002-pay.md": story("US0002: Pay aa", "Draft", "aa body"),
    }
    register(client, "Dupes", write_tree(tmp_path / "dupes", files))
    sync(client, "dupes")
    base = "/api/v1/projects/dupes/documents/story"
    first = client.get(f"{base}/US0001-login")
    assert first.status_code == 200
    assert first.json()["file_path"] == "stories/US0001-login.md"
    assert "current body" in first.json()["content"]
    second = client.get(f"{base}/US0002-pay").json()
    assert second["file_path"] == "aa/US0002-pay.md"
    # The list still shows every copy.
    assert client.get("/api/v1/projects/dupes/documents").json()["total"] == 4


def test_front_matter_after_a_long_introduction_keeps_all_text(
    client: TestClient, tmp_path: Path
) -> None:
    intro = "\n\n".join(f"Paragraph {n} of the introduction explains things." for n in range(80))
    text = (
        "# Handbook\n\n"
        f"{intro}\n\nThe marmalade clause sits in the middle of the introduction.\n\n{intro}\n\n"
        "> **Status:** Done\n> **Owner:** ops\n\n## Afterword\n\nClosing words about quokkas.\n"
    )
    register(client, "Late", write_tree(tmp_path / "late", {"handbook.md": text}))
    sync(client, "late")
    doc = client.get("/api/v1/projects/late/documents/other/handbook").json()
    assert "The marmalade clause sits in the middle of the introduction." in doc["content"]
    assert "Paragraph 0 of the introduction" in doc["content"]
    assert "Closing words about quokkas." in doc["content"]
    for word in ("marmalade", "quokkas"):
        hits = client.get("/api/v1/search", params={"q": word, "project": "late"}).json()
        assert [item["doc_id"] for item in hits["items"]] == ["handbook"], word
    snippet = client.get("/api/v1/search", params={"q": "marmalade"}).json()["items"][0]["snippet"]
    assert "<mark>marmalade</mark>" in snippet
