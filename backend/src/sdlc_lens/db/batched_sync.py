"""A large sync's writes, in short transactions no reader can see the effect of, then a swap.

A sync that writes more than WRITE_CHUNK_ROWS rows would hold SQLite's write lock for as
long as it takes to write all of them and their search-index entries (14 s at 100,000
documents), and every other writer (a project edit, another project's sync) would wait that
long or fail. Instead, with the project at generation g (db/generations.py):

1. `write_in_batches`: each chunk of staged rows goes in its own transaction. New and
   changed documents are inserted with `born_gen = g + 1`, the rows they replace and the
   rows of deleted files are marked `died_gen = g + 1`: readers still see generation g
   exactly. Their links go with them; refreshed stamps are written too (a stamp only says
   that a file hashes as stored, which holds whatever the sync's outcome).
2. The caller's swap transaction (services/sync/engine.py) writes the project's new state
   with `generation = g + 1`: one row, so readers see the old set before it and the new set
   after it, never a mix.
3. `remove_dead_rows`, after the swap: the rows of generation g that g + 1 no longer shows
   are deleted, in batches.

A sync that fails, is stopped or dies between batches leaves rows no generation shows; the
next sync of the project removes them first (`clear_leftovers`), and a deleted project's
purge removes them with the rest of its rows.
"""

import json
from collections.abc import Callable

from sqlalchemy import Connection

from sdlc_lens.db.engine import begin_immediate, stop_when
from sdlc_lens.db.generations import generation_sql
from sdlc_lens.db.lock_sharing import LockSharing
from sdlc_lens.db.staging import COLUMNS_SQL, STAMP_SQL, WRITE_CHUNK_ROWS, SyncPlan
from sdlc_lens.db.versions import Changes
from sdlc_lens.errors import ProjectGoneError

# What the batches change for readers: nothing (the narrowest scope the answer cache knows).
NOTHING_SHOWN: Changes = ()

_GENERATION = generation_sql("?")
_PROJECT_GENERATION_SQL = "SELECT generation FROM projects WHERE id = ?"

# Batch statements: each touches at most WRITE_CHUNK_ROWS rows of one project.
_MARK_REPLACED_SQL = (
    "UPDATE documents SET died_gen = ? WHERE id IN "
    "(SELECT id FROM sync_stage.sync_rows WHERE rowid BETWEEN ? AND ? AND id IS NOT NULL)"
)
_INSERT_NEXT_SQL = (
    f"INSERT INTO documents ({COLUMNS_SQL}, born_gen) "  # noqa: S608 - constant names
    f"SELECT {COLUMNS_SQL}, ? FROM sync_stage.sync_rows "
    "WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
)
_STAGE_LINKS_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS sync_stage.ix_sync_links_row ON sync_links (stage_row)"
)
_INSERT_NEXT_LINKS_SQL = (
    "INSERT INTO document_links (document_id, project_id, kind, ref_key, position) "
    "SELECT d.id, d.project_id, l.kind, l.ref_key, l.position FROM sync_stage.sync_links AS l "
    "JOIN documents AS d ON d.project_id = ? AND d.file_path = l.file_path "
    "AND d.died_gen IS NULL WHERE l.stage_row BETWEEN ? AND ?"
)
_MARK_DELETED_SQL = (
    "UPDATE documents SET died_gen = ? WHERE project_id = ? "
    "AND id IN (SELECT value FROM json_each(?))"
)
# Leftovers, found through ix_documents_born and ix_documents_dying.
_LEFTOVERS_SQL = (
    f"SELECT EXISTS (SELECT 1 FROM documents WHERE project_id = ? AND born_gen > {_GENERATION}) "  # noqa: S608
    "OR EXISTS (SELECT 1 FROM documents WHERE project_id = ? AND died_gen IS NOT NULL)"
)
_DELETE_UNBORN_SQL = (
    "DELETE FROM documents WHERE id IN (SELECT id FROM documents "  # noqa: S608
    f"WHERE project_id = ? AND born_gen > {_GENERATION} LIMIT ?)"
)
_UNMARK_DYING_SQL = (
    "UPDATE documents SET died_gen = NULL WHERE id IN (SELECT id FROM documents "  # noqa: S608
    f"WHERE project_id = ? AND died_gen > {_GENERATION} LIMIT ?)"
)
_DELETE_DEAD_SQL = (
    "DELETE FROM documents WHERE id IN (SELECT id FROM documents "  # noqa: S608
    f"WHERE project_id = ? AND died_gen <= {_GENERATION} LIMIT ?)"
)


def is_large(plan: SyncPlan) -> bool:
    """Whether the plan writes more rows than one short transaction may."""
    return plan.rows_written() > WRITE_CHUNK_ROWS


def project_generation(conn: Connection, project_id: int) -> int | None:
    """The project's current generation; None when it is gone."""
    value = conn.exec_driver_sql(_PROJECT_GENERATION_SQL, (project_id,)).scalar()
    return None if value is None else int(value)


def write_in_batches(
    conn: Connection,
    project_id: int,
    plan: SyncPlan,
    should_stop: Callable[[], bool],
    sharing: LockSharing,
) -> int:
    """Write the plan as rows of the project's next generation, one short transaction per
    chunk; the generation written. Raises ProjectGoneError when the project was deleted meanwhile;
    a stop interrupts a batch (SQLITE_INTERRUPT) or is raised by `should_stop` between them.
    Between batches, other writers get the lock when they need it (`sharing`).
    """
    generation = project_generation(conn, project_id)
    conn.rollback()
    if generation is None:
        raise ProjectGoneError
    following = generation + 1
    if plan.links:
        conn.exec_driver_sql(_STAGE_LINKS_INDEX_SQL)
        conn.commit()

    def batch(statements: list[tuple[str, tuple[object, ...]]]) -> None:
        with (
            sharing.turn(),
            begin_immediate(conn, changes=NOTHING_SHOWN),
            stop_when(conn, should_stop),
        ):
            if project_generation(conn, project_id) != generation:
                raise ProjectGoneError
            for sql, parameters in statements:
                conn.exec_driver_sql(sql, parameters)

    for first, last in plan.rows.chunks():
        batch(
            [
                (_MARK_REPLACED_SQL, (following, first, last)),
                (_INSERT_NEXT_SQL, (following, first, last)),
                (_INSERT_NEXT_LINKS_SQL, (project_id, first, last)),
            ]
        )
    for start in range(0, len(plan.deletes), WRITE_CHUNK_ROWS):
        ids = json.dumps(plan.deletes[start : start + WRITE_CHUNK_ROWS])
        batch([(_MARK_DELETED_SQL, (following, project_id, ids))])
    for start in range(0, len(plan.stamps), WRITE_CHUNK_ROWS):
        with (
            sharing.turn(),
            begin_immediate(conn, changes=NOTHING_SHOWN),
            stop_when(conn, should_stop),
        ):
            conn.exec_driver_sql(STAMP_SQL, plan.stamps[start : start + WRITE_CHUNK_ROWS])
    plan.stamps.clear()  # written
    return following


def clear_leftovers(conn: Connection, project_id: int, should_stop: Callable[[], bool]) -> int:
    """Remove what a sync cut short left (rows of a generation never reached, marks on rows
    it would have replaced) and dead rows not yet deleted, in batches; how many rows."""
    found = conn.exec_driver_sql(_LEFTOVERS_SQL, (project_id, project_id, project_id)).scalar()
    conn.rollback()
    if not found:
        return 0
    # Unborn rows first: the rows they would replace may only be un-marked once they are gone
    # (one live row per path).
    sharing = LockSharing(conn.engine)
    return sum(
        _repeat(conn, sql, project_id, should_stop, sharing)
        for sql in (_DELETE_UNBORN_SQL, _UNMARK_DYING_SQL, _DELETE_DEAD_SQL)
    )


def remove_dead_rows(
    conn: Connection, project_id: int, should_stop: Callable[[], bool], sharing: LockSharing
) -> int:
    """Delete the rows the project's generation no longer shows, in batches; how many."""
    return _repeat(conn, _DELETE_DEAD_SQL, project_id, should_stop, sharing)


def _repeat(
    conn: Connection,
    sql: str,
    project_id: int,
    should_stop: Callable[[], bool],
    sharing: LockSharing,
) -> int:
    """Run a batch statement until it changes fewer rows than a batch (or a stop)."""
    total = 0
    while not should_stop():
        with (
            sharing.turn(),
            begin_immediate(conn, changes=NOTHING_SHOWN),
            stop_when(conn, should_stop),
        ):
            changed = conn.exec_driver_sql(sql, (project_id, project_id, WRITE_CHUNK_ROWS)).rowcount
        total += changed
        if changed < WRITE_CHUNK_ROWS:
            break
    return total
