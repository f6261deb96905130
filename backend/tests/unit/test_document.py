"""build_document: one markdown file -> the stored row (SPEC §6 step 4)."""

import time

import pytest

from sdlc_lens.parsing import (
    DocumentRecord,
    LinkKind,
    StatusVocabulary,
    build_document,
    epic_named_in,
)
from sdlc_lens.parsing.document import parse_story_points

STORY = """\ufeff# US0042: Export tasks\r
\r
> **Status:** in progress\r
> **Epic:** [EP0007: Sharing](../epics/EP0007-sharing.md)\r
> **Owner:** Ann Smith\r
> **Priority:** P1\r
> **Story Points:** 5\r
> **Depends on:** [US0001](US0001-a.md), [[US-01KXCB7V]], US0001\r
> **Aliases:** CR-0003\r
> **Created:** 2026-01-23\r
\r
## User Story\r
"""


def test_full_story() -> None:
    record = build_document("stories/US0042-export-tasks.md", STORY)
    assert record == DocumentRecord(
        doc_type="story",
        doc_id="US0042-export-tasks",
        title="US0042: Export tasks",
        status="In Progress",
        owner="Ann Smith",
        priority="P1",
        story_points=5,
        epic="EP0007",
        story=None,
        ref_id="US0042",
        depends_on="US0001,US01KXCB7V",
        aliases="CR0003",
        metadata={"created": "2026-01-23"},
        content="## User Story\n",
        archived=False,
        content_chars=len("## User Story"),
        content_epic=None,
    )


def test_plan_story_and_epic_refs() -> None:
    text = (
        "# PL0001: Plan\n\n> **Status:** Complete\n"
        "> **Story:** [US0001: Setup](../stories/US0001-setup.md)\n"
        "> **Epic:** [EP0001: Core](../epics/EP0001-core.md)\n"
    )
    record = build_document("plans/PL0001-plan.md", text)
    assert record is not None
    assert (record.doc_type, record.status, record.story, record.epic, record.ref_id) == (
        "plan",
        "Complete",
        "US0001",
        "EP0001",
        "PL0001",
    )
    assert record.metadata is None  # only column fields


def test_index_file_is_skipped() -> None:
    assert build_document("stories/_index.md", "# Registry\n") is None


def test_title_falls_back_to_doc_id() -> None:
    record = build_document("stories/US0001-x.md", "no heading\n")
    assert record is not None
    assert record.title == "US0001-x"


def test_empty_file_is_a_valid_document() -> None:
    record = build_document("notes/empty.md", "")
    assert record == DocumentRecord(
        doc_type="other",
        doc_id="empty",
        title="empty",
        status=None,
        owner=None,
        priority=None,
        story_points=None,
        epic=None,
        story=None,
        ref_id=None,
        depends_on=None,
        aliases=None,
        metadata=None,
        content="",
        archived=False,
        content_chars=0,
        content_epic=None,
    )


def test_status_uses_project_vocabulary_for_the_type() -> None:
    text = "> **Status:** gated - waiting on legal\n"
    vocab = StatusVocabulary({"story": ["Gated"], "epic": ["Parked"]})
    story = build_document("stories/US0001-x.md", text, vocab)
    epic = build_document("epics/EP0001-x.md", "> **Status:** parked\n", vocab)
    assert story is not None and story.status == "Gated"
    assert epic is not None and epic.status == "Parked"
    # Another type's custom tokens don't apply.
    other = build_document("epics/EP0002-x.md", "> **Status:** gated today\n", vocab)
    assert other is not None and other.status == "gated today"


def test_prd_status_via_fallback() -> None:
    text = "# Product Requirements Document\n\n**Project:** X\n**Status:** approved\n\n## 1\n"
    record = build_document("prd.md", text)
    assert record is not None
    assert (record.doc_type, record.doc_id, record.status, record.ref_id) == (
        "prd",
        "prd",
        "Approved",
        None,
    )
    assert record.metadata == {"project": "X"}


def test_owner_and_priority_are_raw() -> None:
    record = build_document(
        "bugs/BG0001-x.md", "> **Owner:** @ann (team A)\n> **Priority:** **High**\n"
    )
    assert record is not None
    assert (record.owner, record.priority) == ("@ann (team A)", "**High**")


def test_ulid_document() -> None:
    record = build_document("stories/US-01KXCB7V-make-it.md", "> **Epic:** EP-01KXCBC9\n")
    assert record is not None
    assert (record.doc_id, record.ref_id, record.epic) == (
        "US-01KXCB7V-make-it",
        "US01KXCB7V",
        "EP01KXCBC9",
    )


@pytest.mark.parametrize(
    ("raw", "points"),
    [
        ("5", 5),
        (" 08 ", 8),
        ("0", 0),
        ("13", 13),
        ("Large", None),
        ("3.5", None),
        ("5 pts", None),
        ("3 (est)", None),
        ("", None),
        (None, None),
        ("9" * 30, None),  # does not fit the 64-bit column
        ("9" * 10_000, None),  # over Python's int-digit limit
    ],
)
def test_parse_story_points(raw: str | None, points: int | None) -> None:
    assert parse_story_points(raw) == points


@pytest.mark.parametrize("raw", ["Large", "3.5", "5 pts", "3 (est)"])
def test_quirk_non_numeric_story_points_preserved_in_metadata(raw: str) -> None:
    record = build_document("stories/US0001-x.md", f"> **Story Points:** {raw}\n")
    assert record is not None
    assert record.story_points is None
    assert record.metadata == {"story_points": raw}


def test_numeric_story_points_not_in_metadata() -> None:
    record = build_document("stories/US0001-x.md", "> **Story Points:** 8\n")
    assert record is not None
    assert record.story_points == 8
    assert record.metadata is None


def test_empty_story_points_is_not_metadata() -> None:
    record = build_document("stories/US0001-x.md", "> **Story Points:**\n")
    assert record is not None
    assert (record.story_points, record.metadata) == (None, None)


def test_empty_reference_placeholders() -> None:
    text = "> **Epic:** -\n> **Story:** —\n> **Depends on:** None\n> **Aliases:**\n"
    record = build_document("plans/PL0001-x.md", text)
    assert record is not None
    assert (record.epic, record.story, record.depends_on, record.aliases) == (
        None,
        None,
        None,
        None,
    )


def test_metadata_keeps_document_order_and_excludes_columns() -> None:
    text = "> **Zeta:** 1\n> **Status:** Done\n> **Alpha:** 2\n> **Owner:** A\n> **Reviewer:** B\n"
    record = build_document("stories/US0001-x.md", text)
    assert record is not None
    assert record.metadata is not None
    assert list(record.metadata.items()) == [("zeta", "1"), ("alpha", "2"), ("reviewer", "B")]


def test_uppercase_md_suffix_document() -> None:
    record = build_document("stories/US0003-x.MD", "# T\n\n> **Status:** Done\n")
    assert record is not None
    assert (record.doc_type, record.doc_id, record.status) == ("story", "US0003-x", "Done")


def test_links_are_every_reference_key_in_field_order() -> None:
    record = build_document("stories/US0042-export-tasks.md", STORY)
    assert record is not None
    assert record.links() == [
        (LinkKind.REF, "US0042", 0),
        (LinkKind.EPIC, "EP0007", 0),
        (LinkKind.ALIAS, "CR0003", 0),
        (LinkKind.DEPENDS_ON, "US0001", 0),
        (LinkKind.DEPENDS_ON, "US01KXCB7V", 1),
    ]


def test_a_document_without_an_id_has_no_links() -> None:
    record = build_document("prd.md", "# PRD\n\n**Status:** Draft\n")
    assert record is not None
    assert record.links() == []


@pytest.mark.parametrize(
    ("rel_path", "archived"),
    [
        ("stories/US0001-a.md", False),
        ("archive/US0001-a.md", True),
        ("archive/stories/US0001-a.md", True),
        ("stories/Archived/US0001-a.md", True),
        ("_archive/epics/EP0001-a.md", True),
        ("stories/_US0001-a.md", True),  # a `_` doc_id is a retired copy too
        ("archives-notes/US0001-a.md", False),
        ("stories/archive-plan.md", False),  # the file name is not a folder
    ],
)
def test_archived_copies(rel_path: str, archived: bool) -> None:
    record = build_document(rel_path, "# T\n")
    assert record is not None
    assert record.archived is archived


@pytest.mark.parametrize(
    ("content", "epic"),
    [
        ("**Epic:** [EP0001: Core](../epics/EP0001-core.md)", "EP0001"),
        ("Part of **Epic**: EP-0002 (see above)", "EP0002"),
        ("**Epic** EP0003", "EP0003"),
        ("**Epic:** none yet\nLater EP0004 is mentioned", None),  # another line does not count
        ("**epic:** EP0005", None),  # case-sensitive label
        ("**Epic:** tbd **Epic:** EP0006", "EP0006"),
        ("EP0007 **Epic:**", None),  # the id must follow the label
        ("", None),
    ],
)
def test_epic_named_in_the_body(content: str, epic: str | None) -> None:
    assert epic_named_in(content) == epic


def test_body_derived_columns() -> None:
    text = "# US0001: T\n\n> **Status:** Draft\n\n  Body that says **Epic:** EP0009.  \n\n"
    record = build_document("stories/US0001-t.md", text)
    assert record is not None
    assert record.content == "  Body that says **Epic:** EP0009.  \n\n"
    assert record.content_chars == len("Body that says **Epic:** EP0009.")
    # The front matter named no epic; only the body did.
    assert (record.epic, record.content_epic) == (None, "EP0009")


def test_epic_label_scan_is_linear() -> None:
    content = "**Epic:** " * 200_000 + "\n" + "**Epic:** x\n" * 100_000
    start = time.perf_counter()
    assert epic_named_in(content) is None
    assert time.perf_counter() - start < 3.0


def test_the_body_epic_is_looked_for_on_the_first_thousand_labelled_lines() -> None:
    no_id = "**Epic:** to be decided\n"
    assert epic_named_in(no_id * 999 + "**Epic:** EP0007\n") == "EP0007"
    assert epic_named_in(no_id * 1_000 + "**Epic:** EP0007\n") is None
    start = time.perf_counter()
    assert epic_named_in(no_id * 2_000_000) is None  # 48 MB of labels
    assert time.perf_counter() - start < 2.0
