"""The project checkup's response (SPEC-2 §15.1).

The class names are the contract's: they name the OpenAPI schemas (`HealthCheck`, `Finding`,
...) that clients generate code from, so they stay as the SPEC has them.
"""

from typing import Literal

from pydantic import Field

from sdlc_lens.api.schemas.common import ResponseModel

Severity = Literal["critical", "high", "medium", "low"]
Category = Literal["completeness", "consistency", "quality", "integrity"]


class AffectedDocument(ResponseModel):
    """A document a finding is about; link to it by `doc_type` and `doc_id`."""

    doc_id: str
    doc_type: str
    title: str


class Finding(ResponseModel):
    """One rule firing, for one document (or one epic, or one group of duplicates)."""

    rule_id: str = Field(description="E.g. MISSING_PLAN; see docs/api.md for all 19 rules.")
    severity: Severity
    category: Category
    message: str
    affected_documents: list[AffectedDocument] = Field(
        description="The documents it is about: at most the first 100 (see `affected_count`)."
    )
    suggested_fix: str
    affected_count: int = Field(
        description="How many documents it is about; `affected_documents` lists at most 100."
    )


class SeveritySummary(ResponseModel):
    """How many findings of each severity."""

    critical: int
    high: int
    medium: int
    low: int


class HealthCheck(ResponseModel):
    """The rules' findings over a project's current documents, and the score they add up to."""

    project_slug: str
    checked_at: str = Field(description="When this check ran (ISO-8601 UTC, +00:00).")
    total_documents: int
    findings: list[Finding] = Field(
        description="Rules in table order; within a rule, documents by file_path. At most the "
        "first 100 findings of each rule (see `findings_per_rule`)."
    )
    summary: SeveritySummary = Field(
        description="Findings per severity: all of them, also those past a rule's first 100."
    )
    score: int = Field(
        ge=0,
        le=100,
        description="100 - (15 critical + 5 high + 2 medium + 1 low), at least 0; counts every "
        "finding, listed or not.",
    )
    findings_per_rule: dict[str, int] = Field(
        description="How many findings each rule made, in table order; rules that found "
        "nothing are left out. `findings` lists at most 100 of each."
    )
