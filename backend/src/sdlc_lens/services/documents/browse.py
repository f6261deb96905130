"""Document browsing (SPEC §10): a paginated, filtered list (one document: detail.py)."""

import logging
import math
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Connection, func, select

from sdlc_lens.db.engine import row_dict
from sdlc_lens.db.generations import visible_in_project
from sdlc_lens.db.models import documents
from sdlc_lens.services.projects.registry import project_id_for

logger = logging.getLogger(__name__)

DOCUMENT_NOT_FOUND = "Document not found"
# The literal `status` value that selects documents without a status.
NO_STATUS = "none"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
# The copy that answers for a (type, doc_id) a project holds more than once (an archive copy,
# a stray duplicate): live before archived, then the smallest path. The detail view and the
# relationships both follow this order, so they always describe the same copy.
PREFERRED_COPY_COLUMNS = ("archived", "file_path")

SortKey = Literal["title", "type", "status", "updated_at"]
SortOrder = Literal["asc", "desc"]

# What the API serves of a document (SPEC §10), by its JSON names: the stored columns, three
# of them under the contract's names. A test checks these against the response models and
# the stored row, so a field cannot be added to one and not the others.
SERVED_AS = {"type": "doc_type", "updated_at": "synced_at", "metadata": "metadata_json"}
SUMMARY_FIELDS = (
    "doc_id",
    "type",
    "title",
    "status",
    "owner",
    "priority",
    "story_points",
    "epic",
    "story",
)
# Never `content`: the list must not drag every document's text through the page cache.
LIST_FIELDS = (*SUMMARY_FIELDS, "updated_at")
# `metadata` last: it is decoded from its stored JSON, and answered after the other keys.
DETAIL_FIELDS = (*SUMMARY_FIELDS, "content", "file_path", "file_hash", "synced_at", "metadata")


def served_columns(names: tuple[str, ...]) -> tuple[ColumnElement[Any], ...]:
    """The stored columns behind JSON field names, labelled with those names."""
    return tuple(
        documents.c[SERVED_AS[name]].label(name) if name in SERVED_AS else documents.c[name]
        for name in names
    )


_LIST_COLUMNS = served_columns(LIST_FIELDS)
# Each sort column has an index (project_id, <column>, doc_id, id), so ORDER BY ... LIMIT
# walks that index; (doc_id, id) make the order total and pages never overlap.
_SORT_COLUMNS = {key: documents.c[SERVED_AS.get(key, key)] for key in get_args(SortKey)}


def status_filter(status: str) -> ColumnElement[bool]:
    """`status = :status`, or `status IS NULL` for the literal `none`."""
    if status == NO_STATUS:
        return documents.c.status.is_(None)
    return documents.c.status == status


def page_count(total: int, per_page: int) -> int:
    """ceil(total / per_page); 0 for an empty result."""
    return math.ceil(total / per_page) if total else 0


def list_documents(
    conn: Connection,
    slug: str,
    *,
    doc_type: str | None = None,
    status: str | None = None,
    sort: SortKey = "updated_at",
    order: SortOrder = "desc",
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> dict[str, Any]:
    """A page of a project's documents: items, total, page, per_page (capped) and pages."""
    per_page = min(per_page, MAX_PER_PAGE)
    project_id = project_id_for(conn, slug)
    conditions = [documents.c.project_id == project_id, visible_in_project(project_id)]
    if doc_type is not None:
        conditions.append(documents.c.doc_type == doc_type)
    if status is not None:
        conditions.append(status_filter(status))

    # Both statements run in the request's one transaction, so total and items agree.
    total = conn.execute(
        select(func.count()).select_from(documents).where(*conditions)
    ).scalar_one()
    offset = (page - 1) * per_page
    items: list[dict[str, Any]] = []
    # Skipping the query past the end also keeps a huge `page` from overflowing OFFSET.
    if offset < total:
        column = _SORT_COLUMNS[sort]
        if order == "desc":
            ordering = (column.desc(), documents.c.doc_id.desc(), documents.c.id.desc())
        else:
            ordering = (column.asc(), documents.c.doc_id.asc(), documents.c.id.asc())
        query = (
            select(*_LIST_COLUMNS)
            .where(*conditions)
            .order_by(*ordering)
            .limit(per_page)
            .offset(offset)
        )
        items = [row_dict(row) for row in conn.execute(query)]
    # A plain dict: FastAPI deep-copies a dataclass (dataclasses.asdict) before validating
    # it, which costs more than the queries for a page of 100.
    return {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": page_count(total, per_page),
    }
