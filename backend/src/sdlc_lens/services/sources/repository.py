"""A git repository as a source (`github` and `git` projects, SPEC-3 §18).

`revision()` asks the server for the branch head: one round trip, and when it is the commit
the project was last synced at, the engine stops there. Otherwise `list_files()` makes sure
the project's object store (git_store.py) holds that commit's trees: a depth-1 fetch that
tells the server which commit the store already has and asks it to leave the blobs out
(`filter blob:none`, where the server allows partial clone). The listing is the tree below
`repo_path`, path -> blob id, by the folder walk's rules (walk.py: `*.md`, hidden, tool and
build folders skipped). Symlinks and submodules are skipped, each named in a log line: they
are not errors of the sync (a repository may well hold them), and neither is followed.

The engine reads only new and changed files (their blob id differs from the stored one) and
the two settings files. The first read of a blob the store does not hold fetches, in one
request, every listed blob the store lacks: after a sync the store holds every listed blob,
so these are exactly the new and changed ones. Where the server could not filter, the first
fetch brought every blob already, bounded by SDLC_LENS_GIT_MAX_FETCH_MB.
"""

import logging
import stat
from collections.abc import Callable

from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.pack import UnresolvedDeltas

from sdlc_lens.db.models import FileStamp
from sdlc_lens.errors import RefusedFileError, SourceError
from sdlc_lens.services.sources.files import size_limit_text
from sdlc_lens.services.sources.git_remote import Remote
from sdlc_lens.services.sources.git_store import SUBMODULE_MODE, RepositoryStore
from sdlc_lens.services.sources.repository_config import RepositoryConfig, git_url, store_folder
from sdlc_lens.services.sources.source import Listing, ProjectLocation
from sdlc_lens.services.sources.walk import (
    BAD_FILE_NAME,
    BAD_FOLDER_NAME,
    is_markdown,
    is_skipped_folder,
)

logger = logging.getLogger(__name__)

SETTINGS_FILES = (".config.yaml", ".version")
SYMLINK = "is a symbolic link (links are not followed in a repository)"
SUBMODULE = "is a submodule (its documents are not fetched)"
NOT_SENT = "was not sent by the git server"


class RepositorySource:
    """One sync's view of a repository: its remote, and its object store on disk."""

    stamp_columns = ("blob_sha",)

    def __init__(self, location: ProjectLocation, remote: Remote, store: RepositoryStore) -> None:
        self._branch = location.repo_branch
        folder = location.repo_path.strip().strip("/")
        self._folder = "" if folder == "." else folder  # "" or ".": the repository's root
        self._remote = remote
        self._store = store
        self._head: str | None = None
        self._blobs: dict[str, str] = {}  # path below the folder -> blob id, for reads
        self._refused: dict[str, str] = {}  # settings files that are no regular file -> why
        self._fetched: dict[bytes, bytes] = {}  # blobs the last fetch brought, until read
        self._fetched_missing = False
        self._listed = False

    @classmethod
    def open(
        cls,
        project_id: int,
        location: ProjectLocation,
        config: RepositoryConfig,
        should_stop: Callable[[], bool],
    ) -> "RepositorySource":
        """The repository of a `github` or `git` project; SourceError when it cannot be."""
        url = git_url(location, config.github_url)
        token = config.token_for(location)
        origin = f"{url}#{location.repo_branch}:{location.repo_path}"
        folder = store_folder(config.store_root, project_id)
        try:
            store = RepositoryStore(folder, origin)
        except OSError as exc:
            raise SourceError(
                f"cannot use the object store {folder}: {exc.strerror or exc}"
            ) from None
        return cls(location, Remote(url, token, config.remote, should_stop), store)

    def revision(self) -> str:
        """The commit at the branch head, asked of the server (one round trip)."""
        self._head = self._remote.head(self._branch)
        return self._head

    def list_files(self, on_files: Callable[[int], None]) -> Listing:
        """The documents below `repo_path` in the head commit, by blob id."""
        head = self._head or self.revision()
        self._fetch_trees(head)
        try:
            listing = self._list(head, on_files)
        except KeyError:  # the store lost an object it should hold: start afresh, once
            logger.warning("object store of %s is incomplete; fetching afresh", self._remote.url)
            self._store.reset()
            self._fetch_trees(head)
            try:
                listing = self._list(head, on_files)
            except KeyError:
                raise SourceError(f"{self._remote.url} sent an incomplete tree") from None
        return listing

    def read(self, path: str, limit: int) -> bytes:
        """A blob's bytes, fetched with every other missing one on the first miss."""
        if path in self._refused:
            raise RefusedFileError(self._refused[path])
        blob_id = self._blobs.get(path)
        if blob_id is None:
            raise FileNotFoundError(path)
        sha = ObjectID(blob_id.encode("ascii"))
        data = self._fetched.pop(sha, None)
        if data is None and not self._fetched_missing and sha not in self._store.objects:
            self._fetch_missing()
            data = self._fetched.pop(sha, None)
        if data is None:
            data = self._stored_blob(sha)
        if len(data) > limit:
            raise RefusedFileError(f"is larger than the {size_limit_text(limit)} limit")
        return data

    def _stored_blob(self, sha: ObjectID) -> bytes:
        try:
            blob = self._store.objects[sha]
        except KeyError:
            raise RefusedFileError(NOT_SENT) from None
        if not isinstance(blob, Blob):
            raise RefusedFileError("is not a file in the repository")
        return bytes(blob.as_raw_string())

    def stamp_to_store(self, stamp: FileStamp) -> FileStamp:
        """A blob id is stored as it is."""
        return stamp

    def close(self) -> None:
        """Close the connections; tidy the store up after a listing (when no worker that was
        left behind might still write to it)."""
        self._remote.close()
        try:
            if self._listed and not self._remote.busy:
                self._store.tidy()
        except OSError as exc:  # the sync's outcome stands; the store is tidied next time
            logger.warning("object store of %s not tidied up: %s", self._remote.url, exc)
        finally:
            self._store.close()

    # Fetching.

    def _fetch_trees(self, head: str) -> None:
        state = self._store.state
        if state.commit == head and self._store.has(head):
            return
        have = state.commit if state.commit and self._store.has(state.commit) else None
        try:
            self._remote.fetch(self._store.objects, [head], have=have, depth=1, filter_blobs=True)
        except (UnresolvedDeltas, KeyError):
            if have is None:
                raise SourceError(f"{self._remote.url} sent an incomplete pack") from None
            # A delta against an object the store should hold and does not: start afresh.
            logger.warning("object store of %s is incomplete; fetching afresh", self._remote.url)
            self._store.reset()
            self._remote.fetch(self._store.objects, [head], depth=1, filter_blobs=True)
        state = self._store.state
        state.commit = head
        state.filtered = self._remote.filtered
        self._store.save_state()
        logger.info(
            "fetched %s at %s: %d bytes in %d round trips (%s)",
            self._remote.url,
            head[:12],
            self._remote.received,
            self._remote.round_trips,
            "without blobs" if state.filtered else "with every blob: no partial clone",
        )

    def _fetch_missing(self) -> None:
        self._fetched_missing = True
        missing = self._store.missing(sorted(set(self._blobs.values())))
        if missing:
            received = self._remote.received
            self._fetched = self._remote.fetch(self._store.objects, missing)
            logger.info(
                "fetched %d blob(s) from %s: %d bytes",
                len(missing),
                self._remote.url,
                self._remote.received - received,
            )

    # Listing.

    def _list(self, head: str, on_files: Callable[[int], None]) -> Listing:
        commit = self._store.objects[ObjectID(head.encode("ascii"))]
        if not isinstance(commit, Commit):
            raise KeyError(head)
        tree = self._tree(commit.tree)
        for part in filter(None, self._folder.split("/")):
            entry = _entry(tree, part.encode("utf-8"))
            if entry is None or not stat.S_ISDIR(entry[0]):
                raise SourceError(
                    f"'{self._folder}' not found in branch '{self._branch}' of {self._remote.url}"
                )
            tree = self._tree(entry[1])
        listing = Listing()
        self._blobs.clear()
        self._settings(tree)
        pending: list[tuple[str, Tree]] = [("", tree)]
        while pending:
            rel_dir, folder = pending.pop()
            subfolders = []
            for raw_name, mode, sha in sorted(folder.iteritems(), key=lambda e: e.path):
                name = raw_name.decode("utf-8", "backslashreplace")  # `caf\\xe9.md` if not UTF-8
                path = f"{rel_dir}/{name}" if rel_dir else name
                utf8 = name.encode("utf-8", "surrogatepass") == raw_name
                if stat.S_ISDIR(mode):
                    if is_skipped_folder(name):
                        continue
                    if utf8:
                        subfolders.append((path, self._tree(sha)))
                    else:
                        listing.problems[path] = BAD_FOLDER_NAME
                elif mode == SUBMODULE_MODE:
                    if not is_skipped_folder(name):
                        logger.info("%s: skipped %r: it %s", self._remote.url, path, SUBMODULE)
                elif is_markdown(name):
                    if not utf8:
                        listing.problems[path] = BAD_FILE_NAME
                    elif stat.S_ISLNK(mode):
                        logger.warning("%s: skipped %r: it %s", self._remote.url, path, SYMLINK)
                    else:
                        listing.files[path] = FileStamp(blob_sha=sha.decode("ascii"))
                        self._blobs[path] = sha.decode("ascii")
                        on_files(1)
            # Depth-first in name order, as a folder is walked.
            pending.extend(reversed(subfolders))
        self._listed = True
        return listing

    def _settings(self, tree: Tree) -> None:
        self._refused.clear()
        for name in SETTINGS_FILES:
            entry = _entry(tree, name.encode())
            if entry is None:
                continue
            if stat.S_ISREG(entry[0]):
                self._blobs[name] = entry[1].decode("ascii")
            else:
                self._refused[name] = SYMLINK if stat.S_ISLNK(entry[0]) else "is not a file"

    def _tree(self, sha: bytes) -> Tree:
        tree = self._store.objects[ObjectID(sha)]
        if not isinstance(tree, Tree):
            raise KeyError(sha)
        return tree


def _entry(tree: Tree, name: bytes) -> tuple[int, bytes] | None:
    try:
        mode, sha = tree[name]
    except KeyError:
        return None
    return mode, sha
