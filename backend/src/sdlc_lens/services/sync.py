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
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError

from sdlc_lens.db.engine import begin_immediate, database_file, stop_when, write_transaction
from sdlc_lens.db.faults import SQLITE_INTERRUPT, database_fault, sqlite_error_code
from sdlc_lens.db.models import DocumentRow, projects
from sdlc_lens.parsing import DocumentRecord, build_document, parse_project_config
from sdlc_lens.services.projects import SyncState, is_within, path_is_directory
from sdlc_lens.services.walk import FileStat, Walk, walk_project
from sdlc_lens.timeutil import utc_now

logger = logging.getLogger(__name__)

# Bump when parsing changes what it produces: rows from an older epoch are re-parsed even
# when their file is unchanged.
PARSER_EPOCH = 1

# A file modified this close to the scan may change again within the same timestamp tick;
# its fingerprint is not trusted next time (the "racy clean" problem), so it gets re-hashed.
RACY_WINDOW_NS = 2_000_000_000

EMPTY_SOURCE_ERROR = "source returned no documents - refusing to delete existing documents"
INTERRUPTED_ERROR = "Sync was interrupted (the server stopped); sync again"
UNEXPECTED_ERROR = "Sync failed unexpectedly; nothing was changed - see the server log"
DATABASE_ERROR = "Sync failed; nothing was changed. {}"

# New and changed rows are staged in a scratch table while files are parsed, in batches of
# at most this many rows or characters of text: a sync holds one batch in memory, not every
# changed document of the project.
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
# The scratch database is a file next to the database (its folder is writable by definition),
# never written durably: a crash only leaves a file that the next sync replaces.
_ATTACH_STAGE_SQL = "ATTACH DATABASE ? AS sync_stage"
_SCRATCH_PRAGMAS = ("PRAGMA sync_stage.journal_mode=OFF", "PRAGMA sync_stage.synchronous=OFF")
STAGE_FILE_SUFFIX = "-sync"
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


class RowStage:
    """New and changed rows on their way to `documents`, streamed into the scratch table
    `sync_stage.sync_rows` while files are parsed. The sync holds one batch in memory, not
    every changed document's text, and the scratch database is a separate file: writing it
    takes no lock on the real one, and its pages go to disk rather than staying in memory."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._batch: list[tuple[Any, ...]] = []
        self._batch_chars = 0
        self._chunk_chars = 0
        self._chunk_ends: list[int] = []  # the last row of each full write chunk
        self.count = 0
        conn.exec_driver_sql(_STAGE_TABLE_SQL)
        conn.commit()

    def append(self, row: tuple[Any, ...]) -> None:
        """Stage one row: (id of the stored row or None, *DocumentRow.values())."""
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

    def flush(self) -> None:
        """Write the rows held in memory to the staging table."""
        if self._batch:
            self._conn.exec_driver_sql(_STAGE_SQL, self._batch)
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
    rows: RowStage  # new and changed rows
    fingerprints: list[tuple[Any, ...]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)


def run_sync(
    engine: Engine,
    project_id: int,
    *,
    allowed_base: Path | None = None,
    allow_empty: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> SyncResult | None:
    """Sync one project already claimed as `syncing`; always leaves it `synced` or `error`.

    Returns None when the project was deleted meanwhile (nothing to report to).
    """
    started = time.perf_counter()
    try:
        if should_stop():  # queued behind another sync when the stop came
            raise SyncCancelledError
        with _sync_connection(engine) as conn:
            result = _sync(conn, engine, project_id, allowed_base, allow_empty, should_stop)
    except SyncCancelledError as stopped:
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
                fault.code,
                getattr(exc, "orig", exc),
            )
        message = UNEXPECTED_ERROR if fault is None else DATABASE_ERROR.format(fault.message)
        _record_error(engine, project_id, message)
        raise
    if result is not None:
        result.seconds = time.perf_counter() - started
        log = logger.info if result.status == SyncState.SYNCED else logger.warning
        log(
            "sync of project %s finished: %s in %.3fs (%d added, %d updated, %d unchanged, "
            "%d deleted, %d errors)",
            project_id,
            result.status,
            result.seconds,
            result.added,
            result.updated,
            result.unchanged,
            result.deleted,
            result.errors,
        )
    return result


def _sync(
    conn: Connection,
    engine: Engine,
    project_id: int,
    allowed_base: Path | None,
    allow_empty: bool,
    should_stop: Callable[[], bool],
) -> SyncResult | None:
    project = conn.execute(
        select(projects.c.sdlc_path, projects.c.status_vocab).where(projects.c.id == project_id)
    ).first()
    conn.rollback()  # end the read snapshot: the walk below takes a while
    if project is None:
        return None
    sdlc_path: str | None = project.sdlc_path
    logger.info("sync of project %s started: %s", project_id, sdlc_path)

    problem = _precheck(sdlc_path, allowed_base)
    if problem is not None:
        return _finish_early(engine, project_id, problem)
    assert sdlc_path is not None

    walk = walk_project(sdlc_path)
    config = parse_project_config(
        _read_text(Path(sdlc_path, ".config.yaml")), _read_text(Path(sdlc_path, ".version"))
    )
    status_vocab = {k: list(v) for k, v in config.status_vocab.items()}
    vocab_json = json.dumps(status_vocab, sort_keys=True) if status_vocab else None
    # Custom status tokens change canonical statuses, so a vocabulary change re-parses all.
    force_reparse = vocab_json != project.status_vocab

    stored = _stored_files(conn, project_id)
    conn.rollback()
    if not walk.files and stored and not allow_empty and not walk.unreadable_dirs:
        return _finish_early(engine, project_id, EMPTY_SOURCE_ERROR)
    if not walk.files and stored and walk.unreadable_dirs:
        return _finish_early(engine, project_id, _unreadable_summary(walk.unreadable_dirs))

    result = SyncResult(errors=len(walk.unreadable_dirs))
    plan = _plan_changes(
        project_id, walk, stored, status_vocab, force_reparse, result, should_stop, RowStage(conn)
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
        "schema_version": config.schema_version,
        "profile": config.profile,
        "status_vocab": vocab_json,
    }
    if not _apply(conn, project_id, plan, project_values, should_stop):
        logger.info("project %s was deleted during its sync; nothing written", project_id)
        return None
    return result


def _plan_changes(
    project_id: int,
    walk: Walk,
    stored: dict[str, StoredFile],
    status_vocab: dict[str, list[str]],
    force_reparse: bool,
    result: SyncResult,
    should_stop: Callable[[], bool],
    stage: RowStage,
) -> SyncPlan:
    """Read, hash and parse what changed; count what happened in `result`.

    A file whose size, mtime and ctime match the stored fingerprint is not even opened; one
    that is opened but hashes the same only gets its fingerprint refreshed.
    """
    plan = SyncPlan(synced_at=utc_now(), rows=stage)
    racy_after = time.time_ns() - RACY_WINDOW_NS
    for rel_path, st in walk.files.items():
        if should_stop():
            raise SyncCancelledError
        known = stored.get(rel_path)
        current = known is not None and known.parser_epoch == PARSER_EPOCH and not force_reparse
        if current and known is not None and known.fingerprint_matches(st):
            result.unchanged += 1
            continue
        try:
            data = _read_bytes(st.path)
        except OSError as exc:
            _file_failed(result, rel_path, f"cannot be read ({exc.strerror or 'I/O error'})")
            continue
        digest = hashlib.sha256(data).hexdigest()
        fingerprint = _trusted_fingerprint(st, racy_after)
        if current and known is not None and known.file_hash == digest:
            result.unchanged += 1
            plan.fingerprints.append((*fingerprint, known.id))
            continue
        text = _decode(data)
        if text is None:
            _file_failed(result, rel_path, "is not UTF-8 text")
            continue
        record = build_document(rel_path, text, status_vocab)
        if record is None:
            continue
        row = document_row(project_id, rel_path, record, digest, fingerprint, plan.synced_at)
        plan.rows.append((None if known is None else known.id, *row.values()))
        if known is None:
            result.added += 1
        else:
            result.updated += 1

    for rel_path, known in stored.items():
        if rel_path not in walk.files and not _under_any(rel_path, walk.unreadable_dirs):
            plan.deletes.append(known.id)
    result.deleted = len(plan.deletes)
    return plan


def _precheck(sdlc_path: str | None, allowed_base: Path | None) -> str | None:
    if not sdlc_path:
        return "No sdlc_path configured for local project"
    if not path_is_directory(sdlc_path):
        return f"Path not found: {sdlc_path}"
    if allowed_base is not None and not is_within(Path(sdlc_path).resolve(), allowed_base):
        return "sdlc_path is outside the allowed base"
    return None


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
    plan: SyncPlan,
    project_values: dict[str, Any],
    should_stop: Callable[[], bool],
) -> bool:
    """Write the whole plan and the project's new state in one transaction.

    Until the COMMIT, a stop interrupts the running statement and rolls everything back.
    """
    plan.rows.flush()
    logger.debug(
        "sync of project %s: writing to the database (%d new or changed, %d deleted)",
        project_id,
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
        logger.debug("sync of project %s: committing", project_id)
    return True


def _write_plan(
    conn: Connection, project_id: int, plan: SyncPlan, project_values: dict[str, Any]
) -> bool:
    exists = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
    if exists is None:
        return False
    if plan.deletes:
        conn.exec_driver_sql(_DELETE_SQL, (json.dumps(plan.deletes),))
    for first, last in plan.rows.chunks():
        conn.exec_driver_sql(_UPDATE_SQL, (first, last))
        conn.exec_driver_sql(_INSERT_SQL, (first, last))
    if plan.fingerprints:
        conn.exec_driver_sql(_FINGERPRINT_SQL, plan.fingerprints)
    conn.execute(
        projects.update()
        .where(projects.c.id == project_id)
        .values(**project_values, updated_at=project_values["last_synced_at"])
    )
    return True


def _finish_early(engine: Engine, project_id: int, message: str) -> SyncResult:
    """End a sync that wrote nothing: `error`, message kept, `last_synced_at` untouched."""
    _mark_error(engine, project_id, message)
    return SyncResult(status=SyncState.ERROR, error=message)


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


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:  # noqa: PTH123 - hot path, plain open is cheapest
        return handle.read()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def _file_failed(result: SyncResult, rel_path: str, reason: str) -> None:
    # The path and reason go to the log; the client-facing summary only counts them.
    logger.warning("skipped %r: it %s; its stored document is kept", rel_path, reason)
    result.errors += 1


def _under_any(rel_path: str, folders: Sequence[str]) -> bool:
    return any(folder == "" or rel_path.startswith(f"{folder}/") for folder in folders)


def _unreadable_summary(folders: Sequence[str]) -> str:
    return (
        f"{len(folders)} folder(s) could not be read; nothing was changed. "
        "Their stored documents are preserved - see the server log for each path."
    )
