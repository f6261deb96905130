"""The object store of one repository project, under the database folder.

`<database folder>/repositories/<project id>/` holds a git object store (packs, as dulwich
writes them) and `state.json`: the commit whose trees below the document folder the store
holds completely, and where that commit came from (URL, branch, folder). A re-sync tells the
server it has that commit, so only new trees and blobs come; after a restart too.

What it keeps is that commit and what it reaches that the store has: every tree (a server
sends changed trees as deltas against them), and the blobs that were fetched. Where the server
allows partial clone those are the documents and settings files only, so the store follows the
documents' size, not the repository's; a server without it sent every file of the commit
(bounded by SDLC_LENS_GIT_MAX_FETCH_MB), and those are kept so that a re-sync fetches only
what changed. Each fetch adds a pack; once the packs hold more than twice what the store kept
after its last tidy-up (older versions, a file since deleted), what the commit reaches is
copied into a new store that replaces the old one (`tidy`).

Anything unexpected (a store from another URL, branch or folder, a missing state file, an
object the state promised) resets the store: the next fetch is a full one, never a wrong one.
A deleted project's store is removed with its rows (`remove_store`).
"""

import json
import logging
import shutil
import stat
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

from dulwich.object_store import DiskObjectStore
from dulwich.objects import Commit, ObjectID, Tree
from dulwich.pack import write_pack_from_container

logger = logging.getLogger(__name__)

_OBJECTS = "objects"
_STATE = "state.json"
# Tidy up when the packs outgrow twice what was kept, plus this much.
TIDY_SLACK_BYTES = 1024 * 1024
SUBMODULE_MODE = 0o160000  # a tree entry that is a commit of another repository


@dataclass(slots=True)
class StoreState:
    """What the store holds, as `state.json` says."""

    origin: str  # the URL, branch and document folder its commit was fetched for
    commit: str | None = None  # its trees below the document folder are all in the store
    filtered: bool | None = None  # whether the server left the blobs out (partial clone)
    kept_bytes: int | None = None  # the packs' size after the last tidy-up


class RepositoryStore:
    """One project's objects and state, opened for one sync."""

    def __init__(self, folder: Path, origin: str) -> None:
        self.folder = folder
        self.state = self._read_state(origin)
        objects = folder / _OBJECTS
        shutil.rmtree(folder / f"{_OBJECTS}.old", ignore_errors=True)  # a compaction cut short
        shutil.rmtree(folder / f"{_OBJECTS}.new", ignore_errors=True)
        if self.state.commit is None or not (objects / "pack").is_dir():
            self.state = StoreState(origin)
            shutil.rmtree(objects, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            DiskObjectStore.init(objects).close()
        self.objects = DiskObjectStore(objects)

    def _read_state(self, origin: str) -> StoreState:
        try:
            state = StoreState(**json.loads((self.folder / _STATE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return StoreState(origin)
        if state.origin != origin:
            logger.info("object store %s: the source moved; starting afresh", self.folder)
            return StoreState(origin)
        return state

    def save_state(self) -> None:
        """Write `state.json` (replaced whole, never half-written)."""
        partial = self.folder / f"{_STATE}.new"
        partial.write_text(json.dumps(asdict(self.state)), encoding="utf-8")
        partial.replace(self.folder / _STATE)

    def reset(self) -> None:
        """Forget everything: the next fetch is a full one."""
        self.objects.close()
        shutil.rmtree(self.folder / _OBJECTS, ignore_errors=True)
        DiskObjectStore.init(self.folder / _OBJECTS).close()
        self.objects = DiskObjectStore(self.folder / _OBJECTS)
        self.state = StoreState(self.state.origin)
        self.save_state()

    def has(self, sha: str) -> bool:
        """Whether the store holds the object `sha` (40 hex)."""
        return ObjectID(sha.encode("ascii")) in self.objects

    def missing(self, shas: Collection[str]) -> list[str]:
        """Those of `shas` the store does not hold, in order; one pass over the pack indexes
        rather than a look-up in each pack per object."""
        held: set[bytes] = set()
        for pack in self.objects.packs:
            held.update(pack)
        return [sha for sha in shas if sha.encode("ascii") not in held]

    def tidy(self) -> bool:
        """After a sync: when the packs have grown past twice what was kept, keep only what
        the state's commit reaches; whether it did."""
        total = self._pack_bytes()
        kept = self.state.kept_bytes
        if kept is not None and total <= 2 * kept + TIDY_SLACK_BYTES:
            return False
        if kept is None or self.state.commit is None:  # the first sync: all of it is needed
            self.state.kept_bytes = total
            self.save_state()
            return False
        new = self.folder / f"{_OBJECTS}.new"
        fresh = DiskObjectStore.init(new)
        try:
            pack, commit, abort = fresh.add_pack()
            try:
                write_pack_from_container(
                    pack.write,
                    self.objects,
                    [(sha, None) for sha in self._reachable(self.state.commit)],
                    self.objects.object_format,
                    deltify=False,
                )
            except BaseException:
                abort()
                raise
            commit()
        finally:
            fresh.close()
        self.objects.close()
        current = self.folder / _OBJECTS
        current.rename(self.folder / f"{_OBJECTS}.old")
        new.rename(current)
        shutil.rmtree(self.folder / f"{_OBJECTS}.old", ignore_errors=True)
        self.objects = DiskObjectStore(current)
        self.state.kept_bytes = self._pack_bytes()
        self.save_state()
        logger.info(
            "object store %s tidied up: %d bytes kept of %d",
            self.folder,
            self.state.kept_bytes,
            total,
        )
        return True

    def _reachable(self, commit: str) -> list[ObjectID]:
        """The commit, every tree it reaches, and the blobs it reaches that the store has."""
        objects = self.objects
        found = [ObjectID(commit.encode("ascii"))]
        root = objects[found[0]]
        pending = [root.tree] if isinstance(root, Commit) else []
        seen: set[bytes] = set()
        while pending:
            tree = objects[pending.pop()]
            if not isinstance(tree, Tree) or tree.id in seen:
                continue
            seen.add(tree.id)
            found.append(tree.id)
            for entry in tree.iteritems():
                if stat.S_ISDIR(entry.mode):
                    pending.append(entry.sha)
                elif entry.mode != SUBMODULE_MODE and entry.sha not in seen:
                    seen.add(entry.sha)
                    if entry.sha in objects:
                        found.append(entry.sha)
        return found

    def _pack_bytes(self) -> int:
        return sum(Path(pack.data.path).stat().st_size for pack in self.objects.packs)

    def close(self) -> None:
        """Close the packs."""
        self.objects.close()
