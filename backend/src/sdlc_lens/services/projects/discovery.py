"""Projects found without registration, below `SDLC_LENS_PROJECTS_ROOT` (opt-in).

At start-up, each immediate subfolder of the root that holds sdlc-studio documents (it has
an `sdlc-studio/` folder, or is one itself) is registered under its folder name and synced;
with SDLC_LENS_AUTO_SYNC_DISCOVERED (the default) it is registered with auto_sync, so that
its folder is followed from then on. A slug that is already registered is never overwritten:
the project keeps its name, path and auto_sync, and is synced only when its path is that
folder. A registered folder below the root that has
gone is reported in the log and in the project's `sync_error`; the project and its documents
stay (a missing mount must not cost anyone their data).
"""

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from sdlc_lens.config import Settings
from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.models import projects
from sdlc_lens.errors import AppError
from sdlc_lens.services.freshness.watcher import FolderWatcher
from sdlc_lens.services.projects.editing import NewProject, ProjectRules, create_project
from sdlc_lens.services.projects.paths import is_within
from sdlc_lens.services.projects.registry import SyncState, slugify
from sdlc_lens.services.sync.runner import SyncRunner
from sdlc_lens.services.tokens import TokenCipher

logger = logging.getLogger(__name__)

SDLC_FOLDER = "sdlc-studio"
# What the top of an sdlc-studio folder holds: its version/config files, its one-per-project
# documents, its document-type folders. One of them is enough to recognise it.
SDLC_MARKERS = frozenset(
    {".version", ".config.yaml", "prd.md", "trd.md", "tsd.md"}
    | {"epics", "stories", "plans", "bugs", "test-specs", "change-requests", "workflows"}
)
VANISHED_ERROR = (
    "Folder {path} is no longer below SDLC_LENS_PROJECTS_ROOT ({root}); the project and its "
    "documents are kept. Restore the folder (is the volume mounted?) or delete the project."
)


@dataclass(frozen=True, slots=True)
class FoundFolder:
    """An sdlc-studio folder below the root, and the name its project gets."""

    name: str
    sdlc_path: Path


@dataclass(slots=True)
class Discovery:
    """What one pass over the root did, by project slug."""

    registered: list[str] = field(default_factory=list)
    to_sync: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)


def find_sdlc_folders(root: Path) -> list[FoundFolder]:
    """The immediate subfolders of `root` that are, or contain, an sdlc-studio folder."""
    found = []
    for entry in sorted(os.scandir(root), key=lambda entry: entry.name):
        if entry.name.startswith(".") or not entry.is_dir():  # follows a symlinked folder
            continue
        folder = Path(entry.path)
        if (folder / SDLC_FOLDER).is_dir():
            found.append(FoundFolder(entry.name, folder / SDLC_FOLDER))
        elif _holds_sdlc_markers(folder):
            found.append(FoundFolder(entry.name, folder))
    return found


def discover_projects(
    engine: Engine, root: Path, allowed_base: Path | None, auto_sync: bool = False
) -> Discovery:
    """Register the folders found below `root` and report the vanished ones (no syncing)."""
    discovery = Discovery()
    try:
        found = find_sdlc_folders(root)
    except OSError as exc:
        logger.error("projects root %s cannot be read (%s); nothing registered", root, exc)
        found = []
    registered_paths = _registered_paths(engine)
    # Folders only: no token to store, so no key is needed.
    rules = ProjectRules(allowed_base, TokenCipher(None))
    for folder in found:
        slug = slugify(folder.name)
        sdlc_path = str(folder.sdlc_path.resolve())
        if not slug:
            logger.warning("projects root: %s gives an empty slug; not registered", folder.name)
        elif slug not in registered_paths:
            try:
                new = NewProject(folder.name, sdlc_path, auto_sync=auto_sync)
                create_project(engine, new, rules)
            except AppError as exc:  # outside the allowed base, or registered meanwhile
                logger.warning("projects root: %s not registered: %s", sdlc_path, exc.message)
                continue
            discovery.registered.append(slug)
            discovery.to_sync.append(slug)
        elif registered_paths[slug] == sdlc_path:
            discovery.to_sync.append(slug)
        else:
            logger.info(
                "projects root: %s not registered: slug %r belongs to the project at %s",
                sdlc_path,
                slug,
                registered_paths[slug],
            )
            discovery.left_alone.append(slug)
    for slug, path in registered_paths.items():
        if path and is_within(Path(path), root) and not Path(path).is_dir():
            _report_vanished(engine, slug, path, root)
            discovery.vanished.append(slug)
    return discovery


def discover_and_sync(
    engine: Engine, runner: SyncRunner, settings: Settings, watcher: FolderWatcher
) -> None:
    """At start-up: register what SDLC_LENS_PROJECTS_ROOT holds and queue a sync of each
    (the watcher's own first sync, for a project it follows)."""
    root = settings.projects_root
    if root is None:
        return
    try:
        discovery = discover_projects(
            engine, root, settings.allowed_project_base, settings.auto_sync_discovered
        )
        for slug in discovery.to_sync:
            try:
                if watcher.refresh(slug) is None:
                    runner.start_sync(slug)
            except AppError as exc:  # already syncing, or deleted meanwhile
                logger.info("projects root: %s not synced: %s", slug, exc.message)
    except Exception:  # a background task at start-up: report it, never take the server down
        logger.exception("projects root %s: discovery failed", root)
        return
    logger.info(
        "projects root %s: %d registered, %d syncing, %d vanished",
        root,
        len(discovery.registered),
        len(discovery.to_sync),
        len(discovery.vanished),
    )


def _holds_sdlc_markers(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(entry.name in SDLC_MARKERS for entry in entries)
    except OSError:
        return False


def _registered_paths(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(select(projects.c.slug, projects.c.sdlc_path)).all()
    return {row.slug: row.sdlc_path for row in rows}


def _report_vanished(engine: Engine, slug: str, path: str, root: Path) -> None:
    message = VANISHED_ERROR.format(path=path, root=root)
    logger.warning("project %s: %s", slug, message)
    with write_transaction(engine) as conn:
        conn.execute(
            projects.update()
            .where(projects.c.slug == slug, projects.c.sync_status != SyncState.SYNCING)
            .values(sync_status=SyncState.ERROR, sync_error=message)
        )
