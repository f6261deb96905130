"""The sync's SQL: its scratch database, the rows staged there, and the set-based statements
that write them to `documents` in one transaction (a large sync: db/batched_sync.py).

Parsed rows are streamed into a scratch database (a file next to the database, attached to
the sync's connection), which takes no lock on the real one; the write transaction then
copies them with one UPDATE and one INSERT per chunk, so the write lock is held only for
those statements. All SQL here is built once from constant column names (DocumentRow's and
FileStamp's); every value is a bound parameter.
"""

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from sdlc_lens.db.engine import database_file, driver_connection
from sdlc_lens.db.models import DocumentRow, FileStamp, projects

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
# ... and of at most this many rows: a large sync writes one chunk per transaction
# (db/batched_sync.py), and a writer waits for at most one of them.
WRITE_CHUNK_ROWS = 1000

# The staging table's columns are `id` (the stored row to update, NULL for a new one)
# followed by DocumentRow's columns, so the column list and the values come from one place.
_ROW_COLUMNS = DocumentRow.column_names()
COLUMNS_SQL = ", ".join(_ROW_COLUMNS)
_STAGE_TABLE_SQL = f"CREATE TABLE sync_stage.sync_rows (id INTEGER, {COLUMNS_SQL})"
_STAGE_SQL = (
    f"INSERT INTO sync_stage.sync_rows (id, {COLUMNS_SQL}) "  # noqa: S608
    f"VALUES ({', '.join('?' * (len(_ROW_COLUMNS) + 1))})"
)
_UPDATE_SQL = (
    f"UPDATE documents SET {', '.join(f'{c} = s.{c}' for c in _ROW_COLUMNS)} "  # noqa: S608
    "FROM sync_stage.sync_rows AS s "
    "WHERE s.rowid BETWEEN ? AND ? AND s.id IS NOT NULL AND documents.id = s.id"
)
_INSERT_SQL = (
    f"INSERT INTO documents ({COLUMNS_SQL}) "  # noqa: S608
    f"SELECT {COLUMNS_SQL} FROM sync_stage.sync_rows "
    "WHERE rowid BETWEEN ? AND ? AND id IS NULL ORDER BY rowid"
)
# A rewritten document's links are replaced: the old ones go before the row is updated, and
# every staged document's links are then inserted by (project, path), which the new rows'
# ids are only known by. A deleted document's links go with it (FK cascade).
# `stage_row` is the staged document's row number in sync_rows, so that a chunk of documents
# finds its links (db/batched_sync.py).
_STAGE_LINKS_TABLE_SQL = (
    "CREATE TABLE sync_stage.sync_links "
    "(file_path TEXT, kind TEXT, ref_key TEXT, position INTEGER, stage_row INTEGER)"
)
_STAGE_LINKS_SQL = (
    "INSERT INTO sync_stage.sync_links (file_path, kind, ref_key, position, stage_row) "
    "VALUES (?, ?, ?, ?, ?)"
)
_DELETE_OLD_LINKS_SQL = (
    "DELETE FROM document_links WHERE document_id IN "
    "(SELECT id FROM sync_stage.sync_rows WHERE id IS NOT NULL)"
)
_INSERT_LINKS_SQL = (
    "INSERT INTO document_links (document_id, project_id, kind, ref_key, position) "
    "SELECT d.id, d.project_id, l.kind, l.ref_key, l.position FROM sync_stage.sync_links AS l "
    "JOIN documents AS d ON d.project_id = ? AND d.file_path = l.file_path AND d.died_gen IS NULL"
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
    "UPDATE documents INDEXED BY ix_documents_unseen SET last_seen_at = NULL "
    "WHERE project_id = ? AND last_seen_at IS NOT NULL "
    "AND id NOT IN (SELECT value FROM json_each(?))"
)
_DELETE_SQL = "DELETE FROM documents WHERE id IN (SELECT value FROM json_each(?))"
# Only the stamp: title/content are not in the SET list, so the FTS trigger stays idle.
STAMP_SQL = (
    f"UPDATE documents SET {', '.join(f'{c} = ?' for c in FileStamp._fields)} "  # noqa: S608
    "WHERE id = ?"
)
_STORED_EPOCHS_SQL = (
    "SELECT count(*), coalesce(sum(parser_epoch != ?), 0) FROM documents WHERE project_id = ?"
)


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
        chunk_rows = self.count - (self._chunk_ends[-1] if self._chunk_ends else 0)
        if chunk_rows >= WRITE_CHUNK_ROWS or (
            self._chunk_chars and self._chunk_chars + chars > WRITE_CHUNK_CHARS
        ):
            self._chunk_ends.append(self.count)
            self._chunk_chars = 0
        self._chunk_chars += chars
        self._batch.append(row)
        self.count += 1
        self._batch_chars += chars
        if len(self._batch) >= STAGE_BATCH_ROWS or self._batch_chars >= STAGE_BATCH_CHARS:
            self.flush()

    def extend(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Stage each of `rows`."""
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
        """The staged rows as (first, last) rowid ranges of at most WRITE_CHUNK_ROWS rows and
        WRITE_CHUNK_CHARS each (rows are numbered from 1 in the order they were staged)."""
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
    stamps: list[tuple[Any, ...]] = field(default_factory=list)  # (*FileStamp, id): re-stamped
    deletes: list[int] = field(default_factory=list)
    unseen: list[int] = field(default_factory=list)  # kept rows whose file this sync missed

    def rows_written(self) -> int:
        """How many rows the plan writes (inserts, updates, deletes, stamps)."""
        return len(self.rows) + len(self.deletes) + len(self.stamps)


def new_plan(conn: Connection, synced_at: str) -> SyncPlan:
    """An empty plan, its scratch tables created in the scratch database of `conn`."""
    return SyncPlan(
        synced_at=synced_at,
        rows=ScratchTable(conn, _STAGE_TABLE_SQL, _STAGE_SQL),
        links=ScratchTable(conn, _STAGE_LINKS_TABLE_SQL, _STAGE_LINKS_SQL),
    )


def scratch_file(engine: Engine) -> Path | None:
    """The sync's scratch database next to the engine's file (None for an in-memory one)."""
    database = database_file(engine.url)
    return None if database is None else database.with_name(database.name + STAGE_FILE_SUFFIX)


def remove_scratch_file(engine: Engine) -> int:
    """Delete the scratch database a killed sync left behind; its size in bytes (0: none).

    A sync deletes it when it ends; after a kill -9 mid-write it stayed until the next sync
    (357 MB after a large one). Called at start-up, before any sync can use it.
    """
    scratch = scratch_file(engine)
    if scratch is None:
        return 0
    try:
        size = scratch.stat().st_size
        scratch.unlink()
    except FileNotFoundError:
        return 0
    return size


@contextmanager
def staging_connection(engine: Engine) -> Iterator[Connection]:
    """The sync's own connection, for its whole run, with the scratch database attached.

    Its COMMIT does not checkpoint the WAL: that would copy everything the sync wrote into the
    database file inside the COMMIT, which a stop has to wait for; the sync runner checkpoints
    afterwards, interruptibly. The connection is closed at the end rather than pooled: it goes
    with its page cache and index buffers (tens of MB after a large sync) and the scratch file.
    """
    scratch = scratch_file(engine)
    with engine.connect() as conn:
        try:
            dbapi_connection = driver_connection(conn)
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


@cache
def _stored_files_sql(stamp_columns: tuple[str, ...]) -> str:
    # The FileStamp columns a source does not fill are read as NULL, not from the table: the
    # rest stays within ix_documents_sync_fingerprint (with the text inline, a lookup of each
    # row would touch a page or more per document).
    stamp = ", ".join(c if c in stamp_columns else "NULL" for c in FileStamp._fields)
    return (
        f"SELECT file_path, id, file_hash, parser_epoch, {stamp} "  # noqa: S608 - constant names
        "FROM documents WHERE project_id = ?"
    )


def read_stored_files(
    conn: Connection, project_id: int, stamp_columns: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """(file_path, id, file_hash, parser_epoch, *FileStamp) of every stored document."""
    # This reads every file of every sync, changed or not: one fetchall of the driver's plain
    # tuples (SQLAlchemy's rows cost as much again: 0.35 s for 100,000 documents). One
    # statement is one consistent snapshot.
    cursor = driver_connection(conn).execute(_stored_files_sql(stamp_columns), (project_id,))
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def stored_epochs(conn: Connection, project_id: int, epoch: int) -> tuple[int, int]:
    """How many documents the project has, and how many of them another parser epoch wrote."""
    count, outdated = conn.exec_driver_sql(_STORED_EPOCHS_SQL, (epoch, project_id)).one()
    return int(count), int(outdated)


def write_plan(
    conn: Connection,
    project_id: int,
    plan: SyncPlan,
    project_values: dict[str, Any],
    *,
    documents_written: bool = False,
) -> bool:
    """Apply the plan and the project's new state inside the caller's transaction; False (and
    nothing written) when the project was deleted meanwhile. With `documents_written`, the
    plan's documents are already written (db/batched_sync.py): only the project's state."""
    exists = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
    if exists is None:
        return False
    if not documents_written:
        _write_documents(conn, project_id, plan)
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


def _write_documents(conn: Connection, project_id: int, plan: SyncPlan) -> None:
    if plan.deletes:
        conn.exec_driver_sql(_DELETE_SQL, (json.dumps(plan.deletes),))
    if plan.rows:
        conn.exec_driver_sql(_DELETE_OLD_LINKS_SQL)
    for first, last in plan.rows.chunks():
        conn.exec_driver_sql(_UPDATE_SQL, (first, last))
        conn.exec_driver_sql(_INSERT_SQL, (first, last))
    if plan.links:
        conn.exec_driver_sql(_INSERT_LINKS_SQL, (project_id,))
    if plan.stamps:
        conn.exec_driver_sql(STAMP_SQL, plan.stamps)
