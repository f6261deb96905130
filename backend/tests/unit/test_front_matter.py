"""Front-matter parser: SPEC §7 examples plus one test per fixed quirk (SPEC §12)."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdlc_lens.parsing import ParsedDocument, parse_front_matter
from sdlc_lens.parsing.front_matter import normalise_key, normalise_text
from tests.helpers import assert_body_loses_only_title_and_front_matter, examples


def fields(text: str) -> dict[str, str]:
    return parse_front_matter(text).fields


# --- title -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("# US0001: Title\n", "US0001: Title"),
        ("#   Padded title   \n", "Padded title"),
        ("no heading at all\n", None),
        ("", None),
        ("## Only a subheading\n", None),
        ("#NoSpace\n", None),
        (" # indented\n", None),
        ("intro\n\n# Later\n\n# Second\n", "Later"),
        ("> **Status:** Done\n\n# After the block\n", "After the block"),
        ("# \n\n# Real\n", "Real"),  # an empty heading is no title
    ],
)
def test_title(text: str, title: str | None) -> None:
    assert parse_front_matter(text).title == title


@pytest.mark.parametrize(
    "text",
    [
        "```bash\n# comment\n```\n\n# Real Title\n",
        "~~~\n# comment\n~~~\n# Real Title\n",
        "   ```\n# comment\n   ```\n# Real Title\n",  # fences may be indented up to 3 spaces
        "````\n# a\n```\n# still code\n````\n# Real Title\n",  # a shorter fence doesn't close
        "```\n# a\n~~~\n# still code\n```\n# Real Title\n",  # ~~~ doesn't close ```
        "```python\n# a\n```   \n# Real Title\n",  # closing fence may have trailing spaces
    ],
)
def test_quirk_title_in_code_fence_is_not_the_title(text: str) -> None:
    assert parse_front_matter(text).title == "Real Title"


def test_unclosed_fence_hides_every_later_heading() -> None:
    assert parse_front_matter("```\n# a\n# b\n").title is None


def test_four_space_indented_backticks_are_not_a_fence() -> None:
    assert parse_front_matter("    ```\n# Title\n").title == "Title"


def test_backtick_fence_info_string_may_not_contain_backticks() -> None:
    # "``` a ` b" is inline code, not a fence, so the heading after it is the title.
    assert parse_front_matter("``` a ` b\n# Title\n").title == "Title"


# --- content: the body (SPEC-2 §13.3) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("\ufeffIntro\n", "Intro\n"),
        ("a\r\nb\r\n", "a\nb\n"),
        ("a\rb\r", "a\nb\n"),
        ("a\r\n\rb", "a\n\nb"),
        ("", ""),
        ("x\ufeffy", "x\ufeffy"),  # only a leading BOM is stripped
    ],
)
def test_content_is_normalised_text(text: str, content: str) -> None:
    assert parse_front_matter(text).content == content
    assert normalise_text(text) == content


# §13.3 rows 3-8 (rows 1 and 2 are fixture files: tests/api/test_relations_fixture.py) and the
# two extra vectors of SPEC-2's test vector 1.
@pytest.mark.parametrize(
    ("text", "content"),
    [
        pytest.param("> **Status:** Draft\n\n# T3\n\nBody text.\n", "Body text.\n", id="row3"),
        pytest.param(
            "# T4\n\nIntro.\n\n## Notes\n\n> Remember to back up.\n\nAfter quote.\n",
            "Intro.\n\n## Notes\n\n> Remember to back up.\n\nAfter quote.\n",
            id="row4-prose-quote-is-not-front-matter",
        ),
        pytest.param(
            "# T5\n\n> **Status:** Done\n\n## A\n\n> A prose quote.\n\nEnd.\n",
            "## A\n\n> A prose quote.\n\nEnd.\n",
            id="row5-later-quote-kept",
        ),
        pytest.param(
            "# T6\n\n~~~bash\n> echo hi\n~~~\n\nDone.\n",
            "~~~bash\n> echo hi\n~~~\n\nDone.\n",
            id="row6-quote-in-fence-kept",
        ),
        pytest.param(
            "# T8\n\n> **Status:** Draft\n\n> **Note:** second\n\nBody.\n",
            "> **Note:** second\n\nBody.\n",
            id="row7-second-block-kept",
        ),
        pytest.param("# T9\n\n> **Status:** Draft\n", "", id="row8-nothing-but-front-matter"),
        pytest.param(
            "\ufeff# T\r\n\r\n> **Status:** Draft\r\n\r\nBody.\r\n", "Body.\n", id="crlf-bom"
        ),
        pytest.param(
            "# T\n\n> **Status:** Draft\n>\n> **Owner:** Bo\n\nBody.\n",
            "Body.\n",
            id="bare-quote-line-inside-the-block",
        ),
    ],
)
def test_body_contract_vectors(text: str, content: str) -> None:
    assert parse_front_matter(text).content == content


def test_body_vector_bare_quote_line_keeps_the_owner() -> None:
    parsed = parse_front_matter("# T\n\n> **Status:** Draft\n>\n> **Owner:** Bo\n\nBody.\n")
    assert parsed.fields == {"status": "Draft", "owner": "Bo"}
    assert parsed.title == "T"


def test_body_keeps_fallback_lines_and_drops_only_the_title() -> None:
    text = (
        "# PRD\n\n**Status:** Draft\n\n## Section\n\nLong prose.\n\n"
        "> **Confidence Markers:** [HIGH] a | [LOW] b\n>\n> **Status Values:** Complete\n"
    )
    parsed = parse_front_matter(text)
    assert parsed.content == text.removeprefix("# PRD\n\n")
    assert parsed.fields == {"status": "Draft"}


def test_body_keeps_a_block_that_follows_a_long_introduction() -> None:
    intro = "".join(f"Introduction paragraph {n}.\n\n" for n in range(50))
    text = f"# Title\n\n{intro}> **Status:** Done\n> **Owner:** Ann\n\nBody\n"
    parsed = parse_front_matter(text)
    # The block is not at the top, so it is neither front matter nor removed.
    assert parsed.fields == {}
    assert parsed.title == "Title"
    assert parsed.content == text.removeprefix("# Title\n\n")


def test_body_of_a_document_with_front_matter() -> None:
    text = "# T\n\n> **Status:** Done\n\nBody line\n"
    parsed = parse_front_matter(text)
    assert parsed == ParsedDocument(title="T", fields={"status": "Done"}, content="Body line\n")


@pytest.mark.parametrize(
    ("text", "content"),
    [
        # A title below a preamble or after a fence is not at the top: it stays in place.
        ("Preamble.\n\n# Late\n\nText.\n", "Preamble.\n\n# Late\n\nText.\n"),
        ("```\n# not a title\n```\n# T\n", "```\n# not a title\n```\n# T\n"),
        # A rule or sub-heading between title and block stays; only T and B go.
        (
            "# T\n---\n> **Status:** Done\n\nBody\n",
            "---\n\nBody\n",
        ),
        ("## Sub\n# T\n> **Status:** Done\nBody\n", "## Sub\n# T\nBody\n"),
        # `# ` with nothing after it supplies no title, so it is not T.
        ("# \n# T\nBody\n", "# \n# T\nBody\n"),
        # A quote without any `**Key**` line is prose, never front matter.
        ("# T\n\n> just a quote\n\nBody\n", "> just a quote\n\nBody\n"),
        # Blank-line runs, trailing spaces and the missing final newline are kept as they are.
        ("# T\n\n> **A:** 1\n\n\n  \nx  \n\n\n\ny", "x  \n\n\n\ny"),
        ("   \n\t\n# T\n\n\n", ""),
    ],
)
def test_body_edge_cases(text: str, content: str) -> None:
    assert parse_front_matter(text).content == content


# --- KV lines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Story Points", "story_points"),
        ("Depends on", "depends_on"),
        ("Raised-by", "raised-by"),
        ("Status:", "status"),
        ("  Target \t Release : ", "target_release"),
        ("PRD Reference", "prd_reference"),
        ("Owner (team)", "owner_(team)"),
    ],
)
def test_key_normalisation(raw: str, key: str) -> None:
    assert normalise_key(raw) == key


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("> **Status:** Done", {"status": "Done"}),
        ("> **Status**: Done", {"status": "Done"}),
        ("> **Status** Done", {"status": "Done"}),
        ("> **Status:**Done", {"status": "Done"}),
        ("> **Status:**", {"status": ""}),
        ("> **Status:**    ", {"status": ""}),
        ("> **Created:** 2026-01-23T10:00:00Z", {"created": "2026-01-23T10:00:00Z"}),
        ("> **Story Points:** 5", {"story_points": "5"}),
        ("> **Depends on:** US0001", {"depends_on": "US0001"}),
        ("> **Raised-by:** QA", {"raised-by": "QA"}),
        (
            "> **Epic:** [EP0007: T](../epics/EP0007-x.md)",
            {"epic": "[EP0007: T](../epics/EP0007-x.md)"},
        ),
        ("> **Status:**   Done   ", {"status": "Done"}),
    ],
)
def test_kv_line(line: str, expected: dict[str, str]) -> None:
    assert fields(f"# T\n\n{line}\n") == expected


def test_duplicate_key_last_wins() -> None:
    assert fields("> **Status:** Draft\n> **Owner:** A\n> **Status:** Done\n") == {
        "status": "Done",
        "owner": "A",
    }


def test_double_quote_lines_never_count() -> None:
    assert fields(">> **Status:** Done\n") == {}
    # A `>>` line ends the block.
    assert fields("> **Status:** Done\n>> **Owner:** A\n> **Priority:** P1\n") == {"status": "Done"}


def test_inline_header_is_split() -> None:
    assert fields("> **Status:** Done · **CR:** CR-0088 · **Points:** 5\n") == {
        "status": "Done",
        "cr": "CR-0088",
        "points": "5",
    }


def test_inline_header_with_pipe_and_colon_outside_bold() -> None:
    assert fields("> **Status:** Draft | **Owner**: Ann\n") == {"status": "Draft", "owner": "Ann"}


def test_separator_without_a_key_stays_in_the_value() -> None:
    line = "> **Confidence Markers:** [HIGH] clear | [MEDIUM] inferred · **bold** text\n"
    assert fields(line) == {
        "confidence_markers": "[HIGH] clear | [MEDIUM] inferred · **bold** text"
    }


def test_separator_before_an_empty_bold_key_stays_in_the_value() -> None:
    assert fields("> **Status:** Done | ** :** x\n") == {"status": "Done | ** :** x"}


def test_quirk_no_space_after_quote_marker_is_a_key() -> None:
    assert fields("# T\n\n>**Status:** Done\n>**Owner:** Ann\n") == {
        "status": "Done",
        "owner": "Ann",
    }


def test_quirk_indented_quote_line_is_a_key() -> None:
    assert fields("# T\n\n  > **Status:** Done\n   > **Owner:** Ann\n") == {
        "status": "Done",
        "owner": "Ann",
    }


# --- non-KV lines ------------------------------------------------------------------------------


def test_quirk_stray_lines_not_glued_into_value() -> None:
    text = "> **Status:** Done\n> stray1\n> stray2\n> **Owner:** Ann\n"
    assert fields(text) == {"status": "Done", "owner": "Ann"}


def test_single_stray_line_between_keys_is_ignored() -> None:
    assert fields("> **Status:** Done\n> stray\n> **Owner:** Ann\n") == {
        "status": "Done",
        "owner": "Ann",
    }


def test_wrapped_value_at_end_of_paragraph_continues() -> None:
    text = "> **Status:** Done\n> **Summary:** first part\n>   second part\n> third\n"
    assert fields(text) == {"status": "Done", "summary": "first part second part third"}


def test_continuation_of_empty_value_has_no_leading_space() -> None:
    assert fields("> **Summary:**\n> wrapped\n") == {"summary": "wrapped"}


def test_continuation_goes_to_last_inline_key() -> None:
    assert fields("> **Status:** Done · **Owner:** Ann\n> Smith\n") == {
        "status": "Done",
        "owner": "Ann Smith",
    }


def test_continuation_does_not_cross_paragraphs() -> None:
    text = "> **Status:** Done\n>\n> A prose note inside the block.\n>\n> **Owner:** Ann\n"
    assert fields(text) == {"status": "Done", "owner": "Ann"}


def test_stray_line_before_first_key_is_ignored() -> None:
    assert fields("> Note: metadata follows\n> **Status:** Done\n") == {"status": "Done"}


def test_block_without_keys_is_no_front_matter() -> None:
    text = "# T\n\n> Just a quote.\n\n**Status:** Draft\n"
    assert fields(text) == {}


# --- where the block may start -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "> **Status:** Done\n",
        "\n\n> **Status:** Done\n",
        "# Title\n> **Status:** Done\n",
        "# Title\n\n## Sub\n\n> **Status:** Done\n",
        "---\n# Title\n\n> **Status:** Done\n",
        "# Title\n\n---\n\n> **Status:** Done\n",
    ],
)
def test_block_accepted_at_top(text: str) -> None:
    assert fields(text) == {"status": "Done"}


def test_block_ends_at_first_non_quote_line() -> None:
    text = "# T\n\n> **Status:** Done\n\n> **Owner:** Ann\n"
    assert fields(text) == {"status": "Done"}


def test_block_after_prose_is_not_front_matter() -> None:
    assert fields("Intro.\n\n> **Status:** Done\n") == {}


# --- fallback ----------------------------------------------------------------------------------


def test_fallback_plain_bold_lines() -> None:
    text = (
        "# Product Requirements Document\n\n**Project:** X\n**Version:** 1.2\n"
        "**Status:** Approved\n\n---\n\n## 1. Overview\n\nProse.\n\n**Later:** ignored\n"
    )
    assert fields(text) == {"project": "X", "version": "1.2", "status": "Approved"}


def test_fallback_accepts_colon_outside_bold() -> None:
    assert fields("# T\n**Status**: Draft\n") == {"status": "Draft"}


def test_fallback_requires_a_colon() -> None:
    assert fields("# T\n\n**As a** developer\n**Status:** Draft\n") == {}


def test_fallback_stops_at_first_other_line() -> None:
    assert fields("# T\n**Status:** Draft\nprose\n**Owner:** Ann\n") == {"status": "Draft"}


def test_fallback_not_used_when_block_accepted() -> None:
    text = "# T\n\n> **Status:** Done\n\n**Owner:** Ann\n"
    assert fields(text) == {"status": "Done"}


# --- robustness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "> **" + "*" * 100_000,
        "> **" + "a" * 1_000_000,
        "**" + "a" * 1_000_000,
        "\0" * 1_000_000,
        "> **K:** " + "|**" * 300_000,
        "> **K:** " + "| **a" * 300_000,
        "> **K:** x" + " " * 1_000_000 + "y",
        "`" * 1_000_000,
        "#" * 1_000_000,
        "```\n# x\n" * 200_000,
        "> x\n" * 100_000,
        "**a:** b\n" * 100_000,
        "\u2028\x0b\x1c# T\u0085\n" * 1000,
    ],
)
def test_pathological_input_is_linear(text: str) -> None:
    start = time.perf_counter()
    parsed = parse_front_matter(text)
    # Generous: any super-linear behaviour on these sizes takes minutes, not seconds.
    assert time.perf_counter() - start < 3.0
    assert_body_loses_only_title_and_front_matter(text, parsed)


def test_huge_document_with_front_matter_at_top_is_fast() -> None:
    text = "# T\n\n> **Status:** Done\n\n" + ("word " * 20 + "\n") * 200_000  # ~20 MB
    start = time.perf_counter()
    parsed = parse_front_matter(text)
    assert time.perf_counter() - start < 1.0
    assert parsed.title == "T"
    assert parsed.fields == {"status": "Done"}
    assert parsed.content == text.removeprefix("# T\n\n> **Status:** Done\n\n")


@pytest.mark.parametrize(
    "text",
    [
        # A value wrapped over 300,000 lines (3.8 MB) took 151 s to sync: quadratic joining.
        "# T\n\n> **Status:** Done\n" + "> aaaaaaaaaa\n" * 300_000,
        "# T\n\n" + "> **K:** vvvv\n" * 1_000_000,  # a million keys
        "\n" * 10_000_000 + "# T\nbody\n",  # ten million blank lines
        "# T\n" + "## heading\n" * 1_000_000,
        "# T\n\n> **Status:** Done\n" + ">\n" * 3_000_000,
    ],
    ids=["wrapped-value", "million-keys", "blank-lines", "headings", "empty-quote-lines"],
)
def test_hostile_front_matter_of_many_lines_is_parsed_in_a_blink(text: str) -> None:
    start = time.perf_counter()
    parse_front_matter(text)
    # Every line of the front-matter scan costs Python-level work; the scan is bounded, so
    # these take a fraction of a second (they took from 3 s to minutes before).
    assert time.perf_counter() - start < 2.0


def test_front_matter_is_read_from_the_first_thousand_lines_and_the_rest_is_body() -> None:
    keys = [f"> **Key {n}:** value {n}" for n in range(1500)]
    text = "# T\n\n" + "\n".join(keys) + "\n"
    parsed = parse_front_matter(text)
    # Lines 0-1 are the title and a blank line: the scan reads 998 block lines.
    assert list(parsed.fields) == [f"key_{n}" for n in range(998)]
    assert parsed.content == "\n".join(keys[998:]) + "\n"


def test_a_value_wrapped_over_many_lines_keeps_every_piece_in_order() -> None:
    text = "> **Status:** Done\n" + "".join(f"> part {n}\n" for n in range(900))
    assert fields(text)["status"] == "Done " + " ".join(f"part {n}" for n in range(900))


def test_unicode_keys_and_values() -> None:
    parsed = parse_front_matter(
        "# ☃ Snow\n\n> **Ключ Два:** значение \N{MATHEMATICAL FRAKTUR CAPITAL U}\n"
    )
    assert parsed.title == "☃ Snow"
    assert parsed.fields == {"ключ_два": "значение \N{MATHEMATICAL FRAKTUR CAPITAL U}"}


markdownish = st.lists(
    st.sampled_from([*"> *#`~-:|·\n\r\t ab0", "**", "> **K:** ", "```", "\ufeff"]),
    max_size=100,
).map("".join)


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(markdownish, st.text(max_size=200)))
def test_fuzz_never_raises_and_keeps_every_other_line(text: str) -> None:
    parsed = parse_front_matter(text)
    assert_body_loses_only_title_and_front_matter(text, parsed)
    assert "\r" not in parsed.content
    assert all(key and key == key.lower() for key in parsed.fields)
    assert parsed.title is None or parsed.title == parsed.title.strip()


# Whole lines of the kinds the body rules care about, so examples have real structure.
document_lines = st.lists(
    st.sampled_from(
        [
            "# T",
            "# Other",
            "# ",
            "## Sub",
            "",
            "  ",
            "---",
            "```",
            "~~~bash",
            "> **Status:** Done",
            ">**Owner:** Ann",
            "  > **Epic:** EP0001",
            "> prose quote",
            ">",
            ">> nested",
            "**Key:** value",
            "Body text.",
            "    indented code",
        ]
    ),
    max_size=30,
)


@settings(max_examples=examples(500), deadline=None)
@given(document_lines, st.booleans(), st.booleans())
def test_body_never_loses_a_line_outside_title_and_front_matter(
    lines: list[str], final_newline: bool, crlf: bool
) -> None:
    text = "\n".join(lines) + ("\n" if final_newline else "")
    if crlf:
        text = text.replace("\n", "\r\n")
    parsed = parse_front_matter(text)
    assert_body_loses_only_title_and_front_matter(text, parsed)
    assert not parsed.content.startswith(("\n", " \n", "  \n"))
    # A title line leading the document is always the one removed.
    normalised = normalise_text(text).split("\n")
    first = next((line for line in normalised if line.strip()), "")
    if parsed.title is not None and first.startswith("# ") and first[2:].strip() == parsed.title:
        assert parsed.content.split("\n").count(first) == normalised.count(first) - 1
