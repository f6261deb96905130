"""Full-text search (SPEC §9)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from sdlc_lens.api.deps import ConnectionDep
from sdlc_lens.api.openapi import COMMON_ERRORS, ErrorAnswer, error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.common import SQLITE_INT_LIMIT
from sdlc_lens.api.schemas.search import SearchResults
from sdlc_lens.services import search as service

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    response_model=SearchResults,
    responses=error_responses(
        422,
        503,
        own={
            422: ErrorAnswer(
                COMMON_ERRORS[422].description, (("VALIDATION_ERROR", "query.q: Field required"),)
            ),
            503: ErrorAnswer(
                "The search index is missing (the health check says so too).",
                (("SERVICE_UNAVAILABLE", service.SEARCH_UNAVAILABLE),),
            ),
        },
    ),
)
def search(
    conn: ConnectionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=service.MAX_QUERY_LENGTH,
            description="Words that must all match, in any order; `word*` matches a prefix; "
            '`"quoted text"` matches as a phrase. A document id (`US0024`) ranks that '
            "document first.",
        ),
    ],
    project: Annotated[str | None, Query(description="Project slug.")] = None,
    doc_type: Annotated[str | None, Query(alias="type", description="Exact type.")] = None,
    status: Annotated[
        str | None,
        Query(description="Exact canonical status; `none` selects documents without one."),
    ] = None,
    page: Annotated[int, Query(ge=1, lt=SQLITE_INT_LIMIT)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = service.DEFAULT_PER_PAGE,
) -> Any:
    """Ranked documents matching `q`, with highlighted snippets."""
    filters = service.SearchFilters(project=project, doc_type=doc_type, status=status)
    return json_response(service.search(conn, q, filters, page=page, per_page=per_page))
