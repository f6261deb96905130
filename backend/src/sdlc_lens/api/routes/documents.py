"""Document browsing (SPEC §10)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from sdlc_lens.api.caching import AnswerScope, CachedRoute, cached
from sdlc_lens.api.deps import ConnectionDep, EngineDep
from sdlc_lens.api.openapi import ErrorAnswer, error_responses
from sdlc_lens.api.responses import JSON, JSONStream, json_response
from sdlc_lens.api.schemas.common import SQLITE_INT_LIMIT
from sdlc_lens.api.schemas.documents import DocumentDetail, DocumentList
from sdlc_lens.api.schemas.relations import DocumentRelationships
from sdlc_lens.services.documents import browse as service
from sdlc_lens.services.documents import detail, relations

router = APIRouter(prefix="/projects/{slug}/documents", tags=["documents"], route_class=CachedRoute)


@router.get("", response_model=DocumentList, responses=error_responses(404, 422))
@cached(AnswerScope.PROJECT)
def list_documents(
    slug: str,
    conn: ConnectionDep,
    doc_type: Annotated[
        str | None, Query(alias="type", description="Exact document type, e.g. `story`.")
    ] = None,
    status: Annotated[
        str | None,
        Query(description="Exact canonical status; `none` selects documents without one."),
    ] = None,
    sort: service.SortKey = "updated_at",
    order: service.SortOrder = "desc",
    page: Annotated[int, Query(ge=1, lt=SQLITE_INT_LIMIT)] = 1,
    per_page: Annotated[
        int,
        Query(
            ge=1,
            lt=SQLITE_INT_LIMIT,
            description=f"Page size; above {service.MAX_PER_PAGE} it is lowered to "
            f"{service.MAX_PER_PAGE} (and the response says so).",
        ),
    ] = service.DEFAULT_PER_PAGE,
) -> Any:
    """A page of a project's documents, without their text."""
    page_of_documents = service.list_documents(
        conn,
        slug,
        doc_type=doc_type,
        status=status,
        sort=sort,
        order=order,
        page=page,
        per_page=per_page,
    )
    return json_response(page_of_documents)


# Declared before the detail route, so `.../related` can never be read as part of a doc_id.
@router.get(
    "/{doc_type}/{doc_id}/related",
    response_model=DocumentRelationships,
    responses=error_responses(
        404,
        own={
            404: ErrorAnswer(
                "Unknown project, or no document of this type and full doc_id in it.",
                (
                    ("NOT_FOUND", "Project not found"),
                    ("NOT_FOUND", "Document not found: story/US0001"),
                ),
            )
        },
    ),
)
@cached(AnswerScope.PROJECT)
def get_related(slug: str, doc_type: str, doc_id: str, conn: ConnectionDep) -> Any:
    """Parents, children, dependencies and dependents of one document (by its full doc_id).

    A few indexed reads, but the lists grow with the project (an epic of 10,000 stories),
    so it runs in the thread pool, not on the event loop (see api/deps.py).
    """
    return json_response(relations.related_documents(conn, slug, doc_type, doc_id))


@router.get(
    "/{doc_type}/{doc_id}",
    response_model=DocumentDetail,
    responses=error_responses(
        404,
        own={
            404: ErrorAnswer(
                "Unknown project, or no document of this type and id in it.",
                (("NOT_FOUND", "Project not found"), ("NOT_FOUND", "Document not found")),
            )
        },
    ),
)
@cached(AnswerScope.PROJECT)
def get_document(slug: str, doc_type: str, doc_id: str, engine: EngineDep) -> Response:
    """One document with its metadata and whole text (`/documents/prd/prd` for singletons).

    Text over 1 MiB is streamed in pieces (chunked, no Content-Length) as the client reads
    them; the bytes are the same. Runs in the thread pool: what it reads grows with the
    document.
    """
    answer = detail.document_answer(engine, slug, doc_type, doc_id)
    if answer.chunks is not None:
        return JSONStream(answer.chunks())
    return Response(answer.whole, media_type=JSON)
