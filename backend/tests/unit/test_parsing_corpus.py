"""The parsing layer against whole sdlc-studio trees: every generated tree (with the values
each front-matter form must give), and every real tree SDLC_LENS_TEST_CORPUS names."""

from typing import Any

import pytest

from harness.front_matter_forms import CONFIG_YAML, FORMS, Form
from sdlc_lens.parsing import (
    DocumentRecord,
    StatusVocabulary,
    build_document,
    id_head,
    parse_front_matter,
    parse_project_config,
)
from tests.fixtures import CorpusTree, fixture_trees
from tests.helpers import assert_body_loses_only_title_and_front_matter


def _build(tree: str, rel_path: str) -> DocumentRecord:
    text = fixture_trees()[tree].files[rel_path]
    assert isinstance(text, str)
    record = build_document(rel_path, text)
    assert record is not None
    return record


def test_every_file_of_the_tree(corpus_tree: CorpusTree) -> None:
    files = sorted(p for p in corpus_tree.path.rglob("*") if p.suffix.lower() == ".md")
    assert files
    for path in files:
        rel_path = path.relative_to(corpus_tree.path).as_posix()
        text = path.read_bytes().decode("utf-8")  # as the sync reads it: CR and BOM intact
        record = build_document(rel_path, text)
        if path.name.lower() == "_index.md":
            assert record is None, rel_path
            continue
        assert record is not None, rel_path
        assert record.title, rel_path
        # The body starts below the title and front matter and keeps every other line.
        assert not record.content.startswith(f"# {record.title}"), rel_path
        assert not record.content.startswith("\n"), rel_path
        assert_body_loses_only_title_and_front_matter(text, parse_front_matter(text))
        if id_head(path.stem) is not None:
            assert record.ref_id == id_head(path.stem), rel_path
            assert record.status is not None, rel_path
            assert record.doc_id == path.stem, rel_path


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_every_front_matter_form_reads_as_intended(form: Form) -> None:
    vocabulary = StatusVocabulary(parse_project_config(CONFIG_YAML, None).status_vocab)
    record = build_document(form.path, form.text, vocabulary)
    assert record is not None
    got: dict[str, Any] = {name: getattr(record, name) for name in form.expected}
    assert got == form.expected


SPOT_CHECKS = [
    ("recipe-box", "stories/US0002-add-a-recipe.md", "story", "Done", "EP0001", None),
    ("recipe-box", "epics/EP0004-docker-deployment.md", "epic", "Done", None, None),
    ("recipe-box", "plans/PL0010-frontend-image-implementation-plan.md", "plan", "Complete",
     "EP0004", "US0010"),
    ("recipe-box", "test-specs/TS0002-meal-planner.md", "test-spec", "Complete", "EP0002", None),
    ("recipe-box", "workflows/WF0011-docker-compose-stack-story-workflow.md", "workflow", "Done",
     "EP0004", "US0011"),
    ("recipe-box", "prd.md", "prd", "Approved", None, None),
    ("recipe-box", "trd.md", "trd", "Approved", None, None),
    ("recipe-box", "tsd.md", "tsd", None, None, None),
    ("garden-monitor", "stories/US0005-docker-container-monitor.md", "story", "Planned", "EP0002",
     None),
    ("garden-monitor", "plans/PL0005-docker-container-monitor-implementation-plan.md", "plan",
     "Draft", "EP0002", "US0005"),
    ("garden-monitor", "epics/EP0001-foundation-and-login.md", "epic", "Draft", None, None),
    ("garden-monitor", "bugs/BG0001-chart-shows-yesterday.md", "bug", "Open", "EP0002", None),
    ("garden-monitor", "prd.md", "prd", "Draft", None, None),
]  # fmt: skip


@pytest.mark.parametrize(("tree", "rel_path", "doc_type", "status", "epic", "story"), SPOT_CHECKS)
def test_spot_checks(
    tree: str,
    rel_path: str,
    doc_type: str,
    status: str | None,
    epic: str | None,
    story: str | None,
) -> None:
    record = _build(tree, rel_path)
    assert (record.doc_type, record.status, record.epic, record.story) == (
        doc_type,
        status,
        epic,
        story,
    )


def test_epic_metadata() -> None:
    record = _build("recipe-box", "epics/EP0005-cooking-reminders.md")
    assert record.doc_id == "EP0005-cooking-reminders"
    assert record.title == "EP0005: Cooking Reminders"
    assert record.owner == "Kitchen Team"
    assert record.metadata == {"created": "2026-01-23", "target_release": "1.0"}


def test_prd_status_from_fallback_not_from_later_quote() -> None:
    record = _build("garden-monitor", "prd.md")
    assert record.status == "Draft"
    assert record.title == "Product Requirements Document"
    assert record.metadata == {
        "project": "Garden Monitor",
        "version": "1.0.0",
        "last_updated": "2026-02-09",
    }
    # The later "Confidence Markers" quote stays in the content, not in the metadata.
    assert "> **Confidence Markers:**" in record.content
    assert "> Nothing here applies to the first release." in record.content


def test_epic_ignores_later_prose_quote() -> None:
    record = _build("garden-monitor", "epics/EP0001-foundation-and-login.md")
    assert record.metadata == {"reviewer": "TBD", "created": "2026-02-09", "target_release": "1.0"}
    assert "> See the PRD and the TRD for the full constraints." in record.content


def test_prd_fallback_fields() -> None:
    parsed = parse_front_matter(fixture_trees()["recipe-box"].files["prd.md"])  # type: ignore[arg-type]
    assert parsed.fields == {
        "project": "Recipe Box",
        "version": "1.0.0",
        "last_updated": "2026-01-23",
        "status": "Approved",
    }


def test_personas_without_front_matter() -> None:
    record = _build("recipe-box", "personas.md")
    assert (record.doc_type, record.doc_id, record.status, record.metadata) == (
        "personas",
        "personas",
        None,
        None,
    )
