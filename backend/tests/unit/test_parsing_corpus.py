"""The parsing layer against the real sdlc-studio document trees in /work/shared/corpus."""

from pathlib import Path

import pytest

from sdlc_lens.parsing import build_document, id_head, parse_front_matter
from tests.helpers import assert_body_loses_only_title_and_front_matter

CORPUS = Path("/work/shared/corpus")
# Each child of the corpus is one project's sdlc-studio root.
FILES = sorted(CORPUS.glob("*/**/*.md")) if CORPUS.exists() else []

pytestmark = pytest.mark.skipif(not FILES, reason="corpus not available")


def _rel(path: Path) -> str:
    """Path relative to its project root, as the sync engine passes it."""
    return path.relative_to(CORPUS).as_posix().split("/", 1)[1]


def _build(project: str, rel_path: str):
    text = (CORPUS / project / rel_path).read_text(encoding="utf-8")
    record = build_document(rel_path, text)
    assert record is not None
    return record


def test_corpus_is_present() -> None:
    assert len(FILES) >= 70


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_every_corpus_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    record = build_document(_rel(path), text)
    if path.name.lower() == "_index.md":
        assert record is None
        return
    assert record is not None
    assert record.title
    # The body starts below the title and front matter and keeps every other line.
    assert not record.content.startswith(f"# {record.title}")
    assert not record.content.startswith("\n")
    assert_body_loses_only_title_and_front_matter(text, parse_front_matter(text))
    if id_head(path.stem) is not None:
        assert record.ref_id == id_head(path.stem)
        assert record.status is not None
        assert record.doc_id == path.stem


@pytest.mark.parametrize(
    ("project", "rel_path", "doc_type", "status", "epic", "story"),
    [
        ("task-list", "stories/US0002-create-task.md", "story", "Complete", "EP0001", None),
        ("task-list", "stories/US0009-backend-docker-config.md", "story", "Done", "EP0004", None),
        ("task-list", "epics/EP0004-docker-containerisation.md", "epic", "Done", None, None),
        ("task-list", "plans/PL0010-frontend-docker-config.md", "plan", "Complete", None, "US0010"),
        # Story comes before Status in this one.
        ("task-list", "plans/PL0012-set-task-deadline.md", "plan", "Complete", None, "US0012"),
        # The epic link climbs two folders: ../../epics/EP0002-...
        (
            "task-list",
            "test-specs/TS0002-task-organisation.md",
            "test-spec",
            "Complete",
            "EP0002",
            None,
        ),
        ("task-list", "workflows/WF0011-docker-compose.md", "workflow", "Done", "EP0004", "US0011"),
        ("task-list", "prd.md", "prd", "Approved", None, None),
        ("task-list", "trd.md", "trd", "Approved", None, None),
        ("task-list", "tsd.md", "tsd", None, None, None),
        ("ultron-ap", "stories/US0005-docker-monitor.md", "story", "Planned", "EP0002", None),
        ("ultron-ap", "plans/PL0005-docker-monitor.md", "plan", "Draft", "EP0002", "US0005"),
        ("ultron-ap", "epics/EP0001-foundation-and-auth.md", "epic", "Draft", None, None),
        ("ultron-ap", "prd.md", "prd", "Draft", None, None),
    ],
)
def test_spot_checks(
    project: str,
    rel_path: str,
    doc_type: str,
    status: str | None,
    epic: str | None,
    story: str | None,
) -> None:
    record = _build(project, rel_path)
    assert (record.doc_type, record.status, record.epic, record.story) == (
        doc_type,
        status,
        epic,
        story,
    )


def test_task_list_epic_metadata() -> None:
    record = _build("task-list", "epics/EP0005-task-deadlines.md")
    assert record.doc_id == "EP0005-task-deadlines"
    assert record.title == "EP0005: Task Deadlines"
    assert record.owner == "Development Team"
    assert record.metadata == {"created": "2026-01-23", "target_release": "1.1"}


def test_ultron_prd_status_from_fallback_not_from_later_quote() -> None:
    record = _build("ultron-ap", "prd.md")
    assert record.status == "Draft"
    assert record.title == "Product Requirements Document"
    assert record.metadata == {
        "project": "Ultron-AP",
        "version": "1.0.0",
        "last_updated": "2026-02-09",
    }
    # The later "Confidence Markers" quote stays in the content, not in the metadata.
    assert "> **Confidence Markers:**" in record.content
    assert "> No aplica para la version inicial." in record.content


def test_ultron_epic_ignores_later_prose_quote() -> None:
    record = _build("ultron-ap", "epics/EP0001-foundation-and-auth.md")
    assert record.metadata == {
        "reviewer": "TBD",
        "created": "2026-02-09",
        "target_release": "Phase 1",
    }
    assert "> See PRD and TRD for full constraint details." in record.content


def test_task_list_prd_fallback_fields() -> None:
    parsed = parse_front_matter((CORPUS / "task-list" / "prd.md").read_text(encoding="utf-8"))
    assert parsed.fields == {
        "project": "Task Management System",
        "version": "1.2",
        "last_updated": "2026-01-28",
        "status": "Approved",
    }


def test_personas_without_front_matter() -> None:
    record = _build("task-list", "personas.md")
    assert (record.doc_type, record.doc_id, record.status, record.metadata) == (
        "personas",
        "personas",
        None,
        None,
    )
