"""The project checkup (SPEC-2 §15, "health check"): 19 rules, a score out of 100.

Served at `/projects/{slug}/health-check`; not to be confused with the system health
(services/system_health.py), which says whether the service itself is ready.

One statement reads the columns the rules need (never `content`: its stripped length and the
epic a body line names are stored at sync), in file_path order; the rules are plain passes
over those rows, with references grouped by key so no rule compares every pair.

The answer is bounded whatever the project: each rule's findings are all counted (summary,
score, `findings_per_rule`), but only its first FINDINGS_PER_RULE are built, each listing at
most AFFECTED_PER_FINDING documents (`affected_count` says how many). Checks run one at a
time on a worker of their own (`checkup_workers`), never on the pool that serves lists.

The SPEC-2 §15.5 improvements, all deliberate:
- References compare the stored normalised values directly (never re-extracted), and a
  document answers to its key and to its aliases, as `/related` resolves them.
- Archived copies (an `archive`/`archived` folder or a `_` doc_id) are never flagged by a
  completeness, consistency or quality rule and never count as unfinished work; they still
  exist as reference targets. Record types (incl. `decisions`, `constitution`) are exempt
  from MISSING_STATUS, ORPHAN_REFERENCE and STALE_ARTEFACT_STATUS.
- The epic a document belongs to is its `Epic:` field, else the epic a `**Epic:**` body line
  names; every rule uses that same notion.
- DUPLICATE_DOC_ID also reports documents that share one id (EP0001-alpha / EP0001-beta).
- STALE_DOCUMENT measures from the last sync that saw the file, not the last rewrite.
- Messages name statuses and types as they are (`Test-spec`, `CR`, "marked Complete",
  "1 incomplete child story", "to Complete").
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine

from sdlc_lens.db.engine import driver_connection
from sdlc_lens.errors import CheckupBusyError, NotFoundError, RequestCancelledError
from sdlc_lens.services.projects.registry import PROJECT_NOT_FOUND
from sdlc_lens.services.reports.checkup_documents import DOCUMENTS_SQL, Doc, Project
from sdlc_lens.services.reports.checkup_rules import (
    AFFECTED_PER_FINDING,
    RULES,
    STALE_DOCUMENT,
    AnyFinding,
    Rule,
    next_stale_time,
    stale_documents,
)
from sdlc_lens.services.workers import CLIENT_LEFT, WorkerPool, release_free_memory

SEVERITY_WEIGHTS = {"critical": 15, "high": 5, "medium": 2, "low": 1}
# The answer lists at most this many findings of each rule (the first, in file_path order);
# `findings_per_rule`, `summary` and `score` count them all.
FINDINGS_PER_RULE = 100
# The check is pure Python: a second worker would only share the same core (the GIL) and
# hold a second project's rows; the rest wait their turn, and beyond the queue get a 503.
CHECKUP_WORKERS = 1
CHECKUP_QUEUE = 32
CHECKUP_BUSY_MESSAGE = "Too many health checks are running; try again shortly"

_PROJECT_SQL = "SELECT id, last_synced_at FROM projects WHERE slug = ?"


def _finding(rule: Rule, finding: AnyFinding) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "severity": rule.severity,
        "category": rule.category,
        "message": finding.message,
        "affected_documents": [doc.affected() for doc in finding.affected[:AFFECTED_PER_FINDING]],
        "suggested_fix": finding.suggested_fix,
        "affected_count": len(finding.affected),
    }


def score(summary: dict[str, int]) -> int:
    """clamp(100 - (15 critical + 5 high + 2 medium + 1 low), 0, 100)."""
    penalty = sum(SEVERITY_WEIGHTS[severity] * count for severity, count in summary.items())
    return max(0, min(100, 100 - penalty))


@dataclass(frozen=True, slots=True)
class Checkup:
    """One checkup: its answer, and until when that answer holds if no sync changes the
    documents (the next document to turn stale changes it then; None: never)."""

    answer: dict[str, Any]
    holds_until: datetime | None


def check_project(
    conn: Connection,
    slug: str,
    now: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """The checkup of one project's current documents (404 for an unknown project).

    Every finding is counted, but only the first FINDINGS_PER_RULE of each rule are built
    into the answer, each with at most AFFECTED_PER_FINDING documents: the answer stays small
    whatever the project. `should_stop` is asked between rules (a client that left).
    """
    return _checkup(conn, slug, now or datetime.now(UTC), should_stop).answer


def _checkup(
    conn: Connection, slug: str, now: datetime, should_stop: Callable[[], bool]
) -> Checkup:
    found = conn.exec_driver_sql(_PROJECT_SQL, (slug,)).first()
    if found is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    project_id, project_synced_at = found
    # Straight from the sqlite3 cursor: a project's every row, where SQLAlchemy's per-row
    # result processing would cost a third of the check.
    cursor = driver_connection(conn).execute(DOCUMENTS_SQL, (project_id,))
    docs = [Doc.from_row(row) for row in cursor.fetchall()]
    project = Project(docs)

    checks: list[tuple[Rule, Callable[[], Iterable[AnyFinding]]]] = [
        (rule, partial(check, project)) for rule, check in RULES
    ]
    checks.append((STALE_DOCUMENT, partial(stale_documents, project, project_synced_at, now)))
    findings: list[dict[str, Any]] = []
    per_rule: dict[str, int] = {}
    summary = dict.fromkeys(SEVERITY_WEIGHTS, 0)
    for rule, check in checks:
        if should_stop():
            raise RequestCancelledError(CLIENT_LEFT)
        hits = iter(check())
        listed = [_finding(rule, finding) for finding in islice(hits, FINDINGS_PER_RULE)]
        findings.extend(listed)
        count = len(listed) + sum(1 for _ in hits)
        if count:
            per_rule[rule.rule_id] = count
            summary[rule.severity] += count
    answer = {
        "project_slug": slug,
        "checked_at": now.isoformat(timespec="microseconds"),
        "total_documents": len(docs),
        "findings": findings,
        "summary": summary,
        "score": score(summary),
        "findings_per_rule": per_rule,
    }
    return Checkup(answer, next_stale_time(project, project_synced_at, now))


def checkup_workers() -> WorkerPool:
    """The health check's own worker and queue (never the pool that serves lists)."""
    return WorkerPool(
        "checkup",
        workers=CHECKUP_WORKERS,
        queue=CHECKUP_QUEUE,
        busy=lambda: CheckupBusyError(CHECKUP_BUSY_MESSAGE, retry_after=1),
    )


def run_check(engine: Engine, slug: str, should_stop: Callable[[], bool]) -> Checkup:
    """The checkup on a connection of its own, as a worker runs it; the memory its rows took
    is handed back to the OS afterwards."""
    try:
        with engine.connect() as conn:
            return _checkup(conn, slug, datetime.now(UTC), should_stop)
    finally:
        release_free_memory()
