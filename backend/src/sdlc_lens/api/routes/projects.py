"""Project registry and sync trigger (SPEC §4-§5)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from sdlc_lens.api.caching import AnswerScope, CachedRoute, cached
from sdlc_lens.api.deps import (
    ConnectionDep,
    EngineDep,
    FolderWatcherDep,
    ProjectRulesDep,
    SyncProgressDep,
    SyncRunnerDep,
    TokenCipherDep,
)
from sdlc_lens.api.openapi import COMMON_ERRORS, ErrorAnswer, error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.common import SQLITE_INT_LIMIT
from sdlc_lens.api.schemas.projects import ProjectCreate, ProjectOut, ProjectUpdate, SyncAccepted
from sdlc_lens.services.freshness.watcher import FolderWatcher
from sdlc_lens.services.projects import editing
from sdlc_lens.services.projects import registry as service

router = APIRouter(prefix="/projects", tags=["projects"], route_class=CachedRoute)

# A page of the project list holds at most this many (`?limit=`).
MAX_PROJECTS_PER_PAGE = 1000


def with_mode(project: dict[str, Any], watcher: FolderWatcher) -> dict[str, Any]:
    """The project with its `auto_sync_mode`, which only the folder watcher knows."""
    project["auto_sync_mode"] = watcher.mode_of(project["slug"])
    return project


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    responses=error_responses(
        400,
        409,
        413,
        422,
        own={
            409: ErrorAnswer(
                "Another project has this name's slug.",
                (("CONFLICT", "Project slug already exists"),),
            ),
            422: ErrorAnswer(
                COMMON_ERRORS[422].description,
                (
                    ("VALIDATION_ERROR", "name: Field required"),
                    ("VALIDATION_ERROR", "Project name produces an empty slug after sanitisation"),
                ),
            ),
        },
    ),
)
def create_project(
    body: ProjectCreate, engine: EngineDep, rules: ProjectRulesDep, watcher: FolderWatcherDep
) -> Any:
    """Register a project: a folder, or a repository; it is not synced until asked (unless
    it comes with auto_sync: its folder is then followed)."""
    project = editing.create_project(engine, body.new_project(), rules)
    project["auto_sync_mode"] = watcher.refresh(project["slug"])
    return json_response(project, status.HTTP_201_CREATED)


@router.get(
    "",
    response_model=list[ProjectOut],
    responses={
        200: {
            "headers": {
                "X-Total-Count": {
                    "description": "How many projects there are, whatever the page.",
                    "schema": {"type": "integer"},
                }
            }
        },
        **error_responses(422),
    },
)
@cached(AnswerScope.PROJECT_LIST)
def list_projects(
    conn: ConnectionDep,
    cipher: TokenCipherDep,
    progress: SyncProgressDep,
    watcher: FolderWatcherDep,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_PROJECTS_PER_PAGE,
            description="Opt-in paging: at most this many projects (without it, all of them).",
        ),
    ] = None,
    offset: Annotated[
        int, Query(ge=0, lt=SQLITE_INT_LIMIT, description="Projects to skip first (oldest).")
    ] = 0,
) -> Any:
    """All projects, oldest first; or a page of them with `limit` and `offset` (the same
    array). Grows with the number of projects, so it runs in the thread pool."""
    page = service.list_projects(conn, cipher, progress, limit=limit, offset=offset)
    response = json_response([with_mode(project, watcher) for project in page])
    response.headers["X-Total-Count"] = str(service.count_projects(conn))
    return response


@router.get("/{slug}", response_model=ProjectOut, responses=error_responses(404))
@cached(AnswerScope.ONE_PROJECT)
def get_project(
    slug: str,
    conn: ConnectionDep,
    cipher: TokenCipherDep,
    progress: SyncProgressDep,
    watcher: FolderWatcherDep,
) -> Any:
    """One project, with its live document count, sync state and progress (counting its
    documents grows with the project, so it runs in the thread pool)."""
    return json_response(with_mode(service.get_project(conn, slug, cipher, progress), watcher))


@router.put("/{slug}", response_model=ProjectOut, responses=error_responses(400, 404, 413, 422))
def update_project(
    slug: str,
    body: ProjectUpdate,
    engine: EngineDep,
    rules: ProjectRulesDep,
    progress: SyncProgressDep,
    watcher: FolderWatcherDep,
) -> Any:
    """Change a project's name, source, token or connection; the slug never changes.

    Omitted keys are left alone; an explicit null `connection_id` detaches the connection and
    an explicit null `access_token` deletes the token. A new source type, URL, branch or
    folder makes the next sync a full one. Turning auto_sync on for a local project (or
    moving one that has it) starts following its folder, with a sync right after.
    """
    changes = body.model_dump(include=body.model_fields_set)
    project = editing.update_project(engine, slug, changes, rules, progress)
    project["auto_sync_mode"] = watcher.refresh(slug)
    return json_response(project)


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
def delete_project(
    slug: str, engine: EngineDep, runner: SyncRunnerDep, watcher: FolderWatcherDep
) -> Response:
    """Delete a project and everything synced from it (allowed while it syncs)."""
    runner.project_deleted(service.delete_project(engine, slug), slug)
    watcher.forget(slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{slug}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SyncAccepted,
    responses=error_responses(
        404,
        409,
        422,
        own={
            409: ErrorAnswer(
                "A sync of this project is already running.",
                (("SYNC_IN_PROGRESS", "Sync already running for this project"),),
            )
        },
    ),
)
def trigger_sync(
    slug: str,
    runner: SyncRunnerDep,
    allow_empty: bool = Query(
        default=False,
        description="Let a sync of an emptied folder delete all of the project's documents "
        "(without it, an empty folder is refused so that a missing mount loses nothing).",
    ),
) -> Any:
    """Start a sync in the background and answer at once; 409 while one is running."""
    runner.start_sync(slug, allow_empty=allow_empty)
    return json_response(SyncAccepted(slug=slug).model_dump(), status.HTTP_202_ACCEPTED)
