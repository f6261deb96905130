"""Document list and detail models (SPEC §10)."""

from typing import Any

from pydantic import Field

from sdlc_lens.api.schemas.common import ResponseModel, with_examples

_SUMMARY_EXAMPLE = {
    "doc_id": "US0012-login-form",
    "type": "story",
    "title": "US0012: Login Form",
    "status": "In Progress",
    "owner": "web-team",
    "priority": "P1",
    "story_points": 3,
    "epic": "EP0003",
    "story": None,
    "updated_at": "2026-03-02T09:16:10.004211+00:00",
}


class DocumentFields(ResponseModel):
    """The columns a document shows in lists and in full."""

    doc_id: str
    type: str
    title: str
    status: str | None
    owner: str | None
    priority: str | None
    story_points: int | None
    epic: str | None
    story: str | None


class DocumentSummary(DocumentFields):
    """A document in a list: everything but its text."""

    updated_at: str = Field(description="When a sync last wrote this document (ISO-8601 UTC).")


class DocumentList(ResponseModel):
    """One page of documents."""

    model_config = with_examples(
        {"items": [_SUMMARY_EXAMPLE], "total": 5, "page": 2, "per_page": 2, "pages": 3}
    )

    items: list[DocumentSummary]
    total: int
    page: int
    per_page: int = Field(description="The page size used (requests above 100 get 100).")
    pages: int = Field(description="ceil(total / per_page); 0 when there are no documents.")


class DocumentDetail(DocumentFields):
    """One document with its metadata and its whole text."""

    model_config = with_examples(
        {
            **{k: v for k, v in _SUMMARY_EXAMPLE.items() if k != "updated_at"},
            "metadata": {"created": "2026-02-20", "sprint": "Sprint 4"},
            "content": "## User Story\n\n**As a** user **I want** to log in...\n",
            "file_path": "stories/US0012-login-form.md",
            "file_hash": "9f2c" + "0" * 60,
            "synced_at": "2026-03-02T09:16:10.004211+00:00",
        }
    )

    metadata: dict[str, Any] | None = Field(
        description="Front-matter keys without a column of their own; null when there are none."
    )
    content: str
    file_path: str
    file_hash: str
    synced_at: str
