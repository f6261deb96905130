"""Find a project's markdown files without following anything out of the project folder."""

import logging
import os
import stat
from collections.abc import Callable
from operator import attrgetter

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
    # This loop runs once per file of the project on every sync, changed or not (100,000 at
    # the benchmarks' largest): it keeps to one stat and the fewest Python calls per file.
    while pending:
        rel_dir, abs_dir = pending.pop()
        try:
            with os.scandir(abs_dir) as scan:
                entries = sorted(scan, key=_name)
        except OSError as exc:
            logger.warning("cannot read folder %r: %s", rel_dir or ".", exc.strerror or exc)
            walk.unreadable_dirs.append(rel_dir)
            continue
        if not rel_dir and not entries:
            walk.root_is_empty = True
        prefix = f"{rel_dir}/" if rel_dir else ""
        subdirs = []
        found_here = 0  # files found in this folder, not yet reported
        for entry in entries:
            name = entry.name
            rel_path = prefix + name
            try:
                if entry.is_symlink():
                    found = _symlinked_file(entry, real_root)
                elif entry.is_dir(follow_symlinks=False):
                    if not is_skipped_folder(name):
                        if _is_utf8(name):
                            subdirs.append((rel_path, entry.path))
                        else:
                            walk.problems[_printable(rel_path)] = BAD_FOLDER_NAME
                    continue
                elif is_markdown(name):
                    found = _regular_file(walk, rel_path, entry.stat(follow_symlinks=False))
                else:
                    continue
            except OSError as exc:
                if entry.is_symlink():
                    # A dangling link or a loop: not followed, like a link out of the project.
                    logger.info("not following %r: %s", rel_path, exc.strerror or exc)
                else:
                    reason = f"cannot be read ({exc.strerror or 'I/O error'})"
                    walk.problems[_printable(rel_path)] = reason
                continue
            if found is None:
                continue
            # The folders above were checked before they were walked: only the name is left.
            if not _is_utf8(name):
                walk.problems[_printable(rel_path)] = BAD_FILE_NAME
                continue
            files[rel_path] = found
            found_here += 1
            if found_here == FILES_PER_REPORT:
                on_files(found_here)
                found_here = 0
        if found_here:
            on_files(found_here)
        # Depth-first in name order: reversed so that pop() takes the first name next.
        pending.extend(reversed(subdirs))
    return walk


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


def _regular_file(walk: Listing, rel_path: str, st: os.stat_result) -> FileStamp | None:
    if not stat.S_ISREG(st.st_mode):
        walk.problems[rel_path] = not_regular_reason(st.st_mode)
        return None
    return _file_stat(st)


def _file_stat(st: os.stat_result) -> FileStamp:
    return FileStamp(st.st_size, st.st_mtime_ns, st.st_ctime_ns)


_name = attrgetter("name")


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
