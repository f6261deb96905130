"""Project registry: slugs, CRUD, the purge of a deleted project and the atomic sync claim."""

import re
import unicodedata
from collections.abc import Callable, Collection
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, literal_column, or_, select, text

from sdlc_lens.db.engine import row_dict, row_dicts, write_transaction
from sdlc_lens.db.generations import generation_of_row, visible
from sdlc_lens.db.models import documents, projects
from sdlc_lens.errors import (
    NotFoundError,
    SyncInProgressError,
)
from sdlc_lens.services.sync.progress import SyncProgressBoard
from sdlc_lens.services.tokens import TokenCipher

PROJECT_NOT_FOUND = "Project not found"


class SyncState(StrEnum):
    """A project's `sync_status`: never_synced -> syncing -> synced | error (SPEC §5)."""

    NEVER_SYNCED = "never_synced"
    SYNCING = "syncing"
    SYNCED = "synced"
    ERROR = "error"


EMPTY_SLUG = "Project name produces an empty slug after sanitisation"

# Rows per transaction when a deleted project's documents are removed: each batch holds the
# write lock for well under a second (the index entries of each document are removed too).
PURGE_BATCH_ROWS = 1000

_NON_SLUG = re.compile(r"[^a-z0-9-]")
_SEPARATORS = re.compile(r"[\s_]+")
_DASHES = re.compile(r"-{2,}")


def slugify(name: str) -> str:
    """NFKD, ASCII only, lower case, whitespace/underscores to `-`, nothing outside [a-z0-9-]."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _SEPARATORS.sub("-", ascii_name.lower())
    slug = _NON_SLUG.sub("", slug)
    return _DASHES.sub("-", slug).strip("-")


# Exactly the Project JSON keys (SPEC §4); the token is masked separately. `generation` is
# which rows of its documents the project shows (db/generations.py), never served.
_HIDDEN_COLUMNS = ("id", "access_token", "status_vocab", "updated_at", "generation")
_PROJECT_COLUMNS = [c for c in projects.c if c.name not in _HIDDEN_COLUMNS]
# One statement for one project or a page of them: the count is a correlated subquery, which
# reads only each project's range of the (project_id, ...) index.
_DOCUMENT_COUNT = (
    select(func.count())
    .where(documents.c.project_id == projects.c.id, visible(projects.c.generation))
    .correlate(projects)
    .scalar_subquery()
)
_PROJECT_ORDER = (projects.c.created_at, projects.c.id)
_PROJECT_QUERY = select(
    *_PROJECT_COLUMNS,
    projects.c.id,
    projects.c.access_token,
    _DOCUMENT_COUNT.label("document_count"),
).order_by(*_PROJECT_ORDER)
# The whole list counts every project's documents in one grouped pass over that index instead
# (at 10,000 projects: 11 ms rather than 38 ms for a count per project).
_COUNTS = (
    select(documents.c.project_id, func.count().label("n"))
    .where(visible(generation_of_row()))
    .group_by(documents.c.project_id)
    .subquery()
)
_ALL_PROJECTS_QUERY = (
    select(
        *_PROJECT_COLUMNS,
        projects.c.id,
        projects.c.access_token,
        func.coalesce(_COUNTS.c.n, 0).label("document_count"),
    )
    .select_from(projects.outerjoin(_COUNTS, _COUNTS.c.project_id == projects.c.id))
    .order_by(*_PROJECT_ORDER)
)
# What an INSERT returns for the same view: a project that is being created owns no documents.
CREATED_PROJECT_COLUMNS = (
    *_PROJECT_COLUMNS,
    projects.c.id,
    projects.c.access_token,
    literal_column("0").label("document_count"),
)


def project_view(
    row: Row[*tuple[Any, ...]], cipher: TokenCipher, progress: SyncProgressBoard | None = None
) -> dict[str, Any]:
    """The Project JSON object (SPEC §4) from a row of `_PROJECT_QUERY`."""
    return _project_json(row_dict(row), cipher, progress)


def _project_json(
    data: dict[str, Any], cipher: TokenCipher, progress: SyncProgressBoard | None
) -> dict[str, Any]:
    """The Project JSON object, made in place from a row as a dict.

    The stored token is shown only masked, and not at all when it cannot be decrypted.
    `sync_progress` comes from the running syncs' board; it is shown only while the stored
    status says `syncing`, so a finished sync never shows stale progress.
    """
    project_id = data.pop("id")
    data["masked_token"] = cipher.mask(data.pop("access_token"))
    data["auto_sync"] = bool(data["auto_sync"])
    syncing = data["sync_status"] == SyncState.SYNCING
    data["sync_progress"] = (
        progress.snapshot(project_id) if progress is not None and syncing else None
    )
    return data


def list_projects(
    conn: Connection,
    cipher: TokenCipher,
    progress: SyncProgressBoard | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """All projects, oldest first, with live document counts, in one query; or the `limit`
    of them after the first `offset`."""
    if limit is None and not offset:
        query = _ALL_PROJECTS_QUERY
    else:
        query = _PROJECT_QUERY.limit(limit).offset(offset)
    return [_project_json(data, cipher, progress) for data in row_dicts(conn.execute(query))]


def count_projects(conn: Connection) -> int:
    """How many projects there are."""
    return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


def get_project(
    conn: Connection, slug: str, cipher: TokenCipher, progress: SyncProgressBoard | None = None
) -> dict[str, Any]:
    """One project by slug, or NotFoundError."""
    row = conn.execute(_PROJECT_QUERY.where(projects.c.slug == slug)).first()
    if row is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    return project_view(row, cipher, progress)


def project_id_for(conn: Connection, slug: str) -> int:
    """The numeric id of a project, or NotFoundError."""
    project_id = conn.execute(select(projects.c.id).where(projects.c.slug == slug)).scalar()
    if project_id is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    return int(project_id)


def delete_project(engine: Engine, slug: str) -> int:
    """Delete a project at once and return its id; `purge_deleted_project` removes its rows.

    Removing 100,000 documents and their index entries takes many seconds: far too long to
    hold the write lock in one go. So only the project row goes now, without its cascade.
    Every read finds documents through their project, so the project and its documents are
    gone for clients from this moment; the orphaned rows are then deleted in batches.
    """
    with write_transaction(engine, foreign_keys=False, changes=(slug,)) as conn:
        deleted = conn.execute(
            projects.delete().where(projects.c.slug == slug).returning(projects.c.id)
        ).scalar()
    if deleted is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    return int(deleted)


# Every (table, column) that refers to projects.id; `documents` is listed last.
_CHILD_TABLES_SQL = (
    'SELECT m.name, f."from" FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f '
    "WHERE m.type = 'table' AND f.\"table\" = 'projects' ORDER BY m.name = 'documents', m.name"
)


def _child_tables(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.exec_driver_sql(_CHILD_TABLES_SQL).all()
    return [(_quote(table), _quote(column)) for table, column in rows]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def project_ids(engine: Engine) -> list[int]:
    """The ids of every registered project."""
    with engine.connect() as conn:
        return [int(id_) for id_ in conn.execute(select(projects.c.id)).scalars()]


def deleted_project_ids(engine: Engine) -> list[int]:
    """Ids of deleted projects whose rows are not all removed yet (a stop cut the purge)."""
    ids: set[int] = set()
    with engine.connect() as conn:
        for table, column in _child_tables(conn):
            ids.update(
                conn.exec_driver_sql(
                    f"SELECT DISTINCT {column} FROM {table} "  # noqa: S608 - names from the schema
                    f"WHERE {column} NOT IN (SELECT id FROM projects)"
                ).scalars()
            )
    return sorted(ids)


def purge_deleted_project(
    engine: Engine, project_id: int, should_stop: Callable[[], bool] = lambda: False
) -> int:
    """Delete the rows a deleted project left, PURGE_BATCH_ROWS per transaction; the count.

    Other writers wait at most one batch for the write lock. Stops between batches when
    asked; whatever is left is purged after the next start.
    """
    with engine.connect() as conn:
        children = _child_tables(conn)
    purged = 0
    for table, column in children:
        delete_batch = (
            f"DELETE FROM {table} WHERE rowid IN "  # noqa: S608 - names from the schema
            f"(SELECT rowid FROM {table} WHERE {column} = :id LIMIT :n) "
            "AND NOT EXISTS (SELECT 1 FROM projects WHERE id = :id)"
        )
        deleted = PURGE_BATCH_ROWS
        while deleted == PURGE_BATCH_ROWS and not should_stop():
            # The project is gone for every reader already: only answers over all projects
            # could count these rows, were they not joined to their project.
            with write_transaction(engine, changes=()) as conn:
                deleted = conn.execute(
                    text(delete_batch), {"id": project_id, "n": PURGE_BATCH_ROWS}
                ).rowcount
            purged += deleted
    return purged


def claim_sync(engine: Engine, slug: str, running: Collection[int] = ()) -> int:
    """Move a project to `syncing` in one conditional UPDATE; its id, or 404 / 409.

    A project is claimable unless a sync of it is `running` (queued or under way in this
    process): a row left `syncing` by a sync that could not even record its failure (a full
    disk) does not block the next sync.
    """
    with write_transaction(engine, changes=(slug,)) as conn:
        claimed = conn.execute(
            projects.update()
            .where(
                projects.c.slug == slug,
                or_(
                    projects.c.sync_status != SyncState.SYNCING,
                    projects.c.id.not_in(list(running)),
                ),
            )
            .values(sync_status=SyncState.SYNCING, sync_error=None)
            .returning(projects.c.id)
        ).scalar()
        if claimed is not None:
            return int(claimed)
        project_id_for(conn, slug)  # raises 404 when the project does not exist
    raise SyncInProgressError("Sync already running for this project")
