"""Id heads, type inference and references (SPEC §8.1-8.3)."""

import time

import pytest

from sdlc_lens.parsing import (
    DOC_TYPE_BY_PREFIX,
    extract_ref,
    extract_refs,
    id_head,
    infer_type_and_id,
)
from sdlc_lens.parsing.identity import MAX_REFS


def test_prefix_table() -> None:
    assert dict(DOC_TYPE_BY_PREFIX) == {
        "EP": "epic",
        "US": "story",
        "PL": "plan",
        "TS": "test-spec",
        "BG": "bug",
        "CR": "cr",
        "RFC": "rfc",
        "WF": "workflow",
        "RETRO": "retro",
        "RV": "review",
    }


@pytest.mark.parametrize(
    ("text", "head"),
    [
        ("US0001", "US0001"),
        ("CR-0003", "CR0003"),
        ("CR-0003-x", "CR0003"),
        ("BG-01KX8B82", "BG01KX8B82"),
        ("US-01KXCB7V", "US01KXCB7V"),
        ("us-01kxcb7v-y", "US01KXCB7V"),
        ("US-01KXCB7V-make-the-thing", "US01KXCB7V"),
        ("RFC0001", "RFC0001"),
        ("RETRO0002", "RETRO0002"),
        ("EP0001-project-management", "EP0001"),
        ("ts0012-task-deadlines", "TS0012"),
        ("WF-0011", "WF0011"),
        ("RV0001", "RV0001"),
        ("PL123456-long", "PL123456"),
        ("BG-12345678", "BG12345678"),  # an all-digit 8-char tail is a ULID tail, same result
    ],
)
def test_id_head_accepts(text: str, head: str) -> None:
    assert id_head(text) == head


@pytest.mark.parametrize(
    "text",
    [
        "0001-framework",
        "SPR-G-plan",
        "PL-answered",
        "US-abcdefgh",  # a ULID tail needs at least one digit
        "US001",  # sequential tails need >= 4 digits
        "EPIC-0001",  # the letters must be exactly a known prefix
        "XX0001",
        "prd",
        "",
        " US0001",  # only at the very start
        "US-01IL0OU8",  # I, L, O, U are not Crockford base32 and there are < 4 digits in a row
        "US\u0661\u0662\u0663\u0664",  # Arabic-Indic digits are not id digits
        "\u212aUS0001",
    ],
)
def test_id_head_rejects(text: str) -> None:
    assert id_head(text) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("stories/US0001-x.md", ("story", "US0001-x")),
        ("epics/EP0001-project-management.md", ("epic", "EP0001-project-management")),
        ("stories/US-01KXCB7V-make-the-thing.md", ("story", "US-01KXCB7V-make-the-thing")),
        ("bugs/bg0001-lower.md", ("bug", "bg0001-lower")),
        ("CR-0003-x.md", ("cr", "CR-0003-x")),
        ("rfcs/RFC0001-a.md", ("rfc", "RFC0001-a")),
        ("retros/RETRO0002.md", ("retro", "RETRO0002")),
        ("reviews/RV0001-r.md", ("review", "RV0001-r")),
        ("plans/PL0001-a.md", ("plan", "PL0001-a")),
        ("test-specs/TS0001-a.md", ("test-spec", "TS0001-a")),
        ("workflows/WF0001-a.md", ("workflow", "WF0001-a")),
        ("stories/EP0001-x.md", ("epic", "EP0001-x")),  # the prefix beats the folder
        ("prd.md", ("prd", "prd")),
        ("PRD.md", ("prd", "prd")),
        ("Brand-Guide.md", ("brand-guide", "brand-guide")),
        ("trd.md", ("trd", "trd")),
        ("tsd.md", ("tsd", "tsd")),
        ("pvd.md", ("pvd", "pvd")),
        ("personas.md", ("personas", "personas")),
        ("decisions.md", ("decisions", "decisions")),
        ("constitution.md", ("constitution", "constitution")),
        ("epics/prd.md", ("prd", "prd")),  # singleton beats folder
        ("epics/draft-idea.md", ("epic", "draft-idea")),
        ("stories/x.md", ("story", "x")),
        ("plans/x.md", ("plan", "x")),
        ("test-specs/x.md", ("test-spec", "x")),
        ("bugs/x.md", ("bug", "x")),
        ("change-requests/x.md", ("cr", "x")),
        ("rfcs/x.md", ("rfc", "x")),
        ("workflows/x.md", ("workflow", "x")),
        ("retros/x.md", ("retro", "x")),
        ("reviews/x.md", ("review", "x")),
        ("decisions/ADR-001-use-sqlite.md", ("decision", "ADR-001-use-sqlite")),
        ("personas/sam.md", ("persona", "sam")),
        ("product/vision.md", ("pvd", "vision")),
        ("Stories/x.md", ("story", "x")),  # folder names are case-insensitive
        ("notes/README.md", ("other", "README")),
        ("README.md", ("other", "README")),
        ("./stories/x.md", ("story", "x")),
        ("0001-framework.md", ("other", "0001-framework")),
        ("stories/SPR-G-plan.md", ("story", "SPR-G-plan")),
    ],
)
def test_infer_type_and_id(path: str, expected: tuple[str, str]) -> None:
    assert infer_type_and_id(path) == expected


@pytest.mark.parametrize(
    "path", ["_index.md", "stories/_index.md", "epics/_INDEX.md", "a/b/_Index.MD", ""]
)
def test_index_files_are_skipped(path: str) -> None:
    assert infer_type_and_id(path) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("stories/archive/bugs/x.md", ("bug", "x")),
        ("epics/stories/x.md", ("story", "x")),
        ("archive/stories/x.md", ("story", "x")),
        ("stories/drafts/x.md", ("story", "x")),
    ],
)
def test_quirk_innermost_folder_wins(path: str, expected: tuple[str, str]) -> None:
    assert infer_type_and_id(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("stories/US0003-x.MD", ("story", "US0003-x")),
        ("stories/notes.Md", ("story", "notes")),
        ("PRD.MD", ("prd", "prd")),
    ],
)
def test_quirk_uppercase_md_suffix(path: str, expected: tuple[str, str]) -> None:
    assert infer_type_and_id(path) == expected


@pytest.mark.parametrize(
    ("value", "ref"),
    [
        ("[EP0007: T](../epics/EP0007-x.md)", "EP0007"),
        ("[[CR-0496]]", "CR0496"),
        ("US0163: Something", "US0163"),
        ("CR-0003", "CR0003"),
        ("EP-01KXCBC9", "EP01KXCBC9"),
        ("[US-01KXCB7V: T](../stories/US-01KXCB7V-x.md)", "US01KXCB7V"),
        ("see (EP0002)", "EP0002"),
        ("TBD, then US0009", "US0009"),
        ("RETRO0001", "RETRO0001"),
        ("-", None),
        ("--", None),
        ("\N{EM DASH}", None),
        ("\N{EN DASH}", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("TBD", None),
        ("us0001", None),  # references need an upper-case prefix
        ("XUS0001", None),  # ... at a word boundary
        ("_US0001", None),
        ("US-abcdefgh", None),
        ("US001", None),
    ],
)
def test_extract_ref(value: str | None, ref: str | None) -> None:
    assert extract_ref(value) == ref


@pytest.mark.parametrize(
    ("value", "refs"),
    [
        ("US0001, US0002", "US0001,US0002"),
        ("US0001 US0002", "US0001,US0002"),
        ("[US0002](../stories/US0002-x.md), US0001", "US0002,US0001"),
        ("CR-0003, [[CR-0003]], EP-01KXCBC9", "CR0003,EP01KXCBC9"),
        ("None yet", None),
        ("-", None),
        (None, None),
        ("", None),
    ],
)
def test_extract_refs(value: str | None, refs: str | None) -> None:
    assert extract_refs(value) == refs


def test_reference_scan_is_linear() -> None:
    value = "US-" + "A" * 1_000_000 + " US-" * 100_000 + "EP" * 200_000
    start = time.perf_counter()
    assert extract_refs(value) is None
    assert time.perf_counter() - start < 3.0


def test_a_field_yields_at_most_max_refs_references() -> None:
    # Each reference becomes a stored link: one line naming five million ids was five million
    # rows. The first MAX_REFS distinct ones are kept, in order.
    line = ", ".join(f"US{n:07d}" for n in range(1_000_000))
    refs = extract_refs(line)
    assert refs is not None
    assert refs.split(",") == [f"US{n:07d}" for n in range(MAX_REFS)]


def test_a_field_repeating_one_id_is_read_only_so_far() -> None:
    line = "US0001, " * 1_000_000 + "US0002"
    assert extract_refs(line) == "US0001"  # US0002 lies past MAX_REF_MENTIONS mentions
    assert extract_refs("US0001, " * 10 + "US0002") == "US0001,US0002"
