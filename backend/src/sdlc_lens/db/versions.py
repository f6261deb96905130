"""Data versions: counters that say whether what an answer read has changed since.

Every write transaction commits through `db.engine.begin_immediate`, which tells this
module what the commit could change (`Changes`): some projects, or everything. Counters kept
in memory then name the state of the data an answer reads, and the response cache
(api/caching.py) keys answers and ETags with them. In memory, not in the database: only this
process writes the database (Alembic runs before it starts, a backup only reads), and reading
a stored version would cost the query a cached answer is there to save. A random epoch per
process keeps the ETags of two runs apart, as the counters start again at zero.

A counter is stepped twice per commit, just before the COMMIT and just after it, and a
commit under way marks its scope as in flux. An answer whose scope was at rest with version
`v` when it started and still is at `v` when it is done has read exactly the data of `v`: a
commit finished before it started, or starts after it ended. Any other answer is correct but
belongs to no version, so it is neither cached nor given a reusable ETag.
"""

import secrets
import threading

from sqlalchemy import Engine

from sdlc_lens.db.per_engine import PerEngine

# What one commit could change: these projects (by slug) and the answers over all projects,
# or None for everything. An empty tuple changes only answers over all projects (the purge of
# a deleted project's rows, which no project's answers can see).
type Changes = tuple[str, ...] | None
EVERYTHING: Changes = None

# (version, commits under way) of one scope: replaced whole, so a reader never needs a lock.
type _State = tuple[int, int]
_REST: _State = (0, 0)


class DataVersions:
    """The versions of one database, stepped by its commits."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._any: _State = _REST  # every commit
        self._everything: _State = _REST  # commits that change every answer
        self._projects: dict[str, _State] = {}  # commits that change one project's answers

    def begin_commit(self, changes: Changes) -> None:
        """A COMMIT that makes `changes` is about to be issued."""
        self._step(changes, 1)

    def end_commit(self, changes: Changes) -> None:
        """That COMMIT is over (done or failed)."""
        self._step(changes, -1)

    def _step(self, changes: Changes, flux: int) -> None:
        with self._lock:
            self._any = _stepped(self._any, flux)
            if changes is None:
                self._everything = _stepped(self._everything, flux)
                return
            for slug in changes:
                self._projects[slug] = _stepped(self._projects.get(slug, _REST), flux)

    def of_all(self) -> tuple[int, ...] | None:
        """The version of answers over all projects; None while a commit is under way."""
        version, flux = self._any
        return None if flux else (version,)

    def of_project(self, slug: str) -> tuple[int, ...] | None:
        """The version of one project's answers; None while a commit to it is under way."""
        everything, everything_flux = self._everything
        version, flux = self._projects.get(slug, _REST)
        return None if flux or everything_flux else (everything, version)


def _stepped(state: _State, flux: int) -> _State:
    return (state[0] + 1, state[1] + flux)


_versions = PerEngine(DataVersions)


def data_versions(engine: Engine) -> DataVersions:
    """The versions of the database behind `engine` (one object per engine)."""
    return _versions.of(engine)
