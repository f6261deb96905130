"""Document list and detail models (SPEC §10)."""

from typing import Any

from pydantic import BaseModel, Field


class DocumentFields(BaseModel):
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


class DocumentList(BaseModel):
    """One page of documents."""

    items: list[DocumentSummary]
    total: int
    page: int
    per_page: int = Field(description="The page size used (requests above 100 get 100).")
    pages: int = Field(description="ceil(total / per_page); 0 when there are no documents.")


class DocumentDetail(DocumentFields):
    """One document with its metadata and its whole text."""

    metadata: dict[str, Any] | None = Field(
        description="Front-matter keys without a column of their own; null when there are none."
    )
    content: str
    file_path: str
    file_hash: str
    synced_at: str
