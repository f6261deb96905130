"""The project checkup (SPEC-2 §15, "health check"): 19 rules, a score out of 100.

Served at `/projects/{slug}/health-check`; not to be confused with the system health
(services/system_health.py), which says whether the service itself is ready.

One statement reads the columns the rules need (never `content`: its stripped length and the
epic a body line names are stored at sync), in file_path order; the rules are plain passes
over those rows, with references grouped by key so no rule compares every pair.

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

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from sdlc_lens.db.engine import driver_connection
from sdlc_lens.errors import NotFoundError
from sdlc_lens.services.projects.registry import PROJECT_NOT_FOUND
from sdlc_lens.services.reports.checkup_documents import DOCUMENTS_SQL, Doc, Project
from sdlc_lens.services.reports.checkup_rules import (
    RULES,
    STALE_DOCUMENT,
    Finding,
    Rule,
    stale_documents,
)

SEVERITY_WEIGHTS = {"critical": 15, "high": 5, "medium": 2, "low": 1}

_PROJECT_SQL = "SELECT id, last_synced_at FROM projects WHERE slug = ?"


def _finding(rule: Rule, finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "severity": rule.severity,
        "category": rule.category,
        "message": finding.message,
        "affected_documents": [doc.affected() for doc in finding.affected],
        "suggested_fix": finding.suggested_fix,
    }


def score(summary: dict[str, int]) -> int:
    """clamp(100 - (15 critical + 5 high + 2 medium + 1 low), 0, 100)."""
    penalty = sum(SEVERITY_WEIGHTS[severity] * count for severity, count in summary.items())
    return max(0, min(100, 100 - penalty))


def check_project(conn: Connection, slug: str, now: datetime | None = None) -> dict[str, Any]:
    """The checkup of one project's current documents (404 for an unknown project)."""
    now = now or datetime.now(UTC)
    found = conn.exec_driver_sql(_PROJECT_SQL, (slug,)).first()
    if found is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    project_id, project_synced_at = found
    # Straight from the sqlite3 cursor: a project's every row, where SQLAlchemy's per-row
    # result processing would cost a third of the check.
    cursor = driver_connection(conn).execute(DOCUMENTS_SQL, (project_id,))
    docs = [Doc.from_row(row) for row in cursor.fetchall()]
    project = Project(docs)

    findings: list[dict[str, Any]] = []
    for rule, check in RULES:
        findings.extend(_finding(rule, finding) for finding in check(project))
    findings.extend(
        _finding(STALE_DOCUMENT, finding)
        for finding in stale_documents(project, project_synced_at, now)
    )
    summary = dict.fromkeys(SEVERITY_WEIGHTS, 0)
    for finding in findings:
        summary[finding["severity"]] += 1
    return {
        "project_slug": slug,
        "checked_at": now.isoformat(timespec="microseconds"),
        "total_documents": len(docs),
        "findings": findings,
        "summary": summary,
        "score": score(summary),
    }
