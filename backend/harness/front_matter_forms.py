"""One document per front-matter form the parser accepts, with what it must read from it.

Each `Form` is a file of the `front-matter` fixture tree and the values of the parsed record
(`sdlc_lens.parsing.DocumentRecord` attribute names) that the form decides. Documents with
an id-like name always carry a status and stories always name an epic of the tree, so that
the tree also meets what the corpus-wide tests expect of any well-kept project.
"""

from dataclasses import dataclass
from typing import Any

# Over 50 characters: no document here is flagged as empty.
BODY = "The body of this document says enough to count as real content for any reader.\n"
CONFIG_YAML = "schema_version: 3\nprofile: lean\nstatus_vocab:\n  story: [Gated, 'On Hold']\n"


@dataclass(frozen=True, slots=True)
class Form:
    name: str  # what the form is, e.g. "colon outside the bold key"
    path: str
    text: str
    expected: dict[str, Any]  # DocumentRecord attribute -> value


def _quote(*lines: str) -> str:
    return "".join(f"> {line}\n" if line else ">\n" for line in lines)


FORMS = (
    # --- keys and separators ---------------------------------------------------------------
    Form("colon inside the bold key", "stories/US0001-colon-inside.md",
         "# US0001: Colon inside\n\n" + _quote(
             "**Status:** Done", "**Epic:** EP0001", "**Owner:** Ann", "**Priority:** P1",
             "**Story Points:** 3") + "\n" + BODY,
         {"status": "Done", "epic": "EP0001", "owner": "Ann", "priority": "P1",
          "story_points": 3, "title": "US0001: Colon inside"}),
    Form("colon outside the bold key", "stories/US0002-colon-outside.md",
         "# US0002: Colon outside\n\n" + _quote("**Status**: in progress", "**Epic**: EP0001")
         + "\n" + BODY,
         {"status": "In Progress", "epic": "EP0001"}),
    Form("no colon at all inside a block", "stories/US0003-no-colon.md",
         "# US0003: No colon\n\n" + _quote("**Status** Ready", "**Epic** EP0001") + "\n" + BODY,
         {"status": "Ready", "epic": "EP0001"}),
    Form("inline header with middle dot and pipe", "stories/US0004-inline-header.md",
         "# US0004: Inline header\n\n"
         + _quote("**Status:** Draft · **Owner:** Bo | **Priority:** P2", "**Epic:** EP0001")
         + "\n" + BODY,
         {"status": "Draft", "owner": "Bo", "priority": "P2"}),
    Form("no space after the quote marker, and an indented quote", "stories/US0005-tight.md",
         "# US0005: Tight\n\n>**Status:** Blocked\n   > **Epic:** EP0001\n\n" + BODY,
         {"status": "Blocked", "epic": "EP0001"}),
    Form("keys normalised: case, spaces, trailing colon", "epics/EP0002-keys.md",
         "# EP0002: Keys\n\n" + _quote(
             "**Status:** Draft", "**LAST UPDATED:** 2026-01-02", "**Target  Release :** 1.1",
             "**Owner:** Cy") + "\n" + BODY,
         {"status": "Draft", "metadata": {"last_updated": "2026-01-02", "target_release": "1.1"}}),
    # --- values ---------------------------------------------------------------------------
    Form("a value wrapped over two lines", "epics/EP0003-wrapped.md",
         "# EP0003: Wrapped\n\n" + _quote(
             "**Status:** Done", "**Summary:** the first half of a long", "value, wrapped")
         + "\n" + BODY,
         {"metadata": {"summary": "the first half of a long value, wrapped"}}),
    Form("a stray line between keys is not glued", "epics/EP0004-stray.md",
         "# EP0004: Stray\n\n" + _quote("**Status:** Done", "a stray remark", "**Owner:** Di")
         + "\n" + BODY,
         {"status": "Done", "owner": "Di"}),
    Form("paragraphs of one block", "epics/EP0005-paragraphs.md",
         "# EP0005: Paragraphs\n\n" + _quote("**Status:** Done", "", "**Owner:** Ed", "Jones")
         + "\n" + BODY,
         {"status": "Done", "owner": "Ed Jones"}),
    Form("a nested quote ends the block", "epics/EP0006-nested.md",
         "# EP0006: Nested\n\n> **Status:** Done\n>> **Owner:** nested\n\n" + BODY,
         {"status": "Done", "owner": None}),
    Form("plain bold lines at the top (PRD style)", "prd.md",
         "# Product Requirements Document\n\n**Project:** Forms\n**Version:** 1.2\n"
         "**Status:** Approved\n\n---\n\n## Overview\n\n" + BODY
         + "\n> **Confidence:** a prose quote far below stays prose\n",
         {"status": "Approved", "metadata": {"project": "Forms", "version": "1.2"}}),
    Form("plain bold lines: colon outside, inline pairs, a line without a colon ends them",
         "trd.md",
         "# Technical Requirements\n\n**Version**: 2.0 · **Status:** Draft\n**Owner** Gil\n"
         "**Reviewer:** Hal\n\n" + BODY,
         {"status": "Draft", "owner": None, "metadata": {"version": "2.0"}}),
    Form("no front matter at all", "personas.md",
         "# Personas\n\nIntroduction first.\n\n## Cook\n\n**Role:** cooks\n\n" + BODY,
         {"status": None, "metadata": None, "doc_type": "personas"}),
    Form("a quote without keys is prose", "notes/prose-quote.md",
         "# Prose quote\n\n> Simplicity is prerequisite for reliability.\n> Said someone.\n\n"
         + BODY,
         {"status": None, "metadata": None}),
    Form("a late quote with a key is prose", "epics/EP0007-late-quote.md",
         "# EP0007: Late quote\n\n> **Status:** Done\n\n" + BODY + "\n> **Note:** not metadata\n",
         {"status": "Done", "metadata": None}),
    Form("story before status", "plans/PL0001-story-first.md",
         "# PL0001: Story first\n\n" + _quote("**Story:** US0001", "**Status:** Complete")
         + "\n" + BODY,
         {"status": "Complete", "story": "US0001"}),
    # --- titles ---------------------------------------------------------------------------
    # A fence is not skippable: the block after it is body text, as in any later position.
    Form("a `#` line inside a fence is not the title", "notes/fenced.md",
         "```bash\n# a comment\n```\n\n~~~\n# another\n~~~\n\n# Fenced\n\n"
         "> **Status:** Done\n\n" + BODY,
         {"title": "Fenced", "status": None}),
    Form("no title: the doc_id stands in", "notes/untitled.md", "> **Status:** Draft\n\n" + BODY,
         {"title": "untitled", "status": "Draft"}),
    Form("rules and subheadings before the block", "epics/EP0009-ruled.md",
         "---\n\n# EP0009: Ruled\n\n## Meta\n\n> **Status:** Ready\n\n" + BODY,
         {"title": "EP0009: Ruled", "status": "Ready"}),
    # --- encodings ------------------------------------------------------------------------
    Form("CRLF line endings", "stories/US0006-crlf.md",
         ("# US0006: CRLF\n\n> **Status:** Done\n> **Epic:** EP0001\n\n" + BODY).replace(
             "\n", "\r\n"),
         {"status": "Done", "epic": "EP0001", "title": "US0006: CRLF"}),
    Form("lone CR line endings", "stories/US0007-cr.md",
         ("# US0007: CR\n\n> **Status:** Done\n> **Epic:** EP0001\n\n" + BODY).replace("\n", "\r"),
         {"status": "Done", "epic": "EP0001", "title": "US0007: CR"}),
    Form("a byte order mark", "stories/US0008-bom.md",
         "\ufeff# US0008: BOM\n\n> **Status:** Done\n> **Epic:** EP0001\n\n" + BODY,
         {"status": "Done", "title": "US0008: BOM"}),
    # --- references -----------------------------------------------------------------------
    Form("epic as a markdown link", "stories/US0009-link.md",
         "# US0009: Link\n\n> **Status:** Done\n"
         "> **Epic:** [EP0001: Forms](../epics/EP0001-forms.md)\n\n" + BODY,
         {"epic": "EP0001"}),
    Form("a link that climbs two folders", "test-specs/TS0001-climb.md",
         "# TS0001: Climb\n\n> **Status:** Complete\n"
         "> **Epic:** [EP0001: Forms](../../epics/EP0001-forms.md)\n\n" + BODY,
         {"epic": "EP0001", "doc_type": "test-spec"}),
    Form("a wiki link with a dashed id", "stories/US0010-wiki.md",
         "# US0010: Wiki\n\n> **Status:** Done\n> **Epic:** [[EP-0001]]\n\n" + BODY,
         {"epic": "EP0001"}),
    Form("a ULID id", "stories/US-01HZX3Y4QW-ulid.md",
         "# US-01HZX3Y4QW: ULID\n\n> **Status:** Draft\n> **Epic:** EP0001\n\n" + BODY,
         {"ref_id": "US01HZX3Y4QW", "epic": "EP0001"}),
    Form("depends on and aliases, repeats dropped", "stories/US0011-depends.md",
         "# US0011: Depends\n\n" + _quote(
             "**Status:** Draft", "**Epic:** EP0001",
             "**Depends on:** US0001, [[US-0002]], US0001", "**Aliases:** US0111, US0112")
         + "\n" + BODY,
         {"depends_on": "US0001,US0002", "aliases": "US0111,US0112"}),
    Form("the epic named on a body line", "plans/PL0002-body-epic.md",
         "# PL0002: Body epic\n\n> **Status:** Draft\n> **Story:** US0002\n\n"
         "**Epic**: EP0001 (from the body)\n\n" + BODY,
         {"epic": None, "content_epic": "EP0001"}),
    # --- placeholders and canonical statuses ----------------------------------------------
    Form("placeholders mean nothing", "notes/placeholders.md",
         "# Placeholders\n\n> **Status:** —\n> **Epic:** -\n> **Story:** —\n\n" + BODY,
         {"status": None, "epic": None, "story": None}),
    Form("a placeholder word", "notes/not-applicable.md",
         "# Not applicable\n\n> **Status:** N/A\n\n" + BODY, {"status": None}),
    Form("status in bold with a note", "stories/US0012-noisy-status.md",
         "# US0012: Noisy\n\n> **Status:** **Done** - all criteria met\n> **Epic:** EP0001\n\n"
         + BODY,
         {"status": "Done"}),
    Form("a curly apostrophe", "stories/US0013-curly.md",
         "# US0013: Curly\n\n> **Status:** won\N{RIGHT SINGLE QUOTATION MARK}t implement\n"
         "> **Epic:** EP0001\n\n" + BODY,
         {"status": "Won't Implement"}),
    Form("a status from the project's own vocabulary", "stories/US0014-custom.md",
         "# US0014: Custom\n\n> **Status:** on hold (waiting)\n> **Epic:** EP0001\n\n" + BODY,
         {"status": "On Hold"}),
    Form("an unknown status is kept, cut at its note", "bugs/BG0001-unknown-status.md",
         "# BG0001: Unknown status\n\n> **Status:** Parked (see notes)\n\n" + BODY,
         {"status": "Parked", "doc_type": "bug"}),
    # --- story points ---------------------------------------------------------------------
    Form("story points with spaces and zeros", "stories/US0015-points.md",
         "# US0015: Points\n\n> **Status:** Done\n> **Epic:** EP0001\n> **Story Points:**  08 \n\n"
         + BODY,
         {"story_points": 8, "metadata": None}),
    Form("story points that are not a number", "stories/US0016-estimate.md",
         "# US0016: Estimate\n\n> **Status:** Done\n> **Epic:** EP0001\n"
         "> **Story Points:** 3 (est)\n\n" + BODY,
         {"story_points": None, "metadata": {"story_points": "3 (est)"}}),
    Form("story points beyond 64 bits", "stories/US0017-huge.md",
         "# US0017: Huge\n\n> **Status:** Done\n> **Epic:** EP0001\n"
         "> **Story Points:** 99999999999999999999\n\n" + BODY,
         {"story_points": None, "metadata": {"story_points": "99999999999999999999"}}),
    # --- identity -------------------------------------------------------------------------
    Form("an upper-case suffix", "stories/US0018-shout.MD",
         "# US0018: Shout\n\n> **Status:** Done\n> **Epic:** EP0001\n\n" + BODY,
         {"doc_type": "story", "doc_id": "US0018-shout"}),
    Form("an archived copy", "archive/stories/US0001-colon-inside.md",
         "# US0001: Colon inside (old)\n\n> **Status:** Superseded\n> **Epic:** EP0001\n\n"
         + BODY,
         {"archived": True, "status": "Superseded"}),
    Form("front matter and nothing else", "epics/EP0001-forms.md",
         "# EP0001: Forms\n\n> **Status:** In Progress\n> **Owner:** Fay\n",
         {"content": "", "content_chars": 0, "status": "In Progress"}),
)  # fmt: skip


def files() -> dict[str, str]:
    """The front-matter tree: every form, and the `.config.yaml` with its own statuses."""
    return {".config.yaml": CONFIG_YAML, **{form.path: form.text for form in FORMS}}
