"""Search response models (SPEC §9)."""

from pydantic import Field

from sdlc_lens.api.schemas.common import ResponseModel, with_examples


class SearchHit(ResponseModel):
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


class SearchResults(ResponseModel):
    """One page of search results."""

    model_config = with_examples(
        {
            "items": [
                {
                    "doc_id": "US0012-login-form",
                    "type": "story",
                    "title": "US0012: Login Form",
                    "project_slug": "acme-portal",
                    "project_name": "Acme Portal",
                    "status": "In Progress",
                    "snippet": "...validate the <mark>password</mark> before issuing...",
                    "score": 3.1416,
                }
            ],
            "total": 7,
            "query": "password",
            "page": 1,
            "per_page": 20,
        }
    )

    items: list[SearchHit]
    total: int
    query: str = Field(description="`q` exactly as sent.")
    page: int
    per_page: int
