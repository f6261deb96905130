"""Creating and changing a project (SPEC §4, SPEC-3 §16.1): its source fields checked as a
whole, its folder resolved, its token sealed, and nothing stored when a check fails."""

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, select
from sqlalchemy.exc import IntegrityError

from sdlc_lens.config import Settings
from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.models import github_connections, projects
from sdlc_lens.errors import ConflictError, NotFoundError, ValidationFailedError
from sdlc_lens.services.projects.paths import resolve_project_path
from sdlc_lens.services.projects.registry import (
    CREATED_PROJECT_COLUMNS,
    EMPTY_SLUG,
    PROJECT_NOT_FOUND,
    get_project,
    project_view,
    slugify,
)
from sdlc_lens.services.projects.sources import (
    DEFAULT_BRANCH,
    DEFAULT_REPO_PATH,
    LOCATION_FIELDS,
    SourceType,
    check_source,
)
from sdlc_lens.services.sources.source import ProjectLocation
from sdlc_lens.services.sync.progress import SyncProgressBoard
from sdlc_lens.services.tokens import TokenCipher
from sdlc_lens.timeutil import utc_now

# A project's location without its token (which is sealed and written on its own).
_SOURCE_FIELDS = tuple(f.name for f in fields(ProjectLocation) if f.name != "access_token")


@dataclass(frozen=True, slots=True)
class ProjectRules:
    """What a project's settings are checked against, and how its token is stored."""

    allowed_base: Path | None  # SDLC_LENS_ALLOWED_PROJECT_BASE
    cipher: TokenCipher
    github_url: str = "https://github.com"  # SDLC_LENS_GITHUB_URL

    @classmethod
    def from_settings(cls, settings: Settings, cipher: TokenCipher) -> "ProjectRules":
        return cls(settings.allowed_project_base, cipher, settings.github_url)


@dataclass(frozen=True, slots=True)
class NewProject:
    """A create request that passed the schema."""

    name: str
    sdlc_path: str | None
    source_type: str = SourceType.LOCAL
    repo_url: str | None = None
    repo_branch: str = DEFAULT_BRANCH
    repo_path: str = DEFAULT_REPO_PATH
    connection_id: int | None = None
    auto_sync: bool = False
    access_token: str | None = field(default=None, repr=False)  # a secret: never shown


def create_project(engine: Engine, new: NewProject, rules: ProjectRules) -> dict[str, Any]:
    """Register a project (SPEC §4 create): source fields, slug, folder, connection and
    uniqueness, in that order."""
    source = check_source(
        ProjectLocation(**{name: getattr(new, name) for name in _SOURCE_FIELDS}), rules.github_url
    )
    slug = slugify(new.name)
    if not slug:
        raise ValidationFailedError(EMPTY_SLUG)
    if source.source_type == SourceType.LOCAL:
        assert source.sdlc_path is not None  # check_source requires it
        source = replace(
            source, sdlc_path=resolve_project_path(source.sdlc_path, rules.allowed_base)
        )
    now = utc_now()
    # The id comes from SQLite's AUTOINCREMENT sequence: never one a deleted project had.
    insert = projects.insert().values(
        slug=slug,
        name=new.name,
        **{name: getattr(source, name) for name in _SOURCE_FIELDS},
        auto_sync=new.auto_sync,
        access_token=None if new.access_token is None else rules.cipher.seal(new.access_token),
        created_at=now,
        updated_at=now,
    )
    try:
        # The answer comes from the insert itself (RETURNING): a delete that commits right
        # after it cannot turn a successful create into a 404.
        with write_transaction(engine, changes=(slug,)) as conn:
            check_connection_exists(conn, source.connection_id)
            row = conn.execute(insert.returning(*CREATED_PROJECT_COLUMNS)).one()
    except IntegrityError as exc:
        # Two creates racing for one slug: the unique constraint decides, the loser gets 409.
        raise ConflictError("Project slug already exists") from exc
    return project_view(row, rules.cipher)


def update_project(
    engine: Engine,
    slug: str,
    changes: dict[str, Any],
    rules: ProjectRules,
    progress: SyncProgressBoard | None = None,
) -> dict[str, Any]:
    """Apply a partial update (SPEC-3 §16.1 PUT semantics); a refused change stores nothing.

    `changes` holds the keys the request sent: an omitted key is left alone, an explicit null
    `connection_id` detaches the connection and an explicit null `access_token` deletes the
    token. The update is planned on the stored project, with the folder checked outside the
    write lock, then planned again on the row inside it (the folder's answer remembered), so
    that a concurrent change cannot combine into settings no check saw.
    """
    resolve = cache(lambda path: resolve_project_path(path, rules.allowed_base))
    with engine.connect() as conn:
        _planned_update(_stored_source(conn, slug), changes, rules, resolve)
    with write_transaction(engine, changes=(slug,)) as conn:
        values = _planned_update(_stored_source(conn, slug), changes, rules, resolve)
        check_connection_exists(conn, values.get("connection_id"))
        if values:
            values["updated_at"] = utc_now()
            conn.execute(projects.update().where(projects.c.slug == slug).values(**values))
        # Read back in the same transaction: the answer is the project as this update left it.
        return get_project(conn, slug, rules.cipher, progress)


_STORED = select(*(projects.c[name] for name in (*_SOURCE_FIELDS, "access_token")))


def _stored_source(conn: Connection, slug: str) -> Row[Any]:
    row = conn.execute(_STORED.where(projects.c.slug == slug)).first()
    if row is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    return row


def _planned_update(
    row: Row[Any], changes: dict[str, Any], rules: ProjectRules, resolve: Callable[[str], str]
) -> dict[str, Any]:
    """The column values an update writes, or the error that refuses it."""
    stored = ProjectLocation(**{name: row._mapping[name] for name in _SOURCE_FIELDS})
    given = {name: changes[name] for name in _SOURCE_FIELDS if name in changes}
    if given.get("source_type", SourceType.GITHUB) != SourceType.GITHUB:
        given.setdefault("connection_id", None)  # connections are for GitHub projects only
    # Checked only when the request touches them: a rename never fails on stored settings.
    source = check_source(replace(stored, **given), rules.github_url) if given else stored
    if source.source_type == SourceType.LOCAL and "sdlc_path" in given:
        assert source.sdlc_path is not None  # check_source requires it
        source = replace(source, sdlc_path=resolve(source.sdlc_path))
    values: dict[str, Any] = {
        name: getattr(source, name)
        for name in _SOURCE_FIELDS
        if getattr(source, name) != getattr(stored, name)
    }
    if any(name in values for name in LOCATION_FIELDS):
        values["last_synced_commit_sha"] = None  # another place: the next sync is a full one
    values.update({name: changes[name] for name in ("name", "auto_sync") if name in changes})
    if "access_token" in changes:
        token = changes["access_token"]
        values["access_token"] = None if token is None else rules.cipher.seal(token)
    elif (resealed := rules.cipher.reseal(row.access_token)) != row.access_token:
        values["access_token"] = resealed  # plaintext from before the key: encrypted now
    return values


def check_connection_exists(conn: Connection, connection_id: int | None) -> None:
    """ValidationFailedError when a project would name a connection that is not stored."""
    if connection_id is None:
        return
    found = conn.execute(
        select(github_connections.c.id).where(github_connections.c.id == connection_id)
    ).first()
    if found is None:
        raise ValidationFailedError(
            f"'connection_id' {connection_id} is not a stored connection "
            "(GET /api/v1/connections lists them)"
        )
