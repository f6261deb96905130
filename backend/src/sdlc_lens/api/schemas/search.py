"""Search response models (SPEC §9)."""

from pydantic import BaseModel, Field


class SearchHit(BaseModel):
    """One matching document."""

    doc_id: str
    type: str
    title: str
    project_slug: str
    project_name: str
    status: str | None
    snippet: str = Field(
        description="About 32 words of HTML-escaped body text around the first match in the "
        "body, matches wrapped in `<mark>`/`</mark>` (the only tags), cuts shown as `...`; "
        "the body's start when the match is in the title or metadata only."
    )
    score: float = Field(
        description="Relevance (-bm25, 4 decimals; +1000 for an exact document-id match); "
        "non-increasing down the list."
    )


class SearchResults(BaseModel):
    """One page of search results."""

    items: list[SearchHit]
    total: int
    query: str = Field(description="`q` exactly as sent.")
    page: int
    per_page: int
