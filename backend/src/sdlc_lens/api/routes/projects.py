"""Project registry and sync trigger (SPEC §4-§5)."""

from typing import Any

from fastapi import APIRouter, Query, Response, status

from sdlc_lens.api.deps import (
    ConnectionDep,
    EngineDep,
    SettingsDep,
    SyncProgressDep,
    SyncRunnerDep,
)
from sdlc_lens.api.openapi import COMMON_ERRORS, ErrorAnswer, error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.projects import ProjectCreate, ProjectOut, ProjectUpdate, SyncAccepted
from sdlc_lens.services.projects import registry as service

router = APIRouter(prefix="/projects", tags=["projects"])


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
def create_project(body: ProjectCreate, engine: EngineDep, settings: SettingsDep) -> Any:
    """Register a project folder; it is not synced until asked."""
    new = service.NewProject(name=body.name, sdlc_path=body.sdlc_path, source_type=body.source_type)
    project = service.create_project(engine, new, settings.allowed_project_base)
    return json_response(project, status.HTTP_201_CREATED)


@router.get("", response_model=list[ProjectOut])
async def list_projects(conn: ConnectionDep, progress: SyncProgressDep) -> Any:
    """All projects, oldest first (a point read: see api/deps.py)."""
    return json_response(service.list_projects(conn, progress))


@router.get("/{slug}", response_model=ProjectOut, responses=error_responses(404))
async def get_project(slug: str, conn: ConnectionDep, progress: SyncProgressDep) -> Any:
    """One project, with its live document count, sync state and progress (a point read)."""
    return json_response(service.get_project(conn, slug, progress))


@router.put("/{slug}", response_model=ProjectOut, responses=error_responses(400, 404, 413, 422))
def update_project(
    slug: str,
    body: ProjectUpdate,
    engine: EngineDep,
    settings: SettingsDep,
    progress: SyncProgressDep,
) -> Any:
    """Rename or re-point a project; the slug never changes."""
    changes = body.model_dump(include=body.model_fields_set)
    return json_response(
        service.update_project(engine, slug, changes, settings.allowed_project_base, progress)
    )


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
def delete_project(slug: str, engine: EngineDep, runner: SyncRunnerDep) -> Response:
    """Delete a project and everything synced from it (allowed while it syncs)."""
    runner.project_deleted(service.delete_project(engine, slug), slug)
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
