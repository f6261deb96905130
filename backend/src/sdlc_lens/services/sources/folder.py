"""The project folder as a source: walked (walk.py) and read through guarded opens (files.py).

A folder has no revision: every sync lists it. A file's stamp is its stat fingerprint (size,
mtime, ctime); a file whose fingerprint matches the stored one is not even opened.
"""

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from sdlc_lens.db.models import FileStamp
from sdlc_lens.errors import SourceError
from sdlc_lens.services.projects.paths import is_within
from sdlc_lens.services.sources.files import ProjectFolder
from sdlc_lens.services.sources.source import Listing
from sdlc_lens.services.sources.walk import walk_project

# A file modified this close to the listing may change again within the same timestamp tick;
# its fingerprint is not trusted next time (the "racy clean" problem), so it gets re-hashed.
RACY_WINDOW_NS = 2_000_000_000


def unreadable_folder_error() -> str:
    """`sync_error` for a folder the service's user may not list (a uid or mode mismatch)."""
    return f"folder not readable by uid {os.geteuid()}"


def check_folder(sdlc_path: str | None, allowed_base: Path | None) -> str:
    """The folder to sync, or SourceError saying why it cannot be."""
    if not sdlc_path:
        raise SourceError("No sdlc_path configured for local project")
    try:
        is_folder = stat.S_ISDIR(os.stat(sdlc_path).st_mode)  # noqa: PTH116 - mirrors the walk
    except PermissionError:
        raise SourceError(unreadable_folder_error()) from None
    except (OSError, ValueError):
        is_folder = False
    if not is_folder:
        raise SourceError(f"Path not found: {sdlc_path}")
    if allowed_base is not None and not is_within(Path(sdlc_path).resolve(), allowed_base):
        raise SourceError("sdlc_path is outside the allowed base")
    # Listing needs read, and opening what is listed needs search (x): both, or nothing works.
    if not os.access(sdlc_path, os.R_OK | os.X_OK):
        raise SourceError(unreadable_folder_error())
    return sdlc_path


class FolderSource:
    """A project folder on this machine (or mounted into the container)."""

    stamp_columns = ("file_size", "file_mtime_ns", "file_ctime_ns")

    def __init__(self, folder: ProjectFolder) -> None:
        self._folder = folder
        self._racy_after = 0

    @classmethod
    def open(cls, sdlc_path: str | None, allowed_base: Path | None) -> "FolderSource":
        """The folder at `sdlc_path`, checked and opened; SourceError when it cannot be."""
        path = check_folder(sdlc_path, allowed_base)
        try:
            return cls(ProjectFolder(path))
        except PermissionError:
            raise SourceError(unreadable_folder_error()) from None
        except OSError:
            raise SourceError(f"Path not found: {path}") from None

    def revision(self) -> None:
        """A folder has no versions: every sync lists it."""
        return None

    def list_files(self, on_files: Callable[[int], None]) -> Listing:
        """Walk the folder; SourceError when even its top cannot be listed."""
        listing = walk_project(self._folder.root, on_files)
        if "" in listing.unreadable_dirs:
            raise SourceError(unreadable_folder_error())
        self._racy_after = time.time_ns() - RACY_WINDOW_NS
        return listing

    def read(self, path: str, limit: int) -> bytes:
        """The file's bytes, read by the rules of `ProjectFolder.read`."""
        return self._folder.read(path, limit)

    def stamp_to_store(self, stamp: FileStamp) -> FileStamp:
        """The fingerprint without an mtime from the racy window: a NULL mtime never matches,
        so a file touched just before the listing is hashed again next sync."""
        mtime = stamp.file_mtime_ns
        if mtime is not None and mtime >= self._racy_after:
            return stamp._replace(file_mtime_ns=None)
        return stamp

    def close(self) -> None:
        """Close the folder's descriptors."""
        self._folder.close()
