"""Sync a project's folder into the database: walk, skip unchanged, parse, one transaction.

Reading and parsing happen before the write transaction: parsed rows are streamed into a
scratch database (which takes no lock on the real one), so the write lock is held only for
the set-based statements at the end; WAL readers never wait for it. If anything fails, the
server is stopped, or the process dies before the single COMMIT, the previous documents and
index are untouched. A stop is noticed between files while reading, and within milliseconds
inside the write transaction (the statement is interrupted and rolled back); once the COMMIT
has been issued, the sync finishes.
"""

import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, select
from sqlalchemy.exc import DBAPIError

from sdlc_lens.db.engine import begin_immediate, database_file, stop_when, write_transaction
from sdlc_lens.db.faults import SQLITE_INTERRUPT, database_fault, sqlite_error_code
from sdlc_lens.db.models import DocumentRow, projects
from sdlc_lens.parsing import (
    DocumentRecord,
    ProjectConfig,
    StatusVocabulary,
    build_document,
    parse_project_config,
)
from sdlc_lens.services.files import (
    CONFIG_SIZE_LIMIT,
    MARKDOWN_SIZE_LIMIT,
    ProjectFolder,
    RefusedFileError,
)
from sdlc_lens.services.projects import SyncState, is_within
from sdlc_lens.services.sync_progress import SyncProgress
from sdlc_lens.services.walk import FileStat, Walk, walk_project
from sdlc_lens.timeutil import utc_now

logger = logging.getLogger(__name__)

# Bump when parsing changes what it produces: rows from an older epoch are re-parsed even
# when their file is unchanged. 2: `content` is the body (no title line, no front matter),
# and rows carry their reference links and the health check's derived columns.
PARSER_EPOCH = 2

# A file modified this close to the scan may change again within the same timestamp tick;
# its fingerprint is not trusted next time (the "racy clean" problem), so it gets re-hashed.
RACY_WINDOW_NS = 2_000_000_000

EMPTY_SOURCE_ERROR = "source returned no documents - refusing to delete existing documents"
# A folder with no entries at all is what an unmounted volume looks like.
EMPTY_FOLDER_ERROR = "folder is empty (is the volume mounted?)"
INTERRUPTED_ERROR = "Sync was interrupted (the server stopped); sync again"
UNEXPECTED_ERROR = "Sync failed unexpectedly; nothing was changed - see the server log"
DATABASE_ERROR = "Sync failed; nothing was changed. {}"

# The project settings files at the folder's root, read (best effort) on every sync.
CONFIG_FILES = (".config.yaml", ".version")
SETTINGS_KEPT = "the project's stored settings are kept"

# New and changed rows, and their reference links, are staged in scratch tables while files
# are parsed, in batches of at most this many rows or characters of text: a sync holds one
# batch in memory, not every changed document of the project.
STAGE_BATCH_ROWS = 500
STAGE_BATCH_CHARS = 8_000_000
# Then they are written to `documents` with one UPDATE and one INSERT per chunk of at most
# this much text. FTS5 flushes its pending index data at every statement boundary, so
# row-by-row statements would write one tiny index segment per document and keep merging
# them; a large chunk lets the triggers build the index delta in memory. But SQLite first
# copies a statement's rows into a temporary table (the target has triggers), in memory: for
# a whole 50,000-document sync in one statement that copy took 450 MB. Chunks bound it.
WRITE_CHUNK_CHARS = 32_000_000

# All SQL below is built once from constant column names; every value is a bound parameter.
# The staging table's columns are `id` (the stored row to update, NULL for a new one) followed
# by DocumentRow's fields, so the column list and the values come from one definition.
_ROW_COLUMNS = DocumentRow.column_names()
_COLUMNS_SQL = ", ".join(_ROW_COLUMNS)
_STAGE_TABLE_SQL = f"CREATE TABLE sync_stage.sync_rows (id INTEGER, {_COLUMNS_SQL})"
_STAGE_SQL = (
    f"INSERT INTO sync_stage.sync_rows (id, {_COLUMNS_SQL}) "  # noqa: S608
    f"VALUES ({', '.join('?' * (len(_ROW_COLUMNS) + 1))})"
)
_UPDATE_SQL = (
    f"UPDATE documents SET {', '.join(f'{c} = s.{c}' for c in _ROW_COLUMNS)} "  # noqa: S608
    "FROM sync_stage.sync_rows AS s "
    "WHERE s.rowid BETWEEN ? AND ? AND s.id IS NOT NULL AND documents.id = s.id"
)
_INSERT_SQL = (
    f"INSERT INTO documents ({_COLUMNS_SQL}) "  # noqa: S608
    f"SELECT {_COLUMNS_SQL} FROM sync_stage.sync_rows "
    "WHERE rowid BETWEEN ? AND ? AND id IS NULL ORDER BY rowid"
)
# A rewritten document's links are replaced: the old ones go before the row is updated, and
# every staged document's links are then inserted by (project, path), which the new rows'
# ids are only known by. A deleted document's links go with it (FK cascade).
_STAGE_LINKS_TABLE_SQL = (
    "CREATE TABLE sync_stage.sync_links (file_path TEXT, kind TEXT, ref_key TEXT, position INTEGER)"
)
_STAGE_LINKS_SQL = (
    "INSERT INTO sync_stage.sync_links (file_path, kind, ref_key, position) VALUES (?, ?, ?, ?)"
)
_DELETE_OLD_LINKS_SQL = (
    "DELETE FROM document_links WHERE document_id IN "
    "(SELECT id FROM sync_stage.sync_rows WHERE id IS NOT NULL)"
)
_INSERT_LINKS_SQL = (
    "INSERT INTO document_links (document_id, project_id, kind, ref_key, position) "
    "SELECT d.id, d.project_id, l.kind, l.ref_key, l.position FROM sync_stage.sync_links AS l "
    "JOIN documents AS d ON d.project_id = ? AND d.file_path = l.file_path"
)
# The scratch database is a file next to the database (its folder is writable by definition),
# never written durably: a crash only leaves a file that the next sync replaces.
_ATTACH_STAGE_SQL = "ATTACH DATABASE ? AS sync_stage"
_SCRATCH_PRAGMAS = ("PRAGMA sync_stage.journal_mode=OFF", "PRAGMA sync_stage.synchronous=OFF")
STAGE_FILE_SUFFIX = "-sync"
# Rows this sync could not see (unreadable file or folder) keep when a sync last saw them;
# run before the project's last_synced_at moves on. Every other row was seen: a NULL
# `last_seen_at` means "as of the project's last_synced_at", so an unchanged row is not written.
_MARK_UNSEEN_SQL = (
    "UPDATE documents SET last_seen_at = "
    "COALESCE(last_seen_at, (SELECT last_synced_at FROM projects WHERE id = ?)) "
    "WHERE id IN (SELECT value FROM json_each(?))"
)
_MARK_SEEN_SQL = (
    "UPDATE documents SET last_seen_at = NULL WHERE project_id = ? AND last_seen_at IS NOT NULL "
    "AND id NOT IN (SELECT value FROM json_each(?))"
)
_STORED_FILES_SQL = (
    "SELECT file_path, id, file_hash, file_size, file_mtime_ns, file_ctime_ns, parser_epoch "
    "FROM documents WHERE project_id = ?"
)
_DELETE_SQL = "DELETE FROM documents WHERE id IN (SELECT value FROM json_each(?))"
# Only the fingerprint: title/content are not in the SET list, so the FTS trigger stays idle.
_FINGERPRINT_SQL = (
    "UPDATE documents SET file_size = ?, file_mtime_ns = ?, file_ctime_ns = ? WHERE id = ?"
)


READING = "reading files"
WRITING = "writing"


class SyncCancelledError(Exception):
    """The server is shutting down; the sync stops before its commit, having written nothing."""

    def __init__(self, phase: str = READING) -> None:
        super().__init__(phase)
        self.phase = phase


@dataclass(slots=True)
class SyncResult:
    """What one sync did; the counters are logged and summarised in `sync_error`."""

    slug: str = ""  # the project, named in the log lines
    status: SyncState = SyncState.SYNCED
    error: str | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    errors: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What the database knows about one file of the project."""

    id: int
    file_hash: str
    size: int | None
    mtime_ns: int | None
    ctime_ns: int | None
    parser_epoch: int

    def fingerprint_matches(self, st: FileStat) -> bool:
        return (self.size, self.mtime_ns, self.ctime_ns) == (st.size, st.mtime_ns, st.ctime_ns)


class ScratchTable:
    """Rows on their way to the database, streamed into a table of the scratch database
    `sync_stage` as files are parsed. The sync holds one batch in memory, not every changed
    document's text, and the scratch database is a separate file: writing it takes no lock on
    the real one, and its pages go to disk rather than staying in memory."""

    def __init__(self, conn: Connection, create_sql: str, insert_sql: str) -> None:
        self._conn = conn
        self._insert_sql = insert_sql
        self._batch: list[tuple[Any, ...]] = []
        self._batch_chars = 0
        self._chunk_chars = 0
        self._chunk_ends: list[int] = []  # the last row of each full write chunk
        self.count = 0
        conn.exec_driver_sql(create_sql)
        conn.commit()

    def append(self, row: tuple[Any, ...]) -> None:
        """Stage one row (for documents: the stored row's id or None, *DocumentRow.values())."""
        chars = sum(len(value) for value in row if isinstance(value, str))
        if self._chunk_chars and self._chunk_chars + chars > WRITE_CHUNK_CHARS:
            self._chunk_ends.append(self.count)
            self._chunk_chars = 0
        self._chunk_chars += chars
        self._batch.append(row)
        self.count += 1
        self._batch_chars += chars
        if len(self._batch) >= STAGE_BATCH_ROWS or self._batch_chars >= STAGE_BATCH_CHARS:
            self.flush()

    def extend(self, rows: Iterable[tuple[Any, ...]]) -> None:
        for row in rows:
            self.append(row)

    def flush(self) -> None:
        """Write the rows held in memory to the scratch table."""
        if self._batch:
            self._conn.exec_driver_sql(self._insert_sql, self._batch)
            self._conn.commit()
            self._batch = []
            self._batch_chars = 0

    def chunks(self) -> list[tuple[int, int]]:
        """The staged rows as (first, last) rowid ranges of at most WRITE_CHUNK_CHARS each
        (rows are numbered from 1 in the order they were staged)."""
        if not self.count:
            return []
        ends = [*self._chunk_ends, self.count]
        return [(start + 1, end) for start, end in zip([0, *self._chunk_ends], ends, strict=True)]

    def __len__(self) -> int:
        return self.count


@dataclass(slots=True)
class SyncPlan:
    """The batched writes one sync will make."""

    synced_at: str  # the sync's timestamp, on every row it writes and on the project
    rows: ScratchTable  # (id or None, *row.values()) of new and changed documents
    links: ScratchTable  # (path, kind, key, position) of their reference links
    fingerprints: list[tuple[Any, ...]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    unseen: list[int] = field(default_factory=list)  # kept rows whose file this sync missed


def run_sync(
    engine: Engine,
    project_id: int,
    *,
    allowed_base: Path | None = None,
    allow_empty: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    progress: SyncProgress | None = None,
) -> SyncResult | None:
    """Sync one project already claimed as `syncing`; always leaves it `synced` or `error`.

    Returns None when the project was deleted meanwhile (nothing to report to). `progress`
    receives the phase and file counts as the sync goes.
    """
    started = time.perf_counter()
    try:
        if should_stop():  # queued behind another sync when the stop came
            raise SyncCancelledError
        with _sync_connection(engine) as conn:
            result = _sync(
                conn,
                engine,
                project_id,
                allowed_base,
                allow_empty,
                should_stop,
                progress or SyncProgress(),
            )
    except SyncCancelledError as stopped:
        if not _project_exists(engine, project_id):
            logger.info(
                "sync of project %s stopped while %s: the project was deleted; nothing written",
                project_id,
                stopped.phase,
            )
            return None
        logger.warning(
            "sync of project %s interrupted by shutdown while %s; nothing written",
            project_id,
            stopped.phase,
        )
        _record_error(engine, project_id, INTERRUPTED_ERROR)
        return SyncResult(status=SyncState.ERROR, error=INTERRUPTED_ERROR)
    except BaseException as exc:
        fault = database_fault(exc)
        if fault is None:
            logger.exception("sync of project %s failed; previous documents kept", project_id)
        else:  # a condition of the server, not a bug: one line, no traceback
            logger.error(
                "sync of project %s failed (%s: %s); previous documents kept",
                project_id,
                type(fault).__name__,
                getattr(exc, "orig", exc),
            )
        message = UNEXPECTED_ERROR if fault is None else DATABASE_ERROR.format(fault.message)
        _record_error(engine, project_id, message)
        raise
    if result is not None:
        result.seconds = time.perf_counter() - started
        log = logger.info if result.status == SyncState.SYNCED else logger.warning
        log(
            "sync of %s finished: %s in %.3fs (%d added, %d updated, %d unchanged, "
            "%d deleted, %d errors)%s",
            result.slug,
            result.status,
            result.seconds,
            result.added,
            result.updated,
            result.unchanged,
            result.deleted,
            result.errors,
            f": {result.error}" if result.error else "",
        )
    return result


def _sync(
    conn: Connection,
    engine: Engine,
    project_id: int,
    allowed_base: Path | None,
    allow_empty: bool,
    should_stop: Callable[[], bool],
    progress: SyncProgress,
) -> SyncResult | None:
    project = conn.execute(
        select(
            projects.c.slug,
            projects.c.sdlc_path,
            projects.c.status_vocab,
            projects.c.schema_version,
            projects.c.profile,
        ).where(projects.c.id == project_id)
    ).first()
    conn.rollback()  # end the read snapshot: the walk below takes a while
    if project is None:
        return None
    slug: str = project.slug
    sdlc_path: str | None = project.sdlc_path
    logger.info("sync of %s started: %s", slug, sdlc_path)

    problem = _precheck(sdlc_path, allowed_base)
    if problem is not None:
        return _finish_early(engine, project_id, slug, problem)
    assert sdlc_path is not None
    try:
        folder = ProjectFolder(sdlc_path)
    except PermissionError:
        return _finish_early(engine, project_id, slug, unreadable_folder_error())
    except OSError:
        return _finish_early(engine, project_id, slug, f"Path not found: {sdlc_path}")
    with folder:
        return _sync_folder(
            conn, engine, project_id, project, folder, allow_empty, should_stop, progress
        )


def _sync_folder(
    conn: Connection,
    engine: Engine,
    project_id: int,
    project: Row[Any],
    folder: ProjectFolder,
    allow_empty: bool,
    should_stop: Callable[[], bool],
    progress: SyncProgress,
) -> SyncResult | None:
    slug: str = project.slug
    scan_started = time.perf_counter()
    walk = walk_project(folder.root, progress.file_seen)
    logger.info(
        "sync of %s: found %d document file(s) in %.3fs",
        slug,
        len(walk.files),
        time.perf_counter() - scan_started,
    )
    if "" in walk.unreadable_dirs:
        return _finish_early(engine, project_id, slug, unreadable_folder_error())
    if walk.root_is_empty and not allow_empty:
        return _finish_early(engine, project_id, slug, EMPTY_FOLDER_ERROR)

    result = SyncResult(slug=slug, errors=len(walk.unreadable_dirs))
    config = _read_config(folder, result)
    if config is None:
        # A settings file could not be read: keep the project's stored settings rather than
        # fall back to none (a lost status vocabulary would re-parse and re-status everything).
        schema_version, profile = project.schema_version, project.profile
        vocab_json = project.status_vocab
        status_vocab = json.loads(vocab_json) if vocab_json else {}
    else:
        schema_version, profile = config.schema_version, config.profile
        status_vocab = {k: list(v) for k, v in config.status_vocab.items()}
        vocab_json = json.dumps(status_vocab, sort_keys=True) if status_vocab else None
    # Custom status tokens change canonical statuses, so a vocabulary change re-parses all.
    force_reparse = vocab_json != project.status_vocab

    stored = _stored_files(conn, project_id)
    conn.rollback()
    if not walk.files and stored and not allow_empty and not walk.unreadable_dirs:
        return _finish_early(engine, project_id, slug, EMPTY_SOURCE_ERROR)
    if not walk.files and stored and walk.unreadable_dirs:
        return _finish_early(engine, project_id, slug, _unreadable_summary(walk.unreadable_dirs))

    for rel_path, reason in walk.problems.items():
        _file_failed(result, rel_path, reason)
    plan = SyncPlan(
        synced_at=utc_now(),
        rows=ScratchTable(conn, _STAGE_TABLE_SQL, _STAGE_SQL),
        links=ScratchTable(conn, _STAGE_LINKS_TABLE_SQL, _STAGE_LINKS_SQL),
    )
    _plan_changes(
        project_id,
        plan,
        folder,
        walk,
        stored,
        StatusVocabulary(status_vocab),
        force_reparse,
        result,
        should_stop,
        progress,
    )
    if result.errors:
        result.status = SyncState.ERROR
        result.error = (
            f"{result.errors} file(s) could not be synced and were left unchanged; "
            f"{result.added} added, {result.updated} updated, {result.deleted} deleted. "
            "Their stored documents are preserved - see the server log for each path."
        )
    if should_stop():
        raise SyncCancelledError
    project_values = {
        "sync_status": result.status,
        "sync_error": result.error,
        "last_synced_at": plan.synced_at,
        "schema_version": schema_version,
        "profile": profile,
        "status_vocab": vocab_json,
    }
    progress.start_writing()
    if not _apply(conn, project_id, slug, plan, project_values, should_stop):
        logger.info("project %s was deleted during its sync; nothing written", slug)
        return None
    return result


def _plan_changes(
    project_id: int,
    plan: SyncPlan,
    folder: ProjectFolder,
    walk: Walk,
    stored: dict[str, StoredFile],
    vocabulary: StatusVocabulary,
    force_reparse: bool,
    result: SyncResult,
    should_stop: Callable[[], bool],
    progress: SyncProgress,
) -> None:
    """Read, hash and parse what changed into `plan`; count what happened in `result`.

    A file whose size, mtime and ctime match the stored fingerprint is not even opened; one
    that is opened but hashes the same only gets its fingerprint refreshed.
    """
    racy_after = time.time_ns() - RACY_WINDOW_NS
    debug = logger.isEnabledFor(logging.DEBUG)  # one check, not one call per unchanged file
    to_read: list[_ChangedFile] = []
    for rel_path, st in walk.files.items():
        known = stored.get(rel_path)
        current = known is not None and known.parser_epoch == PARSER_EPOCH and not force_reparse
        if current and known is not None and known.fingerprint_matches(st):
            result.unchanged += 1
            if debug:
                logger.debug(
                    "sync of %s: %r unchanged (same size, mtime and ctime)", result.slug, rel_path
                )
        else:
            to_read.append(_ChangedFile(rel_path, st, known, current))
    progress.start_parsing(len(to_read))

    for changed in to_read:
        if should_stop():
            raise SyncCancelledError
        _plan_file(project_id, folder, changed, vocabulary, racy_after, plan, result)
        progress.file_done()

    for rel_path, known in stored.items():
        if rel_path in walk.files:
            continue
        if rel_path in walk.problems or _under_any(rel_path, walk.unreadable_dirs):
            plan.unseen.append(known.id)  # kept, but not seen
        else:
            plan.deletes.append(known.id)
            logger.debug("sync of %s: %r deleted (no longer in the folder)", result.slug, rel_path)
    result.deleted = len(plan.deletes)


@dataclass(frozen=True, slots=True)
class _ChangedFile:
    """A file whose stat fingerprint does not match what is stored: it has to be read."""

    rel_path: str
    st: FileStat
    known: StoredFile | None  # the stored row at this path, if any
    current: bool  # the stored row was parsed by this parser with this vocabulary


def _plan_file(
    project_id: int,
    folder: ProjectFolder,
    changed: _ChangedFile,
    vocabulary: StatusVocabulary,
    racy_after: int,
    plan: SyncPlan,
    result: SyncResult,
) -> None:
    """Read one new or changed file and add what it needs to the plan."""
    rel_path, known = changed.rel_path, changed.known
    try:
        data = folder.read(rel_path, MARKDOWN_SIZE_LIMIT)
    except RefusedFileError as exc:
        _file_failed(result, rel_path, exc.reason)
        plan.unseen.extend(() if known is None else (known.id,))
        return
    except OSError as exc:
        _file_failed(result, rel_path, _cannot_read(exc))
        plan.unseen.extend(() if known is None else (known.id,))
        return
    digest = hashlib.sha256(data).hexdigest()
    fingerprint = _trusted_fingerprint(changed.st, racy_after)
    if changed.current and known is not None and known.file_hash == digest:
        result.unchanged += 1
        plan.fingerprints.append((*fingerprint, known.id))
        logger.debug("sync of %s: %r unchanged (same SHA-256)", result.slug, rel_path)
        return
    text = _decode(data)
    if text is None:
        _file_failed(result, rel_path, "is not UTF-8 text")
        plan.unseen.extend(() if known is None else (known.id,))
        return
    record = build_document(rel_path, text, vocabulary)
    if record is None:
        logger.debug("sync of %s: %r skipped (not a document)", result.slug, rel_path)
        return
    row = document_row(project_id, rel_path, record, digest, fingerprint, plan.synced_at)
    plan.rows.append((None if known is None else known.id, *row.values()))
    plan.links.extend((rel_path, kind.value, key, pos) for kind, key, pos in record.links())
    if known is None:
        result.added += 1
    else:
        result.updated += 1
    logger.debug(
        "sync of %s: %r parsed (%s)", result.slug, rel_path, "added" if known is None else "updated"
    )


def _read_config(folder: ProjectFolder, result: SyncResult) -> ProjectConfig | None:
    """The project settings, or None when a settings file exists but could not be read."""
    texts: dict[str, str | None] = {}
    for name in CONFIG_FILES:
        try:
            data = folder.read(name, CONFIG_SIZE_LIMIT)
        except FileNotFoundError:
            texts[name] = None
            continue
        except RefusedFileError as exc:
            _file_failed(result, name, exc.reason, SETTINGS_KEPT)
            continue
        except OSError as exc:
            _file_failed(result, name, _cannot_read(exc), SETTINGS_KEPT)
            continue
        texts[name] = data.decode("utf-8", errors="replace")
    if len(texts) < len(CONFIG_FILES):
        return None
    return parse_project_config(texts[".config.yaml"], texts[".version"])


def _precheck(sdlc_path: str | None, allowed_base: Path | None) -> str | None:
    if not sdlc_path:
        return "No sdlc_path configured for local project"
    try:
        is_folder = stat.S_ISDIR(os.stat(sdlc_path).st_mode)  # noqa: PTH116 - mirrors the walk
    except PermissionError:
        return unreadable_folder_error()
    except (OSError, ValueError):
        is_folder = False
    if not is_folder:
        return f"Path not found: {sdlc_path}"
    if allowed_base is not None and not is_within(Path(sdlc_path).resolve(), allowed_base):
        return "sdlc_path is outside the allowed base"
    # Listing needs read, and opening what is listed needs search (x): both, or nothing works.
    if not os.access(sdlc_path, os.R_OK | os.X_OK):
        return unreadable_folder_error()
    return None


def unreadable_folder_error() -> str:
    """`sync_error` for a folder the service's user may not list (a uid or mode mismatch)."""
    return f"folder not readable by uid {os.geteuid()}"


def _stored_files(conn: Connection, project_id: int) -> dict[str, StoredFile]:
    # One fetchall of plain tuples: this runs for every file of every sync, changed or not.
    rows = conn.exec_driver_sql(_STORED_FILES_SQL, (project_id,)).fetchall()
    return {row[0]: StoredFile(*row[1:]) for row in rows}


@contextmanager
def _sync_connection(engine: Engine) -> Iterator[Connection]:
    """The sync's own connection, for its whole run, with the scratch database attached.

    Its COMMIT does not checkpoint the WAL: that would copy everything the sync wrote into the
    database file inside the COMMIT, which a stop has to wait for; the sync runner checkpoints
    afterwards, interruptibly. The connection is closed at the end rather than pooled: it goes
    with its page cache and index buffers (tens of MB after a large sync) and the scratch file.
    """
    database = database_file(engine.url)
    scratch = None if database is None else database.with_name(database.name + STAGE_FILE_SUFFIX)
    with engine.connect() as conn:
        try:
            dbapi_connection = conn.connection.driver_connection
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
            if scratch is not None:
                scratch.unlink(missing_ok=True)  # left by a crash
            target = ":memory:" if scratch is None else str(scratch)
            dbapi_connection.execute(_ATTACH_STAGE_SQL, (target,))
            for pragma in _SCRATCH_PRAGMAS:
                dbapi_connection.execute(pragma)
            yield conn
        finally:
            conn.invalidate()
            if scratch is not None:
                scratch.unlink(missing_ok=True)


def _apply(
    conn: Connection,
    project_id: int,
    slug: str,
    plan: SyncPlan,
    project_values: dict[str, Any],
    should_stop: Callable[[], bool],
) -> bool:
    """Write the whole plan and the project's new state in one transaction.

    Until the COMMIT, a stop interrupts the running statement and rolls everything back.
    """
    plan.rows.flush()
    plan.links.flush()
    logger.debug(
        "sync of %s: writing to the database (%d new or changed, %d deleted)",
        slug,
        len(plan.rows),
        len(plan.deletes),
    )
    with begin_immediate(conn):
        try:
            with stop_when(conn, should_stop):
                if not _write_plan(conn, project_id, plan, project_values):
                    return False
        except DBAPIError as exc:
            if should_stop() and sqlite_error_code(exc) == SQLITE_INTERRUPT:
                raise SyncCancelledError(WRITING) from exc
            raise
        if should_stop():
            raise SyncCancelledError(WRITING)
        # Past this point a stop waits: the COMMIT (at the end of this block) is never cut off.
        logger.debug("sync of %s: committing", slug)
    return True


def _write_plan(
    conn: Connection, project_id: int, plan: SyncPlan, project_values: dict[str, Any]
) -> bool:
    exists = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
    if exists is None:
        return False
    if plan.deletes:
        conn.exec_driver_sql(_DELETE_SQL, (json.dumps(plan.deletes),))
    if plan.rows:
        conn.exec_driver_sql(_DELETE_OLD_LINKS_SQL)
    for first, last in plan.rows.chunks():
        conn.exec_driver_sql(_UPDATE_SQL, (first, last))
        conn.exec_driver_sql(_INSERT_SQL, (first, last))
    if plan.links:
        conn.exec_driver_sql(_INSERT_LINKS_SQL, (project_id,))
    if plan.fingerprints:
        conn.exec_driver_sql(_FINGERPRINT_SQL, plan.fingerprints)
    unseen = json.dumps(plan.unseen)
    if plan.unseen:
        conn.exec_driver_sql(_MARK_UNSEEN_SQL, (project_id, unseen))
    conn.exec_driver_sql(_MARK_SEEN_SQL, (project_id, unseen))
    conn.execute(
        projects.update()
        .where(projects.c.id == project_id)
        .values(**project_values, updated_at=project_values["last_synced_at"])
    )
    return True


def _project_exists(engine: Engine, project_id: int) -> bool:
    with engine.connect() as conn:
        found = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
    return found is not None


def _finish_early(engine: Engine, project_id: int, slug: str, message: str) -> SyncResult:
    """End a sync that wrote nothing: `error`, message kept, `last_synced_at` untouched."""
    _mark_error(engine, project_id, message)
    return SyncResult(slug=slug, status=SyncState.ERROR, error=message)


def _record_error(engine: Engine, project_id: int, message: str) -> None:
    """Mark the project `error`; when even that cannot be written (a full or read-only disk),
    say so in the log. The runner releases its claim either way, so a new sync can start."""
    try:
        _mark_error(engine, project_id, message)
    except Exception as exc:
        fault = database_fault(exc)
        logger.error(
            "sync of project %s: could not record its outcome (%s); the project shows "
            "`syncing` until it is synced again, which can start at once",
            project_id,
            fault.message if fault is not None else type(exc).__name__,
            exc_info=fault is None,
        )


def _mark_error(engine: Engine, project_id: int, message: str) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            projects.update()
            .where(projects.c.id == project_id)
            .values(sync_status=SyncState.ERROR, sync_error=message)
        )


def mark_interrupted_syncs(engine: Engine) -> int:
    """At start-up: projects left `syncing` by a stopped process go to `error`."""
    with write_transaction(engine) as conn:
        return conn.execute(
            projects.update()
            .where(projects.c.sync_status == SyncState.SYNCING)
            .values(sync_status=SyncState.ERROR, sync_error=INTERRUPTED_ERROR)
        ).rowcount


def document_row(
    project_id: int,
    rel_path: str,
    record: DocumentRecord,
    digest: str,
    fingerprint: tuple[int, int | None, int],
    now: str,
) -> DocumentRow:
    """The stored row for a parsed document, every column given by name."""
    size, mtime_ns, ctime_ns = fingerprint
    return DocumentRow(
        project_id=project_id,
        file_path=rel_path,
        doc_type=record.doc_type,
        doc_id=record.doc_id,
        title=record.title,
        status=record.status,
        owner=record.owner,
        priority=record.priority,
        story_points=record.story_points,
        epic=record.epic,
        story=record.story,
        ref_id=record.ref_id,
        depends_on=record.depends_on,
        aliases=record.aliases,
        metadata_json=json.dumps(record.metadata, ensure_ascii=False) if record.metadata else None,
        content=record.content,
        file_hash=digest,
        file_size=size,
        file_mtime_ns=mtime_ns,
        file_ctime_ns=ctime_ns,
        parser_epoch=PARSER_EPOCH,
        synced_at=now,
        archived=record.archived,
        content_chars=record.content_chars,
        content_epic=record.content_epic,
        last_seen_at=None,
    )


def _trusted_fingerprint(st: FileStat, racy_after: int) -> tuple[int, int | None, int]:
    # A NULL mtime never matches, so a file touched just now is hashed again next sync.
    return (st.size, None if st.mtime_ns >= racy_after else st.mtime_ns, st.ctime_ns)


def _decode(data: bytes) -> str | None:
    """UTF-8 text without its BOM, or None for anything else (including binary with NULs)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _cannot_read(exc: OSError) -> str:
    return f"cannot be read ({exc.strerror or 'I/O error'})"


def _file_failed(
    result: SyncResult, rel_path: str, reason: str, kept: str = "its stored document is kept"
) -> None:
    # The path and reason go to the log; the client-facing summary only counts them.
    logger.warning("sync of %s: skipped %r: it %s; %s", result.slug, rel_path, reason, kept)
    result.errors += 1


def _under_any(rel_path: str, folders: Sequence[str]) -> bool:
    return any(folder == "" or rel_path.startswith(f"{folder}/") for folder in folders)


def _unreadable_summary(folders: Sequence[str]) -> str:
    return (
        f"{len(folders)} folder(s) could not be read; nothing was changed. "
        "Their stored documents are preserved - see the server log for each path."
    )
