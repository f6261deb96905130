"""Project registry and sync trigger (SPEC §4-§5)."""

from typing import Any

from fastapi import APIRouter, Query, Response, status

from sdlc_lens.api.deps import ConnectionDep, EngineDep, SettingsDep, SyncRunnerDep
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.projects import ProjectCreate, ProjectOut, ProjectUpdate, SyncAccepted
from sdlc_lens.services import projects as service

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectOut)
def create_project(body: ProjectCreate, engine: EngineDep, settings: SettingsDep) -> Any:
    """Register a project folder; it is not synced until asked."""
    new = service.NewProject(name=body.name, sdlc_path=body.sdlc_path, source_type=body.source_type)
    project = service.create_project(engine, new, settings.allowed_project_base)
    return json_response(project, status.HTTP_201_CREATED)


@router.get("", response_model=list[ProjectOut])
async def list_projects(conn: ConnectionDep) -> Any:
    """All projects, oldest first (a point read: see api/deps.py)."""
    return json_response(service.list_projects(conn))


@router.get("/{slug}", response_model=ProjectOut)
async def get_project(slug: str, conn: ConnectionDep) -> Any:
    """One project, with its live document count and sync state (a point read)."""
    return json_response(service.get_project(conn, slug))


@router.put("/{slug}", response_model=ProjectOut)
def update_project(slug: str, body: ProjectUpdate, engine: EngineDep, settings: SettingsDep) -> Any:
    """Rename or re-point a project; the slug never changes."""
    changes = body.model_dump(include=body.model_fields_set)
    return json_response(
        service.update_project(engine, slug, changes, settings.allowed_project_base)
    )


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(slug: str, engine: EngineDep, runner: SyncRunnerDep) -> Response:
    """Delete a project and everything synced from it (allowed while it syncs)."""
    runner.purge(service.delete_project(engine, slug))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{slug}/sync", status_code=status.HTTP_202_ACCEPTED, response_model=SyncAccepted)
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
