"""Document list and detail models (SPEC §10)."""

from typing import Any

from pydantic import BaseModel, Field


class DocumentSummary(BaseModel):
    """A document in a list: everything but its text."""

    doc_id: str
    type: str
    title: str
    status: str | None
    owner: str | None
    priority: str | None
    story_points: int | None
    epic: str | None
    story: str | None
    updated_at: str = Field(description="When a sync last wrote this document (ISO-8601 UTC).")


class DocumentList(BaseModel):
    """One page of documents."""

    items: list[DocumentSummary]
    total: int
    page: int
    per_page: int = Field(description="The page size used (requests above 100 get 100).")
    pages: int = Field(description="ceil(total / per_page); 0 when there are no documents.")


class DocumentDetail(BaseModel):
    """One document with its metadata and its whole text."""

    doc_id: str
    type: str
    title: str
    status: str | None
    owner: str | None
    priority: str | None
    story_points: int | None
    epic: str | None
    story: str | None
    metadata: dict[str, Any] | None = Field(
        description="Front-matter keys without a column of their own; null when there are none."
    )
    content: str
    file_path: str
    file_hash: str
    synced_at: str
