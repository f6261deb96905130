"""Projects found without registration, below `SDLC_LENS_PROJECTS_ROOT` (opt-in).

At start-up, each immediate subfolder of the root that holds sdlc-studio documents (it has
an `sdlc-studio/` folder, or is one itself) is registered under its folder name and synced;
with SDLC_LENS_AUTO_SYNC_DISCOVERED (the default) it is registered with auto_sync, so that
its folder is followed from then on. A slug that is already registered is never overwritten:
the project keeps its name, path and auto_sync, and is synced only when its path is that
folder. A registered folder below the root that has gone (or cannot be read) is reported in
the log and in the project's `sync_error`; the project and its documents stay (a missing mount
must not cost anyone their data), unless SDLC_LENS_FORGET_VANISHED asks for gone ones to go.

A root that leaves nothing to register (missing, unreadable, a file, or holding no
sdlc-studio folder: a mistyped mount) is a WARNING in the log, and one of the service's
warnings in the system health and `GET /` until a later pass finds projects there.
"""

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from sdlc_lens.config import Settings
from sdlc_lens.container import running_in_container
from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.models import projects
from sdlc_lens.errors import AppError, PathNotFoundError
from sdlc_lens.services.freshness.watcher import FolderWatcher
from sdlc_lens.services.projects.editing import NewProject, ProjectRules, create_project
from sdlc_lens.services.projects.paths import (
    is_within,
    printable_path,
    readable_hint,
    resolve_project_path,
)
from sdlc_lens.services.projects.registry import SyncState, delete_project, slugify
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
    "the folder {path} is gone; the project and its documents are kept: restore the folder "
    "(is the host folder mounted?), or remove the project with DELETE /api/v1/projects/{slug}"
)
ROOT_SETTING = "SDLC_LENS_PROJECTS_ROOT"
# Shown with every root problem: discovery runs at start-up, so a fix shows after a restart.
ROOT_EXPECTED = (
    "expected {root}/<project>/sdlc-studio/ (or {root}/<project>/ holding sdlc-studio "
    "documents such as prd.md or stories/); projects there are found at each start"
)
ROOT_MOUNT_HINT = "check the host folder you mount there (LENS_PROJECTS_DIR with compose)"
# Enough names to recognise the folders; the rest are counted.
_NAMES_SHOWN = 3


@dataclass(frozen=True, slots=True)
class FoundFolder:
    """An sdlc-studio folder below the root, and the name its project gets."""

    name: str
    sdlc_path: Path


@dataclass(slots=True)
class RootScan:
    """The folders below the root that hold sdlc-studio documents, and the names of those
    the service's user cannot look into."""

    found: list[FoundFolder] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Discovery:
    """What one pass over the root did, by project slug, and what is wrong with the root."""

    registered: list[str] = field(default_factory=list)
    to_sync: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)  # their folder is gone
    unusable: list[str] = field(default_factory=list)  # unreadable, or a file now
    root_problem: str | None = None


class ProjectsRootState:
    """What the latest discovery pass found wrong with SDLC_LENS_PROJECTS_ROOT, for the
    system health and `GET /`: written by the discovery thread, read by requests (one
    attribute, replaced whole)."""

    def __init__(self) -> None:
        self.problem: str | None = None

    def warnings(self) -> list[str]:
        """The service's warnings about the root: none, or the one problem."""
        problem = self.problem
        return [problem] if problem else []


def find_sdlc_folders(root: Path) -> RootScan:
    """The immediate subfolders of `root` that are, or contain, an sdlc-studio folder;
    OSError when `root` itself cannot be listed."""
    scan = RootScan()
    for entry in sorted(os.scandir(root), key=lambda entry: entry.name):
        if entry.name.startswith(".") or not entry.is_dir():  # follows a symlinked folder
            continue
        folder = Path(entry.path)
        try:
            if stat.S_ISDIR(os.stat(folder / SDLC_FOLDER).st_mode):  # noqa: PTH116
                scan.found.append(FoundFolder(entry.name, folder / SDLC_FOLDER))
                continue
        except PermissionError:  # cannot enter the folder
            scan.unreadable.append(entry.name)
            continue
        except OSError:
            pass  # no sdlc-studio folder in it: it may be one itself
        try:
            if _holds_sdlc_markers(folder):
                scan.found.append(FoundFolder(entry.name, folder))
        except PermissionError:
            scan.unreadable.append(entry.name)
    return scan


def root_problem(root: Path, scan: RootScan | OSError) -> str | None:
    """Why `root` gives no project (None when it gives one): what was expected, where, and
    the hint that fits the cause. `scan` is the pass over it, or the error that stopped it."""
    name = f"{ROOT_SETTING}={printable_path(root)}"
    expected = ROOT_EXPECTED.format(root=printable_path(root).rstrip("/"))
    mount_hint = f"; {ROOT_MOUNT_HINT}" if running_in_container() else ""
    if isinstance(scan, FileNotFoundError):
        return f"{name} does not exist: {expected}{mount_hint}"
    if isinstance(scan, NotADirectoryError):
        return f"{name} is a file, not a folder: {expected}{mount_hint}"
    if isinstance(scan, PermissionError):
        return f"{name} is not readable by uid {os.geteuid()}: {readable_hint(root)}"
    if isinstance(scan, OSError):
        return f"{name} cannot be read ({scan.strerror or type(scan).__name__}): {expected}"
    if scan.found:
        return None
    problem = f"{name} has no sdlc-studio folder: {expected}{mount_hint}"
    if scan.unreadable:
        shown = ", ".join(printable_path(name) for name in scan.unreadable[:_NAMES_SHOWN])
        more = len(scan.unreadable) - _NAMES_SHOWN
        shown += f" and {more} more" if more > 0 else ""
        problem += (
            f"; uid {os.geteuid()} cannot look into {shown}: {readable_hint(root / '<project>')}"
        )
    return problem


def discover_projects(
    engine: Engine, root: Path, allowed_base: Path | None, auto_sync: bool = False
) -> Discovery:
    """Register the folders found below `root` and report the vanished ones (no syncing)."""
    discovery = Discovery()
    try:
        scan = find_sdlc_folders(root)
    except OSError as exc:
        discovery.root_problem = root_problem(root, exc)
        found = []
    else:
        discovery.root_problem = root_problem(root, scan)
        found = scan.found
        for name in scan.unreadable:
            logger.warning(
                "projects root: %s not registered: uid %d cannot look into it (%s)",
                printable_path(root / name),
                os.geteuid(),
                readable_hint(root / name),
            )
    if discovery.root_problem:
        logger.warning("%s", discovery.root_problem)
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
        if path and slug not in discovery.to_sync and is_within(Path(path), root):
            _check_registered_folder(engine, discovery, slug, path)
    return discovery


def discover_and_sync(
    engine: Engine,
    runner: SyncRunner,
    settings: Settings,
    watcher: FolderWatcher,
    state: ProjectsRootState | None = None,
) -> None:
    """At start-up: register what SDLC_LENS_PROJECTS_ROOT holds and queue a sync of each
    (the watcher's own first sync, for a project it follows); what is wrong with the root
    goes to `state`."""
    root = settings.projects_root
    if root is None:
        return
    try:
        discovery = discover_projects(
            engine, root, settings.allowed_project_base, settings.auto_sync_discovered
        )
        if state is not None:
            state.problem = discovery.root_problem
        if settings.forget_vanished:
            _forget_vanished(engine, runner, watcher, discovery)
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
        "projects root %s: %d registered, %d syncing, %d vanished, %d unusable",
        root,
        len(discovery.registered),
        len(discovery.to_sync),
        len(discovery.vanished),
        len(discovery.unusable),
    )


def _forget_vanished(
    engine: Engine, runner: SyncRunner, watcher: FolderWatcher, discovery: Discovery
) -> None:
    """Delete the projects whose folder is gone, as DELETE does; never while the root gives
    no project at all (then the mount is the likely mistake, not the folders)."""
    if discovery.root_problem:
        if discovery.vanished:
            logger.warning(
                "projects root: %d project(s) with a gone folder kept, because the root "
                "itself gives no project (SDLC_LENS_FORGET_VANISHED waits for it)",
                len(discovery.vanished),
            )
        return
    for slug in discovery.vanished:
        try:
            runner.project_deleted(delete_project(engine, slug), slug)
        except AppError:  # deleted meanwhile
            continue
        watcher.forget(slug)
        logger.warning("project %s removed: its folder is gone (SDLC_LENS_FORGET_VANISHED)", slug)
    discovery.vanished = []


def _holds_sdlc_markers(folder: Path) -> bool:
    """Whether the folder's top holds an sdlc-studio marker; PermissionError when it cannot
    be listed."""
    try:
        with os.scandir(folder) as entries:
            return any(entry.name in SDLC_MARKERS for entry in entries)
    except PermissionError:
        raise
    except OSError:
        return False


def _registered_paths(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(select(projects.c.slug, projects.c.sdlc_path)).all()
    return {row.slug: row.sdlc_path for row in rows}


def _check_registered_folder(engine: Engine, discovery: Discovery, slug: str, path: str) -> None:
    """Report a registered folder below the root that is gone, unreadable or now a file."""
    try:
        resolve_project_path(path, None)
        return
    except PathNotFoundError:
        message = VANISHED_ERROR.format(path=path, slug=slug)
        discovery.vanished.append(slug)
    except AppError as exc:  # what is there cannot be synced: the path check says why
        message = exc.message
        discovery.unusable.append(slug)
    _report_unusable(engine, slug, message)


def _report_unusable(engine: Engine, slug: str, message: str) -> None:
    logger.warning("project %s: %s", slug, message)
    with write_transaction(engine, changes=(slug,)) as conn:
        conn.execute(
            projects.update()
            .where(projects.c.slug == slug, projects.c.sync_status != SyncState.SYNCING)
            .values(sync_status=SyncState.ERROR, sync_error=message)
        )
