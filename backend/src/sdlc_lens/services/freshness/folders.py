"""What the folder watcher asks of a project folder: how many inotify watches it would take,
whether its file system reports changes at all, which changes a sync would see, and a
stat-only fingerprint for the folders that are scanned instead of watched."""

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from sdlc_lens.services.sources.walk import SKIPPED_DIRS, is_markdown

# File systems whose changes made elsewhere (another NFS client, the Windows side of a WSL
# share, the host of a VM share, a FUSE daemon's backing store) reach no inotify watch on this
# machine. FUSE mounts show as `fuse.<name>`; `fuseblk` is a local disk behind FUSE (ntfs-3g),
# where every change passes through this kernel, so it is watched.
REMOTE_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "ceph", "glusterfs", "lustre"}
    | {"gpfs", "9p", "virtiofs", "davfs", "fuse"}
)
MOUNTINFO = Path("/proc/self/mountinfo")
KERNEL_WATCH_LIMIT = Path("/proc/sys/fs/inotify/max_user_watches")
# Files at the top of the document folder that a sync reads besides the documents.
SETTINGS_FILES = frozenset({".config.yaml", ".version"})


def file_system_type(path: str, mountinfo: str) -> str | None:
    """The type of the mount that holds `path` (absolute, symlink-free), from the text of
    /proc/self/mountinfo: the mount with the longest mount point above it."""
    best, best_type = "", None
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        mount_point = _unescape(fields[4])
        fs_type = fields[fields.index("-", 6) + 1]
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fs_type
    return best_type


def notification_blocker(path: str, mountinfo: str | None = None) -> str | None:
    """Why notifications would miss changes to the folder at `path`, or None when they work.

    `mountinfo` is the text of /proc/self/mountinfo (read here when not given); where there is
    none (not Linux), nothing is known and notifications are tried.
    """
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    fs_type = file_system_type(os.path.realpath(path), mountinfo)
    if fs_type is None or fs_type == "fuseblk":
        return None
    if fs_type in REMOTE_FILE_SYSTEMS or fs_type.startswith("fuse."):
        return f"it is on a {fs_type} file system: changes made elsewhere send no notification"
    return None


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def kernel_watch_limit() -> int | None:
    """The kernel's inotify watches per user (fs.inotify.max_user_watches); None if unknown."""
    try:
        return int(KERNEL_WATCH_LIMIT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def count_folders(root: str, limit: int) -> int:
    """How many inotify watches a recursive watch of `root` takes: one per folder, hidden ones
    and symlinked ones included (the watch follows links; each folder counted once). Stops
    counting past `limit`, so a huge tree costs no more than the limit to look at."""
    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending and len(seen) <= limit:
        folder = pending.pop()
        try:
            info = os.stat(folder)  # noqa: PTH116 - follows links, as the watch does
            if (info.st_dev, info.st_ino) in seen or not stat.S_ISDIR(info.st_mode):
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                pending.extend(entry.path for entry in entries if entry.is_dir())
        except OSError:
            continue  # gone or unreadable: the watch itself will say so
    return len(seen)


def is_relevant(root: str, path: str) -> bool:
    """Whether a change at `path` (inside `root`, both as the watch reports them) can change
    what a sync of `root` stores: a markdown file outside hidden and tool folders, a settings
    file at the top, the root itself, or something that may have been a folder (a folder
    renamed or removed reports its own path only). A file that exists and is none of these,
    such as an editor's swap file, is not."""
    if path == root:
        return True
    relative = path[len(root) :].strip("/")
    *folders, name = relative.split("/")
    if any(part.startswith(".") or part in SKIPPED_DIRS for part in folders):
        return False
    if not folders and name in SETTINGS_FILES:
        return True
    if name.startswith(".") or name in SKIPPED_DIRS:
        return False
    if is_markdown(name):
        return True
    if name.lower().endswith(".md"):
        return False  # `_index.md`, a registry, not a document
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return True  # gone: it may have been a folder


def fingerprint(root: str, should_stop: Callable[[], bool] = lambda: False) -> bytes | None:
    """A digest of what a sync of `root` would list, from `stat` alone (no file is opened):
    every markdown file's path, size, mtime and ctime where the sync's walk looks, the top's
    settings files, and the folders that cannot be listed. None when `root` is no folder."""
    if not os.path.isdir(root):  # noqa: PTH112 - a str, as the walk's
        return None
    stamps: list[tuple[str, int, int, int]] = []
    for name in SETTINGS_FILES:
        _add_stamp(stamps, name, os.path.join(root, name))  # noqa: PTH118 - hot loop
    pending = [""]
    while pending and not should_stop():
        relative = pending.pop()
        try:
            with os.scandir(os.path.join(root, relative)) as entries:  # noqa: PTH118
                for entry in entries:
                    path = f"{relative}/{entry.name}" if relative else entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if not (entry.name.startswith(".") or entry.name in SKIPPED_DIRS):
                            pending.append(path)
                    elif is_markdown(entry.name):
                        _add_stamp(stamps, path, entry.path)
        except OSError:
            stamps.append((relative, -1, -1, -1))  # unreadable now: a change when it heals
    stamps.sort()
    return hashlib.blake2b(repr(stamps).encode("utf-8", "surrogateescape")).digest()


def _add_stamp(stamps: list[tuple[str, int, int, int]], relative: str, path: str) -> None:
    try:
        info = os.stat(path)  # noqa: PTH116 - a symlinked document counts by its target
    except OSError:
        return
    stamps.append((relative, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
