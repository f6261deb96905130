"""Read a project folder's files without letting any of them hang, flood or escape the service.

Every file a sync opens in a folder (documents, `.config.yaml`, `.version`) is read through
`ProjectFolder.read`, which applies one set of rules:

- only regular files: a FIFO would block `open()` for ever, a device such as `/dev/zero`
  never ends;
- a symlink is followed only to a file inside the project folder;
- at most `limit` bytes: a bigger file is refused with a per-file error, never read whole;
- the path is opened one component at a time from the project folder with `O_NOFOLLOW`, with
  `O_NONBLOCK` and `O_NOCTTY`, and checked with `fstat` after opening, so a file swapped for a
  FIFO, a device or a symlink between the walk and the read is refused as well.
"""

import errno
import os
import posixpath
import stat
from types import TracebackType
from typing import Self

from sdlc_lens.errors import RefusedFileError
from sdlc_lens.services.sources.source import MIB

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
# O_NOCTTY: a terminal device never becomes the process's controlling terminal.
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW | os.O_CLOEXEC
# What an O_NOFOLLOW open reports when some component is a symlink.
_SYMLINK_ERRNOS = frozenset({errno.ELOOP, errno.ENOTDIR})

_FILE_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def not_regular_reason(mode: int) -> str:
    """Why a file of this `st_mode` is refused, e.g. "is not a regular file (a FIFO)"."""
    kind = _FILE_KINDS.get(stat.S_IFMT(mode), "of an unknown kind")
    return f"is not a regular file ({kind})"


def size_limit_text(limit: int) -> str:
    """`64 MiB` for whole mebibytes, otherwise a byte count."""
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"


def escapes_folder(root: str, target: str) -> bool:
    """Whether the absolute `target` lies outside the folder `root` (both symlink-free)."""
    return os.path.commonpath((root, target)) != root


class ProjectFolder:
    """A project folder, opened once per sync; its files are read only through `read`.

    Not thread-safe: one sync thread owns it. Directory descriptors of the last folder read
    are kept open, since a sync reads files folder by folder.
    """

    def __init__(self, path: str) -> None:
        self.root = os.path.realpath(path)
        # Raises PermissionError for a folder the service may not read: the caller says so.
        self._root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._cached_dir: tuple[str, int] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every descriptor this folder holds."""
        self._forget_cached_dir()
        os.close(self._root_fd)

    def read(self, rel_path: str, limit: int) -> bytes:
        """The bytes of the regular file at POSIX `rel_path`, at most `limit` of them.

        Raises RefusedFileError when a rule forbids reading it, FileNotFoundError when it
        does not exist, and other OSErrors as the system reports them.
        """
        try:
            return self._read_beneath(rel_path, limit)
        except _SymlinkFoundError:
            not_followed: OSError | None = None
        except OSError as exc:
            if exc.errno not in _SYMLINK_ERRNOS:
                raise
            not_followed = exc  # a folder on the way is a symlink (or not a folder at all)
        # Follow the symlink only to a file inside the folder. The resolved path is opened
        # with O_NOFOLLOW again, so a link swapped in after this check is refused, not followed.
        target = os.path.realpath(f"{self.root}/{rel_path}")
        if escapes_folder(self.root, target):
            raise RefusedFileError("points outside the project folder")
        resolved = os.path.relpath(target, self.root).replace(os.sep, "/")
        if resolved == rel_path:
            if not_followed is not None:
                raise not_followed
            raise RefusedFileError("is a symbolic link loop")
        try:
            return self._read_beneath(resolved, limit)
        except _SymlinkFoundError as exc:
            raise RefusedFileError("was replaced by a symbolic link while being read") from exc

    def _read_beneath(self, rel_path: str, limit: int) -> bytes:
        rel_dir, name = posixpath.split(rel_path)
        dir_fd = self._dir_fd(rel_dir)
        # Look before opening: a device or FIFO is never opened at all in the normal case.
        before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(before.st_mode):
            raise _SymlinkFoundError
        if not stat.S_ISREG(before.st_mode):
            raise RefusedFileError(not_regular_reason(before.st_mode))
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        try:
            # The file may have been swapped since the look: check what was really opened.
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise RefusedFileError(not_regular_reason(opened.st_mode))
            return read_at_most(fd, opened.st_size, limit)
        finally:
            os.close(fd)

    def _dir_fd(self, rel_dir: str) -> int:
        """A descriptor of the folder `rel_dir`, reached without following any symlink."""
        if not rel_dir:
            return self._root_fd
        if self._cached_dir is not None and self._cached_dir[0] == rel_dir:
            return self._cached_dir[1]
        self._forget_cached_dir()
        fd = self._root_fd
        try:
            for part in rel_dir.split("/"):
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                if fd != self._root_fd:
                    os.close(fd)
                fd = next_fd
        except OSError:
            if fd != self._root_fd:
                os.close(fd)
            raise
        self._cached_dir = (rel_dir, fd)
        return fd

    def _forget_cached_dir(self) -> None:
        if self._cached_dir is not None:
            os.close(self._cached_dir[1])
            self._cached_dir = None


class _SymlinkFoundError(Exception):
    """The last component of a path is a symlink (handled inside `ProjectFolder.read`)."""


def read_at_most(fd: int, expected: int, limit: int) -> bytes:
    """Read the file to its end, but never more than `limit + 1` bytes."""
    if expected > limit:
        raise RefusedFileError(f"is larger than the {size_limit_text(limit)} limit")
    chunks = []
    total = 0
    # One read of the expected size plus one byte normally gets everything; a file that
    # grew meanwhile is read on in chunks, up to the limit.
    want = expected + 1
    while total <= limit:
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = min(MIB, limit + 1 - total)
    if total > limit:
        raise RefusedFileError(f"is larger than the {size_limit_text(limit)} limit")
    return b"".join(chunks)
