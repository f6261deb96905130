"""Find a project's markdown files without following anything out of the project folder."""

import logging
import os
import stat
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# Tool and build folders never hold sdlc-studio documents; skipping them keeps walks short.
SKIPPED_DIRS = frozenset(
    {
        ".venv",
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "dist",
        "build",
        ".eggs",
    }
)


@dataclass(frozen=True, slots=True)
class FileStat:
    """Where a file is and the stat fingerprint used to skip unchanged files."""

    path: str  # absolute path to open (the symlink target for an in-project symlink)
    size: int
    mtime_ns: int
    ctime_ns: int


@dataclass(slots=True)
class Walk:
    """The outcome of walking a project folder."""

    files: dict[str, FileStat] = field(default_factory=dict)  # POSIX relative path -> stat
    unreadable_dirs: list[str] = field(default_factory=list)  # relative paths, "" for the root


def is_markdown(name: str) -> bool:
    """`.md` in any case (`NOTES.MD` counts); `_index.md` registries are not documents."""
    lowered = name.lower()
    return lowered.endswith(".md") and lowered != "_index.md"


def walk_project(root: str) -> Walk:
    """Every markdown file below `root`, keyed by POSIX relative path, in sorted order.

    Symlinked directories are never entered (no loops, no second copy of a tree); a symlinked
    file counts only when its target resolves inside the project folder.
    """
    real_root = os.path.realpath(root)
    walk = Walk()
    pending = [("", real_root)]
    while pending:
        rel_dir, abs_dir = pending.pop()
        try:
            with os.scandir(abs_dir) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            logger.warning("cannot read folder %r: %s", rel_dir or ".", exc.strerror or exc)
            walk.unreadable_dirs.append(rel_dir)
            continue
        subdirs = []
        for entry in entries:
            rel_path = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink():
                    found = _symlinked_file(entry, real_root)
                elif entry.is_dir(follow_symlinks=False):
                    if not (entry.name.startswith(".") or entry.name in SKIPPED_DIRS):
                        subdirs.append((rel_path, entry.path))
                    continue
                elif entry.is_file(follow_symlinks=False) and is_markdown(entry.name):
                    found = _file_stat(entry.path, entry.stat(follow_symlinks=False))
                else:
                    continue
            except OSError as exc:
                logger.warning("cannot stat %r: %s", rel_path, exc.strerror or exc)
                continue
            if found is not None:
                walk.files[rel_path] = found
        # Depth-first in name order: reversed so that pop() takes the first name next.
        pending.extend(reversed(subdirs))
    return walk


def _symlinked_file(entry: os.DirEntry[str], real_root: str) -> FileStat | None:
    if not is_markdown(entry.name):
        return None
    target = os.path.realpath(entry.path)
    if os.path.commonpath((real_root, target)) != real_root:
        logger.info("not following %r: it points outside the project folder", entry.name)
        return None
    st = os.stat(target)  # noqa: PTH116 - raises for a dangling link or a loop (ELOOP): reported by the caller
    if not stat.S_ISREG(st.st_mode):
        return None
    return _file_stat(target, st)


def _file_stat(path: str, st: os.stat_result) -> FileStat:
    return FileStat(path=path, size=st.st_size, mtime_ns=st.st_mtime_ns, ctime_ns=st.st_ctime_ns)
