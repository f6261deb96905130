"""Search (SPEC §9): word semantics, filters, ranking, snippets, pagination and limits."""

import itertools
import random
import re
import sqlite3
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.config import Settings
from sdlc_lens.db.fts import DROP_FTS
from tests.fixtures import SAMPLE_PROJECTS
from tests.helpers import (
    assert_error,
    register,
    sync,
    synced_app,
    write_tree,
)

SEARCH = "/api/v1/search"
TAG = re.compile(r"<[^>]*>")

# A small tree whose words are chosen so each test knows exactly what must match.
SAMPLE = {
    "stories/US0001-login.md": (
        "# US0001: Login form\n\n> **Status:** Done\n\n"
        "The user enters a password before the session starts. Deployment happens nightly.\n"
    ),
    "stories/US0002-logout.md": (
        "# US0002: Logout\n\n> **Status:** Draft\n\n"
        "Before anything else, the session ends; a password is not needed to leave.\n"
    ),
    "stories/US0003-profile.md": (
        "# US0003: Profile page\n\n> **Status:** In Progress\n\n"
        "Shows <script>alert('x')</script> & other <b>markup</b> next to the avatar.\n"
    ),
    "stories/US0042-quiet.md": (
        "# Quiet story\n\n> **Status:** Done\n\nNothing here names its own identifier.\n"
    ),
    "epics/EP0001-auth.md": (
        "# EP0001: Authentication\n\n> **Status:** Done\n\n"
        "Mentions US0042 US0042 US0042 many times: US0042 US0042.\n"
    ),
    "bugs/BG-01KX8BFP-crash.md": (
        "# BG-01KX8BFP: Crash on save\n\n> **Status:** Open\n\nSaving crashes the editor.\n"
    ),
    # No heading: the title is the doc_id, whose words the body never uses.
    "notes/zebra-only.md": "This body does not repeat the title word.\n",
    "notes/untitled.md": "Plain note with no status and a giraffe.\n",
}


@pytest.fixture(scope="module")
def app_client(
    tmp_path_factory: pytest.TempPathFactory, fixture_tree_paths: dict[str, Path]
) -> Iterator[TestClient]:
    """The two realistic projects plus the sample tree, synced once for the module."""
    sample = write_tree(tmp_path_factory.mktemp("sample"), SAMPLE)
    projects = (*((n, fixture_tree_paths[t]) for n, t in SAMPLE_PROJECTS), ("Sample", sample))
    with synced_app(tmp_path_factory.mktemp("search-db"), projects) as client:
        yield client


def search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: dict[str, Any]) -> list[str]:
    return [item["doc_id"] for item in body["items"]]


def all_hits(client: TestClient, q: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = search(client, q, page=page, per_page=50, **params)
        items.extend(body["items"])
        if len(body["items"]) < 50:
            assert len(items) == body["total"]
            return items
        page += 1


# --- shape, words, phrases, prefixes ---------------------------------------------------


def test_result_shape(app_client: TestClient) -> None:
    body = search(app_client, "password", project="sample")
    assert (body["query"], body["page"], body["per_page"]) == ("password", 1, 20)
    assert body["total"] == 2
    for item in body["items"]:
        assert (item["project_slug"], item["project_name"]) == ("sample", "Sample")
        assert isinstance(item["score"], float)
    login = next(item for item in body["items"] if item["doc_id"] == "US0001-login")
    assert (login["type"], login["title"], login["status"]) == (
        "story",
        "US0001: Login form",
        "Done",
    )


def test_words_match_in_any_order_and_all_must_match(app_client: TestClient) -> None:
    both = {"US0001-login", "US0002-logout"}
    assert set(ids(search(app_client, "password session", project="sample"))) == both
    assert set(ids(search(app_client, "session password", project="sample"))) == both
    # Not adjacent in either document, still found: not phrase matching.
    assert set(ids(search(app_client, "before password", project="sample"))) == both
    assert ids(search(app_client, "password nightly", project="sample")) == ["US0001-login"]
    assert ids(search(app_client, "password zebra", project="sample")) == []


def test_quoted_text_is_a_phrase(app_client: TestClient) -> None:
    assert ids(search(app_client, '"a password before"', project="sample")) == ["US0001-login"]
    assert ids(search(app_client, '"password a"', project="sample")) == []
    assert ids(search(app_client, '"session ends" password', project="sample")) == ["US0002-logout"]


def test_trailing_star_is_a_prefix(app_client: TestClient) -> None:
    assert ids(search(app_client, "deploy", project="sample")) == []
    assert ids(search(app_client, "deploy*", project="sample")) == ["US0001-login"]
    assert ids(search(app_client, "DEPLOY*", project="sample")) == ["US0001-login"]
    assert set(ids(search(app_client, "pass* sess*", project="sample"))) == {
        "US0001-login",
        "US0002-logout",
    }


def test_single_word_matches_every_document_containing_it(
    app_client: TestClient, fixture_tree_paths: dict[str, Path]
) -> None:
    on_disk = sorted(
        p
        for p in fixture_tree_paths["recipe-box"].rglob("*.md")
        if p.name != "_index.md" and re.search(r"\breminder\b", p.read_text(), re.IGNORECASE)
    )
    hits = all_hits(app_client, "reminder", project="recipe-box")
    assert len(hits) == len(on_disk) > 3


@pytest.mark.parametrize("q", ["AND", "OR", "NOT", "NEAR", "password AND", "NEAR(password)"])
def test_operators_are_plain_words(app_client: TestClient, q: str) -> None:
    body = search(app_client, q)
    assert body["query"] == q
    for item in body["items"]:
        assert item["score"] >= 0


def test_operator_words_must_be_present_like_any_word(app_client: TestClient) -> None:
    # "not" is in the logout story only; as an operator it would have excluded it.
    assert ids(search(app_client, "password NOT", project="sample")) == ["US0002-logout"]
    assert ids(search(app_client, "password OR zebra", project="sample")) == []


@pytest.mark.parametrize("q", ["(", "-", "*", '"', '""', "( ) - * : ^", "\u200b", "--- ***"])
def test_queries_without_searchable_words_are_empty(app_client: TestClient, q: str) -> None:
    assert search(app_client, q) == {"items": [], "total": 0, "query": q, "page": 1, "per_page": 20}


def test_whitespace_only_query_is_empty(app_client: TestClient) -> None:
    for q in (" ", "   \t  ", "\n"):
        assert search(app_client, q)["items"] == []


def test_punctuation_inside_a_word_makes_a_phrase(app_client: TestClient) -> None:
    # `session-ends` is the phrase "session ends", as the index splits the text.
    assert ids(search(app_client, "session-ends", project="sample")) == ["US0002-logout"]
    assert ids(search(app_client, "ends-session", project="sample")) == []
    assert ids(search(app_client, 'password" nightly', project="sample")) == ["US0001-login"]


def test_control_characters_separate_words(app_client: TestClient) -> None:
    for q in ("password\x00nightly", "nightly\tpassword", "nightly\x85password"):
        assert ids(search(app_client, q, project="sample")) == ["US0001-login"]


def test_a_repeated_word_counts_once(app_client: TestClient) -> None:
    once = search(app_client, "password", project="sample")
    many = search(
        app_client, " ".join(["password", "PASSWORD", '"password"'] * 15), project="sample"
    )
    assert many["items"] == once["items"] and many["total"] == once["total"] == 2


# --- filters ---------------------------------------------------------------------------


def test_project_filter(app_client: TestClient) -> None:
    everywhere = all_hits(app_client, "docker")
    assert {item["project_slug"] for item in everywhere} == {"recipe-box", "garden-monitor"}
    for slug in ("recipe-box", "garden-monitor"):
        own = all_hits(app_client, "docker", project=slug)
        assert own == [item for item in everywhere if item["project_slug"] == slug]
    assert search(app_client, "docker", project="nope") == {
        "items": [],
        "total": 0,
        "query": "docker",
        "page": 1,
        "per_page": 20,
    }


def test_type_filter(app_client: TestClient) -> None:
    everywhere = all_hits(app_client, "docker")
    stories = all_hits(app_client, "docker", type="story")
    assert stories == [item for item in everywhere if item["type"] == "story"]
    assert len(stories) > 0
    assert search(app_client, "docker", type="Story")["total"] == 0


def test_status_filter_and_none(app_client: TestClient) -> None:
    everywhere = all_hits(app_client, "the")
    for status in ("Done", "Draft", "Complete"):
        filtered = all_hits(app_client, "the", status=status)
        assert filtered == [item for item in everywhere if item["status"] == status]
        assert filtered
    none = all_hits(app_client, "the", status="none")
    assert none == [item for item in everywhere if item["status"] is None]
    assert "zebra-only" in {item["doc_id"] for item in none}
    assert search(app_client, "the", status="done")["total"] == 0


def test_filters_combine(app_client: TestClient) -> None:
    body = search(app_client, "password", project="sample", type="story", status="Draft")
    assert ids(body) == ["US0002-logout"]
    assert body["total"] == 1


# --- ranking ---------------------------------------------------------------------------


def assert_ranked(items: list[dict[str, Any]]) -> None:
    """Scores never increase; equal scores are ordered by project, type, doc_id."""
    for before, after in itertools.pairwise(items):
        assert before["score"] >= after["score"]
        if before["score"] == after["score"]:
            key = ("project_slug", "type", "doc_id")
            assert tuple(before[k] for k in key) <= tuple(after[k] for k in key)


@pytest.mark.parametrize("q", ["docker", "recipe", "alert telegram", "the", "US0003", "deploy*"])
def test_scores_never_increase_and_ties_are_stable(app_client: TestClient, q: str) -> None:
    items = all_hits(app_client, q)
    assert items
    assert_ranked(items)
    assert items == all_hits(app_client, q)


def test_scores_are_rounded_negated_bm25(app_client: TestClient) -> None:
    # Recomputed here with SQLite's own bm25, for a rare word and a word in most documents.
    with sqlite3.connect(app_client.database_file) as db:  # type: ignore[attr-defined]
        for word in ("docker", "the"):
            expected = dict(
                db.execute(
                    "SELECT rowid, round(-bm25(documents_fts), 4) FROM documents_fts "
                    "WHERE documents_fts MATCH ?",
                    (f'"{word}"',),
                ).fetchall()
            )
            doc_ids = dict(db.execute("SELECT doc_id || '@' || project_id, id FROM documents"))
            slugs = dict(db.execute("SELECT slug, id FROM projects"))
            hits = all_hits(app_client, word)
            assert len(hits) == len(expected)
            for item in hits:
                row = doc_ids[f"{item['doc_id']}@{slugs[item['project_slug']]}"]
                assert item["score"] == expected[row], (word, item["doc_id"])


def test_exact_id_ranks_that_document_first(app_client: TestClient) -> None:
    items = all_hits(app_client, "US0003")
    assert {item["doc_id"] for item in items[:3]} == {
        "US0003-browse-recipes",
        "US0003-session-handling",
        "US0003-profile",
    }
    assert all(not item["doc_id"].startswith("US0003") for item in items[3:])
    assert len(items) > 3
    assert_ranked(items)


def test_id_match_comes_first_even_without_the_id_in_its_text(app_client: TestClient) -> None:
    body = search(app_client, "US0042")
    # The epic says US0042 five times; the story itself never does, yet it leads.
    assert ids(body) == ["US0042-quiet", "EP0001-auth"]
    assert body["total"] == 2
    assert body["items"][0]["score"] > body["items"][1]["score"]
    # No text hit to centre on: the snippet is the start of the content, unmarked.
    assert "<mark>" not in body["items"][0]["snippet"]
    assert "Nothing here names its own identifier." in body["items"][0]["snippet"]


@pytest.mark.parametrize("q", ["BG-01KX8BFP", "bg-01kx8bfp", " BG-01KX8BFP "])
def test_ulid_ids_are_found_first_case_insensitively(app_client: TestClient, q: str) -> None:
    body = search(app_client, q)
    assert ids(body)[0] == "BG-01KX8BFP-crash"


def test_only_a_whole_id_query_gets_the_boost(app_client: TestClient) -> None:
    # The story's id is indexed and its body says "identifier": found, but not boosted.
    items = search(app_client, "US0042 identifier")["items"]
    assert ids({"items": items}) == ["US0042-quiet"]
    assert items[0]["score"] < 1000
    items = search(app_client, "US0003 browse", project="recipe-box")["items"]
    assert items
    assert all(item["score"] < 1000 for item in items)


# --- snippets --------------------------------------------------------------------------


def test_snippet_marks_matches(app_client: TestClient) -> None:
    item = search(app_client, "nightly", project="sample")["items"][0]
    assert "<mark>nightly</mark>" in item["snippet"]


def test_snippets_cut_long_text_with_ellipsis(app_client: TestClient) -> None:
    items = search(app_client, "docker compose", project="recipe-box")["items"]
    assert items
    for item in items:
        assert "<mark>" in item["snippet"]
        assert item["snippet"].startswith("...") or item["snippet"].endswith("...")


def test_snippets_are_html_escaped_with_only_mark_tags(app_client: TestClient) -> None:
    item = search(app_client, "avatar", project="sample")["items"][0]
    snippet = item["snippet"]
    assert "&lt;script&gt;" in snippet
    assert "&lt;b&gt;markup&lt;/b&gt;" in snippet
    assert "&amp;" in snippet
    assert "<script" not in snippet
    assert set(TAG.findall(snippet)) == {"<mark>", "</mark>"}


def test_corpus_snippets_contain_no_foreign_tags(app_client: TestClient) -> None:
    for q in ("docker", "the", "api", "alert"):
        for item in all_hits(app_client, q):
            assert set(TAG.findall(item["snippet"])) <= {"<mark>", "</mark>"}, item["snippet"]


def test_title_only_hit_shows_the_start_of_the_content(app_client: TestClient) -> None:
    item = search(app_client, "zebra", project="sample")["items"][0]
    assert item["doc_id"] == "zebra-only"
    assert "<mark>" not in item["snippet"]
    assert "This body does not repeat the title word." in item["snippet"]


# --- pagination and limits -------------------------------------------------------------


def test_pages_do_not_overlap_and_total_is_exact(app_client: TestClient) -> None:
    everything = all_hits(app_client, "the")
    total = search(app_client, "the")["total"]
    assert total == len(everything) > 50
    paged: list[dict[str, Any]] = []
    for page in range(1, total // 7 + 2):
        body = search(app_client, "the", page=page, per_page=7)
        assert body["total"] == total
        paged.extend(body["items"])
    assert paged == everything
    keys = {(item["project_slug"], item["type"], item["doc_id"]) for item in paged}
    assert len(keys) == total


@pytest.mark.parametrize("q", ["nightly", "docker", "the", "US0003", "password session"])
def test_page_past_the_end_is_empty_but_counts(app_client: TestClient, q: str) -> None:
    # Rare, frequent and most-documents words each take their own counting path.
    total = len(all_hits(app_client, q))
    assert total > 0
    for page in (total + 1, 10**6, 2**63 - 1):  # the largest page SQLite can count to
        body = search(app_client, q, page=page, per_page=1)
        assert (body["items"], body["total"], body["page"]) == ([], total, page)
    with_filter = len(all_hits(app_client, q, type="story"))
    body = search(app_client, q, page=total + 1, per_page=1, type="story")
    assert (body["items"], body["total"]) == ([], with_filter)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "query.q: Field required"),
        ({"q": ""}, "query.q"),
        ({"q": "x" * 501}, "query.q"),
        ({"q": "x", "per_page": 51}, "query.per_page: Input should be less than or equal to 50"),
        ({"q": "x", "per_page": 0}, "query.per_page"),
        ({"q": "x", "page": 0}, "query.page"),
        ({"q": "x", "page": "one"}, "query.page"),
    ],
)
def test_invalid_parameters_are_422(
    app_client: TestClient, params: dict[str, Any], message: str
) -> None:
    assert_error(app_client.get(SEARCH, params=params), 422, "VALIDATION_ERROR", message)


def test_more_than_sixteen_different_words_is_422(app_client: TestClient) -> None:
    words = [f"word{n}" for n in range(17)]
    assert search(app_client, " ".join(words[:16]))["total"] == 0
    response = app_client.get(SEARCH, params={"q": " ".join(words)})
    message = "q: at most 16 different words per search (got 17)"
    assert_error(response, 422, "VALIDATION_ERROR", message)
    # A phrase's words count one by one.
    phrase = '"' + " ".join(words[:9]) + '" ' + " ".join(words[9:])
    assert_error(app_client.get(SEARCH, params={"q": phrase}), 422, "VALIDATION_ERROR")


def test_two_hundred_and_fifty_one_letter_words_are_refused(app_client: TestClient) -> None:
    rng = random.Random(9)
    q = " ".join(rng.choice(string.ascii_lowercase) for _ in range(250))
    assert_error(app_client.get(SEARCH, params={"q": q}), 422, "VALIDATION_ERROR", "q: at most")


@pytest.mark.parametrize("q", ["d*", "de*", "DE*", "é*", "deploy de*", "x-de*"])
def test_a_prefix_needs_three_letters(app_client: TestClient, q: str) -> None:
    response = app_client.get(SEARCH, params={"q": q})
    assert_error(response, 422, "VALIDATION_ERROR", "at least 3 letters before the `*`")


def test_one_hundred_and_sixty_six_prefixes_are_refused(app_client: TestClient) -> None:
    rng = random.Random(166)
    short = " ".join(f"{rng.choice(string.ascii_lowercase)}*" for _ in range(166))
    assert_error(app_client.get(SEARCH, params={"q": short}), 422, "VALIDATION_ERROR")
    stems = {"".join(rng.choices(string.ascii_lowercase, k=3)) for _ in range(166)}
    longer = " ".join(f"{stem}*" for stem in sorted(stems))[:500]
    assert_error(app_client.get(SEARCH, params={"q": longer}), 422, "VALIDATION_ERROR")


def test_query_of_500_characters_is_accepted_and_echoed(app_client: TestClient) -> None:
    q = "docker " * 71 + "api"
    assert len(q) == 500
    body = search(app_client, q)
    assert body["query"] == q
    assert body["total"] > 0


def test_defaults_and_per_page_bounds(app_client: TestClient) -> None:
    assert (search(app_client, "the")["page"], search(app_client, "the")["per_page"]) == (1, 20)
    assert len(search(app_client, "the")["items"]) == 20
    assert len(search(app_client, "the", per_page=50)["items"]) == 50
    assert len(search(app_client, "the", per_page=1)["items"]) == 1


# --- a missing index -------------------------------------------------------------------


def test_missing_fts_table_is_503(client: TestClient, settings: Settings, tmp_path: Path) -> None:
    register(client, "Gone", write_tree(tmp_path / "gone", SAMPLE))
    sync(client, "gone")
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as db:
        for statement in DROP_FTS:
            db.execute(statement)
    response = client.get(SEARCH, params={"q": "password"})
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert "documents_fts" not in response.text
    # Nothing searchable needs no index: still a plain empty answer.
    assert client.get(SEARCH, params={"q": "("}).status_code == 200
