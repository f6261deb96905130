"""Full-text search (SPEC §9): bounded queries, honest ranking, escaped snippets.

The query becomes quoted FTS5 terms in search/query.py; the MATCH expression is a bound
parameter, never spliced into SQL. A search runs within a time budget: SQLite's progress
handler stops its queries, and the snippet reader its reads, once the budget is spent or the
client has gone.
"""

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnClause,
    ColumnElement,
    Connection,
    Integer,
    Join,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.exc import OperationalError

from sdlc_lens.db.engine import driver_connection, row_dict, stop_when
from sdlc_lens.db.fts import FTS_TABLE, fts_table_exists
from sdlc_lens.db.generations import visible
from sdlc_lens.db.models import documents, projects
from sdlc_lens.errors import (
    AppError,
    SearchBudgetExceededError,
    SearchCancelledError,
    ServiceUnavailableError,
)
from sdlc_lens.services.documents.browse import status_filter
from sdlc_lens.services.search.query import Term, exact_id, parse_query
from sdlc_lens.services.search.snippets import Matcher, TextReader, snippet

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
SEARCH_UNAVAILABLE = "Search index is unavailable; an administrator must rebuild it"

# Added to the score of a document whose id is exactly the query. Such a query is one FTS5
# phrase, whose -bm25 is below idf * (k1 + 1) <= ln(N) * 2.2 (under 50 even for 10^9
# documents), so the boost puts every id match above every text-only match and `score`
# stays non-increasing down the list.
ID_MATCH_BOOST = 1000.0

# Beyond what SQLite's OFFSET can hold, and past any real end.
_MAX_OFFSET = 2**62

# FTS5's bm25 clamps the idf of a phrase found in at least half of the rows to 1e-6, so
# such a phrase adds less than 1e-6 * (k1 + 1) = 2.2e-6 to a score. With at most this many
# phrases, all of them that common, every score rounds (4 places) to 0.0 exactly.
_MAX_VANISHING_TERMS = 20
# Counting matches by walking an index beats a row read per match from this share on.
_WIDE_SHARE = 8

# SQLite virtual-machine steps between two looks at the budget: well under a millisecond.
_PROGRESS_STEPS = 1000

_fts = table(FTS_TABLE, column("rowid", Integer))
# The table's name as a column: what MATCH and bm25() take; SQL gives it no value type.
_fts_ref: ColumnClause[Any] = literal_column(FTS_TABLE)


def _matches(param: str = "match") -> ColumnElement[bool]:
    return _fts_ref.op("MATCH")(bindparam(param))


def budget_exceeded_message(seconds: float) -> str:
    """What a search stopped by its budget answers."""
    return (
        f"This search needed more than {seconds:g} s of work and was stopped. "
        "Try fewer or more specific words, a phrase, or a project filter."
    )


@dataclass(slots=True, eq=False)  # compared and hashed by identity
class SearchBudget:
    """How long one search may work, and a switch that stops it at once (its client left)."""

    seconds: float = math.inf
    cancelled: threading.Event = field(default_factory=threading.Event)
    deadline: float = math.inf

    def start(self) -> None:
        """The clock starts when the search does, not while it waits for a worker."""
        self.deadline = time.monotonic() + self.seconds

    def spent(self) -> bool:
        """Whether the search must stop now."""
        return self.cancelled.is_set() or time.monotonic() > self.deadline

    def check(self) -> None:
        """Raise the reason to stop, if there is one."""
        if self.spent():
            raise self.stopped()

    def stopped(self) -> AppError:
        """The error a stopped search answers with."""
        if self.cancelled.is_set():
            return SearchCancelledError("The client closed the request")
        return SearchBudgetExceededError(
            budget_exceeded_message(self.seconds), retry_after=self.retry_after
        )

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait before asking again."""
        return max(1, math.ceil(self.seconds)) if math.isfinite(self.seconds) else 1


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Optional narrowing of a search; each is an exact match."""

    project: str | None = None
    doc_type: str | None = None
    status: str | None = None  # `none` = documents without a status


def search(
    conn: Connection,
    query: str,
    filters: SearchFilters,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    budget: SearchBudget | None = None,
) -> dict[str, Any]:
    """One page of ranked results with snippets, and the exact number of results.

    Raises SearchBudgetExceededError (503) when the work outlasts `budget`, and
    SearchCancelledError once `budget.cancelled` is set.
    """
    result: dict[str, Any] = {
        "items": [],
        "total": 0,
        "query": query,
        "page": page,
        "per_page": per_page,
    }
    terms = parse_query(query)
    if not terms:
        return result
    budget = budget or SearchBudget()
    budget.start()
    try:
        with stop_when(conn, budget.spent, steps=_PROGRESS_STEPS):
            items, total = _ranked_page(
                conn, terms, exact_id(query), filters, page, per_page, budget
            )
    except OperationalError as exc:
        if budget.spent():  # SQLite answered the progress handler's stop: "interrupted"
            raise budget.stopped() from exc
        # Only a missing index is the service's state; anything else is a real fault.
        if fts_table_exists(conn):
            raise
        raise ServiceUnavailableError(SEARCH_UNAVAILABLE) from exc
    result["items"] = items
    result["total"] = total
    return result


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the index says about a query before it runs."""

    common: bool  # every term is in half of the documents or more: every score is 0.0
    wide: bool  # the matches may be a large share of the documents


def _shape(conn: Connection, terms: list[Term]) -> _Shape:
    """Count each term's documents (FTS5 does this from the index alone, cheaply).

    `common` is the case of a word in most documents, where computing bm25 row by row would
    be most of the work of a search, only to round to 0.0.
    """
    if len(terms) > _MAX_VANISHING_TERMS:
        return _Shape(common=False, wide=False)
    # The triggers keep the index row for row in step with `documents`.
    n_rows = conn.execute(select(func.count()).select_from(documents)).scalar_one()
    counts = conn.execute(
        select(
            *(
                select(func.count()).select_from(_fts).where(_matches(f"t{i}")).scalar_subquery()
                for i in range(len(terms))
            )
        ),
        {f"t{i}": term.fts for i, term in enumerate(terms)},
    ).one()
    return _Shape(
        # FTS5: idf = ln((N - hits + 0.5) / (hits + 0.5)), replaced by 1e-6 when <= 0, that
        # is when N <= 2 * hits.
        common=all(n_rows <= 2 * hits for hits in counts),
        # All terms must match, so the rarest bounds the number of matches.
        wide=min(counts) * _WIDE_SHARE >= n_rows,
    )


def _hits(ref_id: str | None, *, scored: bool) -> CTE:
    """(id, score) of every document matching the text, the id, or both."""
    text_score = func.round(-func.bm25(_fts_ref), 4) if scored else literal(0.0)
    text_hits = select(_fts.c.rowid.label("id"), text_score.label("score")).where(_matches())
    if ref_id is None:
        hits = text_hits
    else:
        id_hits = select(documents.c.id.label("id"), literal(ID_MATCH_BOOST).label("score")).where(
            documents.c.ref_id == ref_id
        )
        parts = union_all(text_hits, id_hits).subquery("parts")
        # A document found both ways gets its text score plus the boost.
        hits = select(parts.c.id, func.round(func.sum(parts.c.score), 4).label("score"))
        hits = hits.group_by(parts.c.id)
    # Materialised: the MATCH runs once, and the planner cannot turn it into one FTS
    # lookup per document of a filtered project.
    return hits.cte("hits").prefix_with("MATERIALIZED")


def _joined(hits: CTE, *, walk_index: bool) -> Join:
    """Hits joined to their documents and projects.

    `walk_index` joins on `documents.id + 0`, which stops SQLite from fetching each hit's
    row by id (a page read per hit): it walks the narrow (project, type, doc_id, id) index
    instead and probes the hits. That pays once the hits are a good share of the documents,
    and the walk is already in tie-breaker order, so a page of equal scores needs no sort.
    """
    on = (documents.c.id + 0) == hits.c.id if walk_index else documents.c.id == hits.c.id
    return hits.join(documents, on).join(projects, projects.c.id == documents.c.project_id)


def _conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [visible(projects.c.generation)]
    if filters.project is not None:
        conditions.append(projects.c.slug == filters.project)
    if filters.doc_type is not None:
        conditions.append(documents.c.doc_type == filters.doc_type)
    if filters.status is not None:
        conditions.append(status_filter(filters.status))
    return conditions


def _ranked_page(
    conn: Connection,
    terms: list[Term],
    ref_id: str | None,
    filters: SearchFilters,
    page: int,
    per_page: int,
    budget: SearchBudget,
) -> tuple[list[dict[str, Any]], int]:
    params = {"match": " ".join(term.fts for term in terms)}
    shape = _shape(conn, terms)
    hits = _hits(ref_id, scored=not shape.common)
    rank_from = _joined(hits, walk_index=shape.common)
    # The count needs no scores: its own CTE spares a second bm25 pass over every match.
    found = hits if shape.common else _hits(ref_id, scored=False)
    count_from = _joined(found, walk_index=shape.wide)
    order: list[ColumnElement[Any]] = [
        projects.c.slug,
        documents.c.doc_type,
        documents.c.doc_id,
        documents.c.id,
    ]
    if not shape.common or ref_id is not None:
        order.insert(0, hits.c.score.desc())
    conditions = _conditions(filters)
    count_query = select(func.count()).select_from(count_from).where(*conditions)
    offset = (page - 1) * per_page
    if offset > _MAX_OFFSET:
        return [], conn.execute(count_query, params).scalar_one()
    # Rank on narrow rows (id and sort keys) only: the sort then holds every match cheaply,
    # and the page's titles and names are read for its rows alone.
    ranked = conn.execute(
        select(documents.c.id, hits.c.score)
        .select_from(rank_from)
        .where(*conditions)
        .order_by(*order)
        .limit(per_page)
        .offset(offset),
        params,
    ).all()
    if ranked and len(ranked) < per_page:
        total = offset + len(ranked)  # the last page: nothing after it to count
    elif ranked or offset:
        total = conn.execute(count_query, params).scalar_one()
    else:
        return [], 0
    if not ranked:
        return [], total

    ids = [doc_id for doc_id, _score in ranked]
    details = {
        row.id: row_dict(row)
        for row in conn.execute(
            select(
                documents.c.id,
                documents.c.doc_id,
                documents.c.doc_type.label("type"),
                documents.c.title,
                projects.c.slug.label("project_slug"),
                projects.c.name.label("project_name"),
                documents.c.status,
            )
            .join(projects, projects.c.id == documents.c.project_id)
            .where(documents.c.id.in_(ids))
        )
    }
    snippets = _snippets(conn, terms, ids, budget)
    items = []
    for doc_id, score in ranked:
        item = details[doc_id]
        del item["id"]
        item["score"] = score
        item["snippet"] = snippets[doc_id]
        items.append(item)
    return items, total


def _snippets(
    conn: Connection, terms: list[Term], ids: list[int], budget: SearchBudget
) -> dict[int, str]:
    """HTML-safe snippets for the documents of one page only, each read from its row.

    The body is read through SQLite's incremental blob I/O, chunk by chunk from the start,
    so a snippet near the start of a 50 MB document reads kilobytes, not the document.
    """
    matcher = Matcher(terms)
    raw = driver_connection(conn)
    snippets: dict[int, str] = {}
    for doc_id in ids:
        with raw.blobopen(documents.name, documents.c.content.name, doc_id, readonly=True) as blob:
            snippets[doc_id] = snippet(TextReader(blob, budget.check), matcher)
    return snippets
