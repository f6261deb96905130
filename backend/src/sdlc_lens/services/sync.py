"""Sync a project's folder into the database: walk, skip unchanged, parse, one transaction.

Reading and parsing happen before the write transaction, so the write lock is held only for
the few batched statements at the end; WAL readers never wait for it. If anything fails, or
the process dies, before the single COMMIT, the previous documents and index are untouched.
"""

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.faults import database_fault
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

# New and changed rows are first staged in a temporary table, then written to `documents`
# with ONE statement each. FTS5 flushes its pending index data at every statement boundary
# (savepoint), so row-by-row statements would write one tiny index segment per document and
# keep merging them; one statement lets the triggers build the index delta in memory.
# All SQL below is built once from constant column names; every value is a bound parameter.
# The staging table's columns are `id` (the stored row to update, NULL for a new one) followed
# by DocumentRow's fields, so the column list and the values come from one definition.
_ROW_COLUMNS = DocumentRow.column_names()
_COLUMNS_SQL = ", ".join(_ROW_COLUMNS)
_STAGE_TABLE_SQL = f"CREATE TEMP TABLE sync_rows (id INTEGER, {_COLUMNS_SQL})"
_STAGE_SQL = (
    f"INSERT INTO temp.sync_rows (id, {_COLUMNS_SQL}) "  # noqa: S608
    f"VALUES ({', '.join('?' * (len(_ROW_COLUMNS) + 1))})"
)
_UPDATE_SQL = (
    f"UPDATE documents SET {', '.join(f'{c} = s.{c}' for c in _ROW_COLUMNS)} "  # noqa: S608
    "FROM temp.sync_rows AS s WHERE s.id IS NOT NULL AND documents.id = s.id"
)
_INSERT_SQL = (
    f"INSERT INTO documents ({_COLUMNS_SQL}) "  # noqa: S608
    f"SELECT {_COLUMNS_SQL} FROM temp.sync_rows WHERE id IS NULL ORDER BY rowid"
)
_DROP_STAGE_SQL = "DROP TABLE temp.sync_rows"
_STORED_FILES_SQL = (
    "SELECT file_path, id, file_hash, file_size, file_mtime_ns, file_ctime_ns, parser_epoch "
    "FROM documents WHERE project_id = ?"
)
_DELETE_SQL = "DELETE FROM documents WHERE id IN (SELECT value FROM json_each(?))"
# Only the fingerprint: title/content are not in the SET list, so the FTS trigger stays idle.
_FINGERPRINT_SQL = (
    "UPDATE documents SET file_size = ?, file_mtime_ns = ?, file_ctime_ns = ? WHERE id = ?"
)


class SyncCancelledError(Exception):
    """The server is shutting down; the sync stops before writing anything."""


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


@dataclass(slots=True)
class SyncPlan:
    """The batched writes one sync will make."""

    synced_at: str  # the sync's timestamp, on every row it writes and on the project
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # (id or None, *row.values())
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
        result = _sync(engine, project_id, allowed_base, allow_empty, should_stop)
    except SyncCancelledError:
        logger.warning("sync of project %s interrupted by shutdown; nothing written", project_id)
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
    engine: Engine,
    project_id: int,
    allowed_base: Path | None,
    allow_empty: bool,
    should_stop: Callable[[], bool],
) -> SyncResult | None:
    with engine.connect() as conn:
        project = conn.execute(
            select(projects.c.sdlc_path, projects.c.status_vocab).where(projects.c.id == project_id)
        ).first()
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

    with engine.connect() as conn:
        stored = _stored_files(conn, project_id)
    if not walk.files and stored and not allow_empty and not walk.unreadable_dirs:
        return _finish_early(engine, project_id, EMPTY_SOURCE_ERROR)
    if not walk.files and stored and walk.unreadable_dirs:
        return _finish_early(engine, project_id, _unreadable_summary(walk.unreadable_dirs))

    result = SyncResult(errors=len(walk.unreadable_dirs))
    plan = _plan_changes(project_id, walk, stored, status_vocab, force_reparse, result, should_stop)
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
    if not _apply(engine, project_id, plan, project_values):
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
) -> SyncPlan:
    """Read, hash and parse what changed; count what happened in `result`.

    A file whose size, mtime and ctime match the stored fingerprint is not even opened; one
    that is opened but hashes the same only gets its fingerprint refreshed.
    """
    plan = SyncPlan(synced_at=utc_now())
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


def _apply(engine: Engine, project_id: int, plan: SyncPlan, project_values: dict[str, Any]) -> bool:
    """Write the whole plan and the project's new state in one transaction."""
    with write_transaction(engine) as conn:
        exists = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
        if exists is None:
            return False
        if plan.deletes:
            conn.exec_driver_sql(_DELETE_SQL, (json.dumps(plan.deletes),))
        if plan.rows:
            conn.exec_driver_sql(_STAGE_TABLE_SQL)
            conn.exec_driver_sql(_STAGE_SQL, plan.rows)
            conn.exec_driver_sql(_UPDATE_SQL)
            conn.exec_driver_sql(_INSERT_SQL)
            conn.exec_driver_sql(_DROP_STAGE_SQL)
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
