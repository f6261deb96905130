"""Statistics (SPEC §11): counts by type and status, and story completion.

Both endpoints cost the same two statements whatever the number of projects or documents:
one grouped count over (project, type, status), answered from the covering index
`ix_documents_project_type_status`, and one read of the projects. The rest is arithmetic.
"""

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, select

from sdlc_lens.db.generations import generation_of, generation_of_row, visible
from sdlc_lens.db.models import documents, projects
from sdlc_lens.errors import NotFoundError
from sdlc_lens.parsing import is_terminal
from sdlc_lens.services.projects.registry import PROJECT_NOT_FOUND

# Documents without a status are counted under this key.
NULL_STATUS_KEY = "null"
STORY = "story"

_GROUPED_COUNTS = select(
    documents.c.project_id, documents.c.doc_type, documents.c.status, func.count()
).group_by(documents.c.project_id, documents.c.doc_type, documents.c.status)

_PROJECT_COLUMNS = (projects.c.id, projects.c.slug, projects.c.name, projects.c.last_synced_at)


@dataclass(slots=True)
class Tally:
    """Counts for one project, or for all of them."""

    by_type: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    stories: int = 0
    terminal_stories: int = 0

    def add(self, doc_type: str, status: str | None, count: int) -> None:
        self.by_type[doc_type] += count
        self.by_status[NULL_STATUS_KEY if status is None else status] += count
        if doc_type == STORY:
            self.stories += count
            if _story_is_terminal(status):
                self.terminal_stories += count

    def merge(self, other: "Tally") -> None:
        self.by_type.update(other.by_type)
        self.by_status.update(other.by_status)
        self.stories += other.stories
        self.terminal_stories += other.terminal_stories

    @property
    def total(self) -> int:
        return sum(self.by_type.values())

    @property
    def completion(self) -> float:
        return completion_percentage(self.terminal_stories, self.stories)


@lru_cache(maxsize=512)  # a handful of distinct statuses, seen once per group
def _story_is_terminal(status: str | None) -> bool:
    return is_terminal(status, STORY)


def completion_percentage(terminal: int, stories: int) -> float:
    """round(100 * terminal / stories, 1), 0.0 without stories."""
    return round(100 * terminal / stories, 1) if stories else 0.0


def _tallies(conn: Connection, project_id: int | None = None) -> dict[int, Tally]:
    if project_id is None:
        query = _GROUPED_COUNTS.where(visible(generation_of_row()))
    else:
        query = _GROUPED_COUNTS.where(
            documents.c.project_id == project_id, visible(generation_of(project_id))
        )
    tallies: dict[int, Tally] = {}
    for pid, doc_type, status, count in conn.execute(query):
        tallies.setdefault(pid, Tally()).add(doc_type, status, count)
    return tallies


def _sorted_map(counter: Counter[str]) -> dict[str, int]:
    # Key order is part of what clients see; keep it independent of SQLite's plan.
    return {key: counter[key] for key in sorted(counter)}


def project_stats(conn: Connection, slug: str) -> dict[str, Any]:
    """Counts and story completion for one project."""
    project = conn.execute(select(*_PROJECT_COLUMNS).where(projects.c.slug == slug)).first()
    if project is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    tally = _tallies(conn, project.id).get(project.id, Tally())
    return {
        "slug": project.slug,
        "name": project.name,
        "total_documents": tally.total,
        "by_type": _sorted_map(tally.by_type),
        "by_status": _sorted_map(tally.by_status),
        "completion_percentage": tally.completion,
        "last_synced_at": project.last_synced_at,
    }


def global_stats(conn: Connection) -> dict[str, Any]:
    """Counts over every project, completion weighted by stories, and a line per project."""
    project_rows = conn.execute(
        select(*_PROJECT_COLUMNS).order_by(projects.c.created_at, projects.c.id)
    ).all()
    tallies = _tallies(conn)
    overall = Tally()
    summaries = []
    for project in project_rows:
        tally = tallies.get(project.id, Tally())
        overall.merge(tally)
        summaries.append(
            {
                "slug": project.slug,
                "name": project.name,
                "total_documents": tally.total,
                "completion_percentage": tally.completion,
                "last_synced_at": project.last_synced_at,
            }
        )
    return {
        "total_projects": len(project_rows),
        "total_documents": overall.total,
        "by_type": _sorted_map(overall.by_type),
        "by_status": _sorted_map(overall.by_status),
        # Weighted: sums of integer counts, not an average of per-project percentages.
        "completion_percentage": overall.completion,
        "projects": summaries,
    }
