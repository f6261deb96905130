"""Find a project's markdown files without following anything out of the project folder."""

import logging
import os
import stat
from collections.abc import Callable
from typing import Any

from sdlc_lens.db.models import FileStamp
from sdlc_lens.services.sources.files import escapes_folder, not_regular_reason
from sdlc_lens.services.sources.source import Listing

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

# Files found are reported in steps of at most this many (and at the end of each folder):
# `sync_progress` moves a few times per second during a walk of 100,000 files rather than on
# every poll, so that a poll between two steps is answered from the answer cache.
FILES_PER_REPORT = 1000

BAD_FILE_NAME = "has a name that is not valid UTF-8 (rename it to sync it)"
BAD_FOLDER_NAME = "is a folder whose name is not valid UTF-8 (rename it to sync what it holds)"


def is_skipped_folder(name: str) -> bool:
    """Hidden, tool and build folders are never walked: no sdlc-studio documents there."""
    return name.startswith(".") or name in SKIPPED_DIRS


def is_markdown(name: str) -> bool:
    """`.md` in any case (`NOTES.MD` counts); `_index.md` registries are not documents."""
    lowered = name.lower()
    return lowered.endswith(".md") and lowered != "_index.md"


def walk_project(root: str, on_files: Callable[[int], None] = lambda _: None) -> Listing:
    """Every markdown file below `root`, keyed by POSIX relative path, in sorted order, with
    its stat fingerprint (the target's, for a symlink) as its stamp.

    Symlinked directories are never entered (no loops, no second copy of a tree); a symlinked
    file counts only when its target is a regular file inside the project folder. A `.md`
    entry that is not a regular file (a FIFO, a device) or whose name is not UTF-8 is listed
    in `problems`, a folder that cannot be listed in `unreadable_dirs` ("" for the root).
    `on_files(n)` reports n more files found, for progress: at the end of each folder and
    every FILES_PER_REPORT files within one.
    """
    real_root = os.path.realpath(root)
    walk = Listing()
    files = walk.files
    pending = [("", real_root)]
    while pending:
        rel_dir, abs_dir = pending.pop()
        try:
            found = _list_folder(abs_dir, f"{rel_dir}/" if rel_dir else "", real_root, on_files)
        except OSError as exc:
            logger.warning("cannot read folder %r: %s", rel_dir or ".", exc.strerror or exc)
            walk.unreadable_dirs.append(rel_dir)
            continue
        if not rel_dir and found is None:
            walk.root_is_empty = True
        subdirs = []
        for rel_path, kind, value in sorted(found or ()):  # in name order
            if kind is _FILE:
                files[rel_path] = value
            elif kind is _FOLDER:
                subdirs.append((rel_path, value))
            else:
                walk.problems[_printable(rel_path)] = value
        # Depth-first in name order: reversed so that pop() takes the first name next.
        pending.extend(reversed(subdirs))
    return walk


# What `_list_folder` found an entry to be: a document file (its stamp), a folder to walk
# (its path) or a problem (the reason).
_FILE, _FOLDER, _PROBLEM = "file", "folder", "problem"
type _Found = tuple[str, str, Any]


def _list_folder(
    abs_dir: str, prefix: str, real_root: str, on_files: Callable[[int], None]
) -> list[_Found] | None:
    """What the folder's entries are, as (relative path, kind, value), in no order; None for
    an empty folder. OSError when the folder cannot be listed.

    This runs once per file of the project on every sync, changed or not (100,000 at the
    benchmarks' largest): one stat and few Python calls per file, and each directory entry
    let go of as soon as it is looked at. (Holding a large folder's entries to sort them
    first made the walk twice as slow under glibc's malloc, which the server runs with, and
    slower with every sync.)
    """
    found: list[_Found] = []
    entries = 0
    unreported = 0  # files found, not yet reported
    with os.scandir(abs_dir) as scan:
        for entry in scan:
            entries += 1
            name = entry.name
            rel_path = prefix + name
            try:
                if entry.is_symlink():
                    stamp = _symlinked_file(entry, real_root)
                elif entry.is_dir(follow_symlinks=False):
                    if not is_skipped_folder(name):
                        if _is_utf8(name):
                            found.append((rel_path, _FOLDER, entry.path))
                        else:
                            found.append((rel_path, _PROBLEM, BAD_FOLDER_NAME))
                    continue
                elif is_markdown(name):
                    stamp = _regular_file(found, rel_path, entry.stat(follow_symlinks=False))
                else:
                    continue
            except OSError as exc:
                if entry.is_symlink():
                    # A dangling link or a loop: not followed, like a link out of the project.
                    logger.info("not following %r: %s", rel_path, exc.strerror or exc)
                else:
                    reason = f"cannot be read ({exc.strerror or 'I/O error'})"
                    found.append((rel_path, _PROBLEM, reason))
                continue
            if stamp is None:
                continue
            # The folders above were checked before they were walked: only the name is left.
            if not _is_utf8(name):
                found.append((rel_path, _PROBLEM, BAD_FILE_NAME))
                continue
            found.append((rel_path, _FILE, stamp))
            unreported += 1
            if unreported == FILES_PER_REPORT:
                on_files(unreported)
                unreported = 0
    if unreported:
        on_files(unreported)
    return found if entries else None


def _symlinked_file(entry: os.DirEntry[str], real_root: str) -> FileStamp | None:
    if not is_markdown(entry.name):
        return None
    target = os.path.realpath(entry.path)
    if escapes_folder(real_root, target):
        logger.info("not following %r: it points outside the project folder", entry.name)
        return None
    st = os.stat(target)  # noqa: PTH116 - raises for a dangling link or a loop (ELOOP): reported by the caller
    if not stat.S_ISREG(st.st_mode):
        logger.info("not following %r: it %s", entry.name, not_regular_reason(st.st_mode))
        return None
    return _file_stat(st)


def _regular_file(found: list[_Found], rel_path: str, st: os.stat_result) -> FileStamp | None:
    if not stat.S_ISREG(st.st_mode):
        found.append((rel_path, _PROBLEM, not_regular_reason(st.st_mode)))
        return None
    return _file_stat(st)


def _file_stat(st: os.stat_result) -> FileStamp:
    return FileStamp(st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _is_utf8(name: str) -> bool:
    # os.scandir decodes names with surrogateescape: bytes that are not UTF-8 become lone
    # surrogates, which SQLite (and JSON) cannot store.
    if name.isascii():  # nearly every name: no encoding needed to know
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(rel_path: str) -> str:
    """The path itself, or `caf\\xe9.md` for a name whose bytes are not UTF-8."""
    return os.fsencode(rel_path).decode("utf-8", "backslashreplace")
