"""The source seam: the one interface through which the sync engine gets a project's files.

A sync opens the project's source (`kinds.Sources.open`, chosen by its `source_type`), then
asks it, in this order:

1. `revision()`: the version of what it is about to list, or None when it has none.
2. `list_files()`: every document file, each with a `FileStamp` that says, without reading
   it, whether it is unchanged since it was stored; plus what could not be seen (folders,
   unusable entries), so that their stored documents are kept rather than deleted.
3. `read(path, limit)`: the bytes of the files whose stamp changed, and of the settings files
   `.config.yaml` and `.version` at the top of the document folder (where absent they raise
   FileNotFoundError). The engine hashes them (SHA-256): a file whose hash is unchanged only
   gets its new stamp stored (`stamp_to_store`).

The engine compares stamps and hashes, parses, and writes one transaction; it never knows
which kind of source it has. A failure of the whole source (`errors.SourceError`, from any of
these calls or from opening it) ends the sync with its one-line message in `sync_error`, the
stored documents kept; a failure of one file (`RefusedFileError`, OSError) is counted,
logged, and keeps that file's stored document.

The folder (folder.py), the first kind: no revision; its stamp is the stat fingerprint
(size, mtime, ctime), stored except for an mtime too recent to trust; it is walked and read
through guarded opens (walk.py, files.py).

Designed for the two kinds to come:

- A git repository (issue 16), a module `repository.py` and one branch in `kinds.py`. Its
  `revision()` asks the server for the branch head (one round trip); when it equals the
  project's `last_synced_commit_sha` and no stored row is from an older parser epoch, the
  engine ends the sync there: nothing fetched, no document written (the project is marked
  synced). Otherwise `list_files()` lists the head tree's entries below the document folder,
  path -> blob id with no content (`FileStamp(blob_sha=...)`; `stamp_columns` is
  `("blob_sha",)`, so the engine compares the stored `blob_sha`), and `read()` fetches only
  the blobs the engine asks for: the new and changed ones, and the two settings files. The
  engine stores the revision as `last_synced_commit_sha` in the same transaction as the
  documents (only after a sync without errors, so a failed file is retried next time).
  Not found, authentication, timeout or a size cap: `SourceError`, worded for the user, never
  carrying the token.
- Watching local folders (issue 17) needs no source: the watcher only requests a sync of the
  project through the runner the API uses (`SyncRunner.start_sync`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from sqlalchemy import Column

from sdlc_lens.db.models import FileStamp, projects

MIB = 1024 * 1024
# The most a sync reads of one file, whatever the source. A document is stored and indexed
# whole; 64 MiB is far above any real sdlc-studio document (a 50 MB one still syncs) and
# bounds the memory one file can take. `.config.yaml` and `.version` hold a few settings.
MARKDOWN_SIZE_LIMIT = 64 * MIB
CONFIG_SIZE_LIMIT = 1 * MIB


@dataclass(frozen=True, slots=True)
class ProjectLocation:
    """Where a project's documents are: the `projects` columns a source is opened from."""

    source_type: str
    sdlc_path: str | None
    repo_url: str | None
    repo_branch: str
    repo_path: str
    connection_id: int | None
    access_token: str | None = field(default=None, repr=False)  # a secret: never shown

    @property
    def shown(self) -> str | None:
        """How log lines name the place: its folder, or its repository, branch and folder."""
        if self.source_type == "local":
            return self.sdlc_path
        return f"{self.repo_url} branch {self.repo_branch} folder {self.repo_path or '.'}"


def location_columns() -> tuple[Column[Any], ...]:
    """The `projects` columns of a ProjectLocation, in the order of its fields."""
    return tuple(projects.c[f.name] for f in fields(ProjectLocation))


@dataclass(slots=True)
class Listing:
    """What a source holds right now, as `list_files` found it."""

    # POSIX path below the document folder -> stamp, for every document file, in path order.
    files: dict[str, FileStamp] = field(default_factory=dict)
    # Folders that could not be listed (relative paths): their stored documents are kept.
    unreadable_dirs: list[str] = field(default_factory=list)
    # Document files found but not usable, with the reason ("it ..."): reported per file, and
    # a stored document at such a path is kept. A name that is not UTF-8 is shown escaped.
    problems: dict[str, str] = field(default_factory=dict)
    # Not even a hidden file: what an unmounted volume looks like (the sync refuses it).
    root_is_empty: bool = False


class Source(Protocol):
    """One project's documents, opened for one sync and closed after it."""

    @property
    def stamp_columns(self) -> tuple[str, ...]:
        """The stored FileStamp columns this source's stamps fill (the engine reads only these,
        so that its read of every stored file stays within one index)."""
        ...

    def revision(self) -> str | None:
        """The version about to be listed (a commit), or None for a source without versions."""
        ...

    def list_files(self, on_files: Callable[[int], None]) -> Listing:
        """Every document file with its stamp; `on_files(n)` says that n more were found
        (progress), at the latest once their folder is listed."""
        ...

    def read(self, path: str, limit: int) -> bytes:
        """The bytes of one file, at most `limit` of them.

        Raises FileNotFoundError when it does not exist, RefusedFileError when a rule forbids
        reading it (too large, not a regular file, ...), another OSError when reading it
        failed, and SourceError when the whole source failed.
        """
        ...

    def stamp_to_store(self, stamp: FileStamp) -> FileStamp:
        """The stamp to store for a file just read (a folder drops an mtime it cannot trust)."""
        ...

    def close(self) -> None:
        """Release what the source holds (descriptors, connections)."""
        ...


# How the engine gets the source of a project, by its id (a repository keeps its object store
# under it) and location (kinds.Sources.open, or a test's own).
SourceOpener = Callable[[int, ProjectLocation], Source]
