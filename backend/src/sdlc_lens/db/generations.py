"""Which rows of `documents` a project shows: those of its current generation (0010).

A project is at generation g (`projects.generation`). A row is visible while
`born_gen <= g` and `died_gen` is NULL or above g. A large sync (db/batched_sync.py) writes its
new and changed rows with `born_gen = g + 1` and marks the rows they replace or delete with
`died_gen = g + 1`, in short transactions that change nothing any reader sees; one short
transaction then sets the project to g + 1, which shows the new set and hides the old one at
once. Every read of documents applies `visible` (SQLAlchemy) or `visible_sql` (raw SQL).

Outside a sync and its clean-up every row of a project is visible; the predicate costs one
comparison per row, read from the indexes where a query is meant to stay within one.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, literal_column, or_, select

from sdlc_lens.db.models import documents, projects

# The generation columns as expressions (`born_gen + 0`): SQLite then never picks the index
# that finds a sync's leftovers (project, born_gen) for a read, which would sort a whole
# project instead of walking the index of the requested order; a covering index still
# answers them.
_born = documents.c.born_gen + literal_column("0")
_died = documents.c.died_gen + literal_column("0")


def visible(generation: ColumnElement[Any]) -> ColumnElement[bool]:
    """The condition that a `documents` row is in `generation` (a column or subquery)."""
    return and_(_born <= generation, or_(_died.is_(None), _died > generation))


def generation_of(project_id: int) -> ColumnElement[Any]:
    """The current generation of one project, as a scalar subquery (evaluated once)."""
    return select(projects.c.generation).where(projects.c.id == project_id).scalar_subquery()


def visible_in_project(project_id: int) -> ColumnElement[bool]:
    """`visible` for the rows of one project, by its id."""
    return visible(generation_of(project_id))


def visible_sql(alias: str, generation: str) -> str:
    """`visible` as SQL text for the row `alias`, `generation` an SQL expression (built from
    constant names only)."""
    return (
        f"({alias}.born_gen + 0 <= {generation} AND "
        f"({alias}.died_gen + 0 IS NULL OR {alias}.died_gen + 0 > {generation}))"
    )


def generation_sql(project_id: str) -> str:
    """The SQL expression of the current generation of the project `project_id` (an SQL
    expression: a column or `?`)."""
    return f"(SELECT generation FROM projects WHERE projects.id = {project_id})"  # noqa: S608


def generation_of_row() -> ColumnElement[Any]:
    """The current generation of each `documents` row's project (a correlated subquery: for
    queries over many projects)."""
    return (
        select(projects.c.generation)
        .where(projects.c.id == documents.c.project_id)
        .correlate(documents)
        .scalar_subquery()
    )
