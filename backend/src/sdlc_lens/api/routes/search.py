"""Full-text search (SPEC §9)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from sdlc_lens.api.caching import AnswerScope, CachedRoute, cached
from sdlc_lens.api.deps import SearchRunnerDep
from sdlc_lens.api.openapi import COMMON_ERRORS, ErrorAnswer, error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.common import SQLITE_INT_LIMIT
from sdlc_lens.api.schemas.search import SearchResults
from sdlc_lens.services.search import service
from sdlc_lens.services.search.query import MAX_QUERY_LENGTH, MAX_QUERY_WORDS, MIN_PREFIX_CHARS
from sdlc_lens.services.search.runner import SEARCH_BUSY_MESSAGE

router = APIRouter(tags=["search"], route_class=CachedRoute)


@router.get(
    "/search",
    response_model=SearchResults,
    responses=error_responses(
        422,
        503,
        own={
            422: ErrorAnswer(
                f"`q` is over a bound: more than {MAX_QUERY_LENGTH} characters, more than "
                f"{MAX_QUERY_WORDS} different words, or a prefix with fewer than "
                f"{MIN_PREFIX_CHARS} letters before its `*`; or another parameter is invalid. "
                + COMMON_ERRORS[422].description,
                (
                    ("VALIDATION_ERROR", "query.q: Field required"),
                    (
                        "VALIDATION_ERROR",
                        f"q: at most {MAX_QUERY_WORDS} different words per search (got 17)",
                    ),
                ),
            ),
            503: ErrorAnswer(
                "The search was stopped after using its time budget (`SEARCH_TOO_COSTLY`), "
                "every search worker is busy (`SEARCH_BUSY`), or the search index is missing "
                "(`SERVICE_UNAVAILABLE`). The first two carry `Retry-After` (seconds).",
                (
                    ("SEARCH_TOO_COSTLY", service.budget_exceeded_message(2)),
                    ("SEARCH_BUSY", SEARCH_BUSY_MESSAGE),
                    ("SERVICE_UNAVAILABLE", service.SEARCH_UNAVAILABLE),
                ),
                headers={
                    "Retry-After": {
                        "description": "Seconds to wait before trying again "
                        "(SEARCH_TOO_COSTLY and SEARCH_BUSY only).",
                        "schema": {"type": "integer"},
                    }
                },
            ),
        },
    ),
)
@cached(AnswerScope.ALL_PROJECTS)
async def search(
    request: Request,
    runner: SearchRunnerDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description="Words that must all match, in any order; `word*` matches a prefix; "
            '`"quoted text"` matches as a phrase. A document id (`US0024`) ranks that '
            f"document first. At most {MAX_QUERY_WORDS} different words (a repeated word "
            f"counts once); a prefix needs at least {MIN_PREFIX_CHARS} letters before its "
            "`*` (`dep*`, not `de*`). Over either bound: 422.",
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
    """Ranked documents matching `q`, with highlighted snippets.

    A search works for at most `SDLC_LENS_SEARCH_BUDGET_SECONDS` and stops when its client
    disconnects.
    """
    filters = service.SearchFilters(project=project, doc_type=doc_type, status=status)
    result = await runner.search(q, filters, page, per_page, client_gone=request.is_disconnected)
    return json_response(result)
