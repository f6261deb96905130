"""Status vocabularies and canonicalisation (SPEC §8.4)."""

import time

import pytest

from sdlc_lens.parsing import (
    TERMINAL,
    VOCABULARY,
    StatusVocabulary,
    canonicalise_status,
    is_terminal,
)


def test_vocabulary_table() -> None:
    assert VOCABULARY["epic"] == ("Draft", "Ready", "Approved", "In Progress", "Done")
    assert VOCABULARY["story"] == (
        "Proposed",
        "Draft",
        "Ready",
        "Planned",
        "In Progress",
        "Review",
        "Blocked",
        "Done",
        "Won't Implement",
        "Deferred",
        "Superseded",
    )
    assert set(VOCABULARY) == {
        "epic",
        "story",
        "plan",
        "bug",
        "cr",
        "rfc",
        "test-spec",
        "workflow",
    }


@pytest.mark.parametrize("doc_type", sorted(TERMINAL))
def test_terminal_statuses_are_in_the_vocabulary(doc_type: str) -> None:
    assert TERMINAL[doc_type] <= set(VOCABULARY[doc_type])


def test_story_terminal_set() -> None:
    assert TERMINAL["story"] == {"Done", "Won't Implement", "Superseded"}


@pytest.mark.parametrize(
    ("raw", "doc_type", "expected"),
    [
        ("**Done**", "story", "Done"),
        ("in progress", "story", "In Progress"),
        ("IN PROGRESS", "epic", "In Progress"),
        ("Complete (81/88)", "plan", "Complete"),
        ("Gated — waiting", "story", "Gated"),
        ("", "story", None),
        ("   ", "story", None),
        (None, "story", None),
        ("**", "story", None),
        ("> Done", "story", "Done"),
        ("`Done`", "story", "Done"),
        ("_Draft_", "epic", "Draft"),
        ("***Done***", "epic", "Done"),
        ("Done - merged last week", "story", "Done"),
        ("Done · shipped", "story", "Done"),
        ("Done | shipped", "story", "Done"),
        ("Done stray text", "story", "Done"),
        ("**Done** (2026-01-23)", "story", "Done"),
        ("Done(ish)", "story", "Done"),
        ("won't implement", "story", "Won't Implement"),
        ("Won\u2019t Fix", "bug", "Won't Fix"),
        ("in review", "rfc", "In Review"),
        ("inbox", "bug", "inbox"),
        ("Inbox", "cr", "inbox"),
        ("Inbox", "rfc", "inbox"),
        ("Inbox", "story", "Inbox"),  # not in the story vocabulary: returned as written
        ("inbox", "prd", "inbox"),  # other types use every token plus inbox
        ("verified", "prd", "Verified"),
        ("approved", "other", "Approved"),
        ("Complete", "story", "Complete"),  # not a story token: kept as written
        ("Waiting on vendor - see thread", "story", "Waiting on vendor"),
        ("Something else", "epic", "Something else"),
        ("(pending)", "epic", "(pending)"),
        ("Doneish", "epic", "Doneish"),  # a token must be followed by a space to be a prefix
    ],
)
def test_canonicalise_status(raw: str | None, doc_type: str, expected: str | None) -> None:
    assert canonicalise_status(raw, doc_type) == expected


@pytest.mark.parametrize(
    ("raw", "custom", "expected"),
    [
        ("gated - waiting", ["Gated"], "Gated"),
        ("GATED", ["Gated"], "Gated"),
        ("in progress blocked now", ["In Progress Blocked"], "In Progress Blocked"),
        ("in progress", ["In progress"], "In Progress"),  # built-in casing wins
        ("in progress", [], "In Progress"),
        ("  ", ["Gated"], None),
    ],
)
def test_canonicalise_status_with_custom_tokens(
    raw: str, custom: list[str], expected: str | None
) -> None:
    assert canonicalise_status(raw, "story", custom) == expected


@pytest.mark.parametrize(
    ("status", "doc_type", "expected"),
    [
        ("Done", "story", True),
        ("Won't Implement", "story", True),
        ("Superseded", "story", True),
        ("Complete", "story", True),
        ("Draft", "story", False),
        ("Deferred", "story", False),
        ("Complete", "epic", True),  # Done/Complete are terminal for every type
        ("Done", "plan", True),
        ("Superseded", "epic", False),
        ("**done**", "epic", True),
        ("Fixed", "bug", True),
        ("Won't Fix", "bug", True),
        ("Open", "bug", False),
        ("Rejected", "cr", True),
        ("Blocked", "cr", False),
        ("Withdrawn", "rfc", True),
        ("Paused", "workflow", False),
        ("Withdrawn", "prd", True),  # unknown type: union of all terminal sets
        ("Approved", "prd", False),
        (None, "story", False),
        ("", "story", False),
    ],
)
def test_is_terminal(status: str | None, doc_type: str, expected: bool) -> None:
    assert is_terminal(status, doc_type) is expected


@pytest.mark.parametrize(
    "raw", ["None", "none", "NULL", "N/A", "-", "--", "\u2014", "\u2013", "**None**"]
)
def test_placeholders_for_no_status_are_null(raw: str) -> None:
    # QUIRK fix (SPEC §12): `status=none` must not collide with a literal "none" status.
    assert canonicalise_status(raw, "story") is None
    assert canonicalise_status(raw, "other") is None


def test_a_vocabulary_of_a_hundred_thousand_tokens_costs_each_status_a_few_lookups() -> None:
    # 99k tokens in .config.yaml made every sync 5x slower: each status was tried against
    # every token in turn. Compiled once, a status costs a handful of dictionary lookups.
    vocabulary = StatusVocabulary({"story": [f"Custom {n}" for n in range(100_000)]})
    statuses = ["custom 99999", "in progress - nearly", "custom 5 of 7", "Unheard of"] * 2_500
    start = time.perf_counter()
    found = [vocabulary.canonicalise(status, "story") for status in statuses]
    assert time.perf_counter() - start < 2.0
    assert found[:4] == ["Custom 99999", "In Progress", "Custom 5", "Unheard of"]


def test_a_status_longer_than_every_token_is_matched_by_its_start() -> None:
    vocabulary = StatusVocabulary({"story": ["Gated"]})
    assert vocabulary.canonicalise("gated " + "x " * 500_000, "story") == "Gated"
