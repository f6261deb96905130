"""Best-effort `.config.yaml` / `.version` reading."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.sample_projects import VERSION_FILE
from sdlc_lens.parsing import ProjectConfig, parse_project_config
from tests.helpers import examples

EMPTY = ProjectConfig(schema_version=None, profile=None, status_vocab={})


def test_version_file_as_sdlc_studio_writes_it() -> None:
    config = parse_project_config(None, VERSION_FILE)
    assert config == ProjectConfig(schema_version=2, profile=None, status_vocab={})


@pytest.mark.parametrize(
    ("config", "version"),
    [
        (None, None),
        ("", ""),
        ("garbage: [unclosed\n  - : :\n\t\x00", None),
        ("- a\n- b\n", "just text"),
        ("{not: yaml", "::::"),
        ("status_vocab: nonsense\n", None),
        ("status_vocab:\n  - a\n  - b\n", None),  # a list, not a mapping
    ],
)
def test_garbage_gives_defaults(config: str | None, version: str | None) -> None:
    assert parse_project_config(config, version) == EMPTY


def test_scalars_from_config() -> None:
    text = 'schema_version: 3  # bumped\nprofile: "enterprise"\nname: x\n'
    assert parse_project_config(text, None) == ProjectConfig(3, "enterprise", {})


def test_config_beats_version_then_version_fills_gaps() -> None:
    assert parse_project_config("schema_version: 3\n", "schema_version: 2\nprofile: lean\n") == (
        ProjectConfig(3, "lean", {})
    )


def test_non_integer_schema_version_falls_back_to_version_file() -> None:
    assert parse_project_config("schema_version: two\n", "schema_version: '2'\n") == (
        ProjectConfig(2, None, {})
    )


@pytest.mark.parametrize(
    ("line", "profile"),
    [
        ("profile: lean", "lean"),
        ("profile: 'lean'", "lean"),
        ('profile: "lean # not a comment"', "lean # not a comment"),
        ("profile: lean # comment", "lean"),
        ("profile: 'it''s'", "it's"),
        ("profile: ~", None),
        ("profile: null", None),
        ("profile:", None),
        ("# profile: lean", None),
        ("  profile: nested", None),  # not top level
    ],
)
def test_profile(line: str, profile: str | None) -> None:
    assert parse_project_config(line + "\n", None).profile == profile


def test_status_vocab_flow_and_block_styles() -> None:
    text = """\
# project config
schema_version: 2
status_vocab:
  story: [Draft, "In QA", 'Gated']   # flow list
  bug:
    - Open
    - "Needs Info"   # quoted
    - Triaged
  epic:
  - Parked
  Plan: []
  workflow:
    nested:
      - ignored
profile: lean
"""
    assert parse_project_config(text, None) == ProjectConfig(
        schema_version=2,
        profile="lean",
        status_vocab={
            "story": ["Draft", "In QA", "Gated"],
            "bug": ["Open", "Needs Info", "Triaged"],
            "epic": ["Parked"],
        },
    )


def test_status_vocab_flow_mapping() -> None:
    text = 'status_vocab: {story: [Gated, "A, B"], bug: [Triaged]}\n'
    assert parse_project_config(text, None).status_vocab == {
        "story": ["Gated", "A, B"],
        "bug": ["Triaged"],
    }


def test_status_vocab_from_version_when_config_has_none() -> None:
    assert parse_project_config("profile: x\n", "status_vocab:\n  cr: [Parked]\n") == (
        ProjectConfig(None, "x", {"cr": ["Parked"]})
    )


def test_crlf_and_bom() -> None:
    text = "\ufeffschema_version: 4\r\nstatus_vocab:\r\n  rfc:\r\n    - Parked\r\n"
    assert parse_project_config(text, None) == ProjectConfig(4, None, {"rfc": ["Parked"]})


yamlish = st.lists(
    st.sampled_from(
        [*" \t\n:-#'\"[]{},|>&*!~ab2", "status_vocab:", "schema_version:", "profile:", "  "]
    ),
    max_size=100,
).map("".join)


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(st.none(), yamlish, st.text()), st.one_of(st.none(), yamlish, st.text()))
def test_fuzz_never_raises(config: str | None, version: str | None) -> None:
    result = parse_project_config(config, version)
    assert result.schema_version is None or isinstance(result.schema_version, int)
    assert all(tokens and all(tokens) for tokens in result.status_vocab.values())
