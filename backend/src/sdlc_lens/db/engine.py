"""SQLite engine: URL handling, per-connection pragmas, explicit transaction control,
WAL checkpoints and interruptible statements."""

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Result, Row, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from sdlc_lens.db.lock_sharing import waiting_writers
from sdlc_lens.db.versions import EVERYTHING, Changes, data_versions

logger = logging.getLogger(__name__)

# How long a statement waits for a lock another connection holds (in WAL mode that is the
# write lock; readers never wait for it), then fails with SQLITE_BUSY, which the API answers
# with 503 and Retry-After. It bounds every writer's wait under 2 s, well within a client's
# patience: a sync holds the lock for one batch of documents at a time (db/batched_sync.py).
BUSY_TIMEOUT_MS = 1500
# Whenever the WAL is reset it is truncated to this size, and a checkpoint follows every sync
# and project delete (services/sync/runner.py), so it never stays large between syncs.
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# How long the truncation at the end of a checkpoint may hold off writers (see `checkpoint`).
TRUNCATE_WAIT_MS = 250
# A stop request is checked every this many SQLite VM instructions (well under a millisecond).
PROGRESS_STEPS = 10_000
MMAP_SIZE = 256 * 1024 * 1024
PAGE_SIZE = 8192


class DatabaseUrlError(ValueError):
    """SDLC_LENS_DATABASE_URL is not a SQLite URL this service can use."""


def sqlite_url(database_url: str) -> URL:
    """Normalise any SQLite URL (`sqlite://`, `sqlite+aiosqlite://`, ...) to the stdlib driver.

    Existing deployments pass the aiosqlite form; the driver is an implementation detail, so
    both are accepted and served by `sqlite3`. Relative file paths are made absolute here, once,
    so that the app and Alembic agree on the file whatever they do with the working directory.
    """
    try:
        url = make_url(database_url)
    except Exception as exc:
        raise DatabaseUrlError(f"not a database URL: {database_url!r}") from exc
    if url.get_backend_name() != "sqlite":
        raise DatabaseUrlError(f"only SQLite is supported, got {url.get_backend_name()!r}")
    url = url.set(drivername="sqlite")
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        url = url.set(database=str(Path(url.database).expanduser().absolute()))
    return url


def database_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database)


def create_db_engine(database_url: str, *, create_dir: bool = True) -> Engine:
    """An engine with WAL, foreign keys and a busy timeout on every connection.

    The database's parent directory is created when missing (a fresh volume, a first run).
    """
    url = sqlite_url(database_url)
    path = database_file(url)
    if create_dir and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        # Keep 20 connections open; beyond that, open more rather than wait. Point reads check
        # connections out on the event loop (api/deps.py), and a checkout that waited for a
        # free connection there would block the very loop that returns them.
        pool_size=20,
        max_overflow=-1,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (it would BEGIN lazily, only
    # before DML); `_on_begin` issues BEGIN itself, so reads get one consistent snapshot.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # Only takes effect while the file is still empty (a new database): larger pages hold
        # more of a document per page and make the full-text index's bulk writes cheaper
        # (a cold sync of 20,000 documents wrote ~20 % faster than with 4 KiB pages).
        cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # A sync stages its rows in a temporary table; keep that off the (maybe read-only) disk.
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Read the database through the OS page cache instead of a read() per page: rows
        # hold their documents' text, so lookups touch many pages. Shared by all connections.
        cursor.execute(f"PRAGMA mmap_size={MMAP_SIZE}")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    finally:
        cursor.close()
    # Closing the last connection would checkpoint the whole WAL, for as long as that takes,
    # in the middle of a shutdown; checkpoints are explicit instead (`checkpoint`).
    dbapi_connection.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)


def driver_connection(conn: Connection) -> sqlite3.Connection:
    """The `sqlite3` connection under a SQLAlchemy one (for pragmas, progress handlers, blobs)."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def row_dict(row: Row[*tuple[Any, ...]]) -> dict[str, Any]:
    """A result row as a dict with plain `str` keys, ready for the JSON encoder.

    SQLAlchemy names result columns with `quoted_name`, a `str` subclass, and pydantic_core
    serialises a dict with such keys on its slow path: a page of 100 documents took 2.3 ms
    to encode instead of 0.03 ms, a list of 10,000 projects 0.42 s instead of 0.03 s.
    """
    return dict(zip(map(str, row._fields), row, strict=True))


def row_dicts(result: Result[*tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every row of a result as `row_dict` makes it, the keys converted once."""
    keys = list(map(str, result.keys()))
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _on_begin(connection: Any) -> None:
    # Writers ask for IMMEDIATE so they queue for the write lock up front instead of
    # failing with SQLITE_BUSY when a read transaction tries to upgrade.
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(
    engine: Engine, *, foreign_keys: bool = True, changes: Changes = EVERYTHING
) -> Iterator[Connection]:
    """A transaction that holds SQLite's write lock from its first statement (BEGIN IMMEDIATE).

    Use it for every read-then-write; a deferred transaction that reads first can fail at
    once with SQLITE_BUSY when it tries to upgrade after another writer committed.
    `foreign_keys=False` leaves out ON DELETE CASCADE (for a delete whose dependent rows are
    removed later, in batches). `changes` says which answers the commit can change (the
    response cache's data versions, db/versions.py); everything unless the caller knows less.
    """
    with engine.connect() as conn:
        if foreign_keys:
            with begin_immediate(conn, changes=changes):
                yield conn
            return
        # The pragma is ignored inside a transaction: set it before BEGIN, restore it after.
        dbapi_connection = driver_connection(conn)
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with begin_immediate(conn, changes=changes):
                yield conn
        finally:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")


@contextmanager
def begin_immediate(conn: Connection, *, changes: Changes = EVERYTHING) -> Iterator[Connection]:
    """`write_transaction` on a connection the caller already holds.

    The data versions of `changes` are stepped around the COMMIT (db/versions.py), so that
    no cached answer outlives what the commit changed. While its BEGIN waits for the lock,
    the writer is counted as waiting: a large sync lets it in between two batches
    (db/lock_sharing.py).
    """
    conn.execution_options(sqlite_immediate=True)
    try:
        with waiting_writers(conn.engine).waiting():
            transaction = conn.begin()
        try:
            yield conn
        except BaseException:
            transaction.rollback()
            raise
        if not transaction.is_active:  # ended inside the block: nothing left to commit
            return
        versions = data_versions(conn.engine)
        versions.begin_commit(changes)
        try:
            transaction.commit()
        finally:
            versions.end_commit(changes)
    finally:
        conn.execution_options(sqlite_immediate=False)


@contextmanager
def stop_when(
    conn: Connection, should_stop: Callable[[], bool], *, steps: int = PROGRESS_STEPS
) -> Iterator[None]:
    """Statements run in this block fail with SQLITE_INTERRUPT soon after `should_stop()`
    turns true (it is asked every `steps` VM instructions), instead of running to their end;
    the transaction can then be rolled back."""
    dbapi_connection = driver_connection(conn)
    dbapi_connection.set_progress_handler(should_stop, steps)
    try:
        yield
    finally:
        dbapi_connection.set_progress_handler(None, 0)


def checkpoint(dbapi_connection: sqlite3.Connection) -> bool:
    """Copy the WAL into the database file, then truncate it to nothing.

    The copy is PASSIVE: writers carry on meanwhile. The truncation that follows holds off new
    writers while it waits for readers still using the WAL, so it waits briefly; if they
    outlast that, it returns False and the WAL stays, fully copied, until the next write
    starts it over (truncating it to WAL_SIZE_LIMIT). Interruptible with `interrupt()`.
    """
    dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    dbapi_connection.execute(f"PRAGMA busy_timeout={TRUNCATE_WAIT_MS}")
    try:
        busy, _frames, _copied = dbapi_connection.execute(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).fetchone()
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return int(busy) == 0


def wal_size(engine: Engine) -> int | None:
    """The size in bytes of the engine's WAL file (0 when there is none), None if unknown."""
    path = database_file(engine.url)
    if path is None:
        return None
    try:
        return path.with_name(path.name + "-wal").stat().st_size
    except FileNotFoundError:
        return 0
    except OSError:
        return None


def close_engine(engine: Engine) -> None:
    """At shutdown: fold a small WAL into the database file, then close every connection.

    A WAL larger than WAL_SIZE_LIMIT (a sync committed just before the stop) is left for the
    next start to checkpoint, so that the stop stays quick; it is part of the database.
    """
    size = wal_size(engine)
    if size is None or 0 < size <= WAL_SIZE_LIMIT:
        try:
            with engine.connect() as conn:
                checkpoint(driver_connection(conn))
        except (sqlite3.Error, SQLAlchemyError) as exc:
            logger.warning("could not checkpoint the database at shutdown: %s", exc)
    engine.dispose()
