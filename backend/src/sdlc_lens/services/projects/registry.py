"""Project registry: slugs, CRUD, the purge of a deleted project and the atomic sync claim."""

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, literal_column, or_, select, text
from sqlalchemy.exc import IntegrityError

from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.models import documents, projects
from sdlc_lens.errors import (
    ConflictError,
    NotFoundError,
    SyncInProgressError,
    ValidationFailedError,
)
from sdlc_lens.services.projects.paths import resolve_project_path
from sdlc_lens.services.sync.progress import SyncProgressBoard
from sdlc_lens.timeutil import utc_now

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

# Columns a client may change with PUT besides name and sdlc_path (GitHub settings, a later
# epic: stored so the frontend's round trip works, not acted upon).
PASSTHROUGH_FIELDS = ("repo_url", "repo_branch", "repo_path", "connection_id", "auto_sync")

_NON_SLUG = re.compile(r"[^a-z0-9-]")
_SEPARATORS = re.compile(r"[\s_]+")
_DASHES = re.compile(r"-{2,}")


def slugify(name: str) -> str:
    """NFKD, ASCII only, lower case, whitespace/underscores to `-`, nothing outside [a-z0-9-]."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _SEPARATORS.sub("-", ascii_name.lower())
    slug = _NON_SLUG.sub("", slug)
    return _DASHES.sub("-", slug).strip("-")


# Exactly the Project JSON keys (SPEC §4); the token is masked separately.
_HIDDEN_COLUMNS = ("id", "access_token", "status_vocab", "updated_at")
_PROJECT_COLUMNS = [c for c in projects.c if c.name not in _HIDDEN_COLUMNS]
# One statement for any number of projects. The count is a correlated subquery: for one
# project it reads only that project's range of the (project_id, ...) index, and for the
# list it is still a single round trip.
_DOCUMENT_COUNT = (
    select(func.count())
    .where(documents.c.project_id == projects.c.id)
    .correlate(projects)
    .scalar_subquery()
)
_PROJECT_QUERY = select(
    *_PROJECT_COLUMNS,
    projects.c.id,
    projects.c.access_token,
    _DOCUMENT_COUNT.label("document_count"),
).order_by(projects.c.created_at, projects.c.id)
# What an INSERT returns for the same view: a project that is being created owns no documents.
_CREATED_PROJECT = (
    *_PROJECT_COLUMNS,
    projects.c.id,
    projects.c.access_token,
    literal_column("0").label("document_count"),
)


def project_view(
    row: Row[*tuple[Any, ...]], progress: SyncProgressBoard | None = None
) -> dict[str, Any]:
    """The Project JSON object (SPEC §4) from a row of `_PROJECT_QUERY`.

    `sync_progress` comes from the running syncs' board; it is shown only while the stored
    status says `syncing`, so a finished sync never shows stale progress.
    """
    data = dict(row._mapping)
    project_id = data.pop("id")
    token = data.pop("access_token")
    data["masked_token"] = mask_token(token)
    data["auto_sync"] = bool(data["auto_sync"])
    syncing = data["sync_status"] == SyncState.SYNCING
    data["sync_progress"] = (
        progress.snapshot(project_id) if progress is not None and syncing else None
    )
    return data


def mask_token(token: str | None) -> str | None:
    """Never return a stored secret: at most its last four characters."""
    if not token:
        return None
    return "****" + token[-4:] if len(token) > 8 else "****"


def list_projects(
    conn: Connection, progress: SyncProgressBoard | None = None
) -> list[dict[str, Any]]:
    """All projects, oldest first, with live document counts, in one query."""
    return [project_view(row, progress) for row in conn.execute(_PROJECT_QUERY)]


def get_project(
    conn: Connection, slug: str, progress: SyncProgressBoard | None = None
) -> dict[str, Any]:
    """One project by slug, or NotFoundError."""
    row = conn.execute(_PROJECT_QUERY.where(projects.c.slug == slug)).first()
    if row is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    return project_view(row, progress)


def project_id_for(conn: Connection, slug: str) -> int:
    """The numeric id of a project, or NotFoundError."""
    project_id = conn.execute(select(projects.c.id).where(projects.c.slug == slug)).scalar()
    if project_id is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    return int(project_id)


@dataclass(frozen=True, slots=True)
class NewProject:
    """A validated create request."""

    name: str
    sdlc_path: str | None
    source_type: str = "local"


def create_project(engine: Engine, new: NewProject, allowed_base: Path | None) -> dict[str, Any]:
    """Register a project (SPEC §4 create): slug, path, uniqueness, in that order."""
    slug = slugify(new.name)
    if not slug:
        raise ValidationFailedError(EMPTY_SLUG)
    sdlc_path = (
        resolve_project_path(new.sdlc_path, allowed_base) if new.sdlc_path is not None else None
    )
    now = utc_now()
    # The id comes from SQLite's AUTOINCREMENT sequence: never one a deleted project had.
    insert = projects.insert().values(
        slug=slug,
        name=new.name,
        sdlc_path=sdlc_path,
        source_type=new.source_type,
        created_at=now,
        updated_at=now,
    )
    try:
        # The answer comes from the insert itself (RETURNING): a delete that commits right
        # after it cannot turn a successful create into a 404.
        with write_transaction(engine) as conn:
            row = conn.execute(insert.returning(*_CREATED_PROJECT)).one()
    except IntegrityError as exc:
        # Two creates racing for one slug: the unique constraint decides, the loser gets 409.
        raise ConflictError("Project slug already exists") from exc
    return project_view(row)


def update_project(
    engine: Engine,
    slug: str,
    changes: dict[str, Any],
    allowed_base: Path | None,
    progress: SyncProgressBoard | None = None,
) -> dict[str, Any]:
    """Apply a partial update; a rejected path persists nothing."""
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = changes["name"]
    if changes.get("sdlc_path") is not None:
        values["sdlc_path"] = resolve_project_path(changes["sdlc_path"], allowed_base)
    values.update({key: changes[key] for key in PASSTHROUGH_FIELDS if key in changes})
    with write_transaction(engine) as conn:
        if values:
            values["updated_at"] = utc_now()
            conn.execute(projects.update().where(projects.c.slug == slug).values(**values))
        # Read back in the same transaction: the answer is the project as this update left it.
        return get_project(conn, slug, progress)


def delete_project(engine: Engine, slug: str) -> int:
    """Delete a project at once and return its id; `purge_deleted_project` removes its rows.

    Removing 100,000 documents and their index entries takes many seconds: far too long to
    hold the write lock in one go. So only the project row goes now, without its cascade.
    Every read finds documents through their project, so the project and its documents are
    gone for clients from this moment; the orphaned rows are then deleted in batches.
    """
    with write_transaction(engine, foreign_keys=False) as conn:
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
            with write_transaction(engine) as conn:
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
    with write_transaction(engine) as conn:
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
