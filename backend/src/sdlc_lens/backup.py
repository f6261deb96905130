"""`python -m sdlc_lens.backup DEST`: a consistent copy of the database, taken while it serves.

    docker compose exec backend python -m sdlc_lens.backup /data/db/backup-2026-03-02.db

SQLite's online backup API copies the database (SDLC_LENS_DATABASE_URL) in one step, from
one read snapshot: the copy is the database as it was at one instant, a sync that commits
meanwhile is in it entirely or not at all. In WAL mode a reader never blocks writers, so the
service keeps serving and syncing throughout. A backup in several small steps would not be
better here: SQLite restarts a stepped backup whenever another connection writes, so it could
run for as long as syncs keep coming (measured figures: docs/operations.md).

The copy is written under a temporary name in DEST's folder, switched out of WAL mode (one
self-contained file), checked (`PRAGMA quick_check`), then given its name with a hard link,
which never replaces an existing file. It prints one line: the path, the size and the schema
revision. Errors: one line on stderr and exit 1.
"""

import contextlib
import os
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote

from sdlc_lens.config import Settings, sqlite_database_path
from sdlc_lens.db.engine import BUSY_TIMEOUT_MS

EXIT_FAILED = 1


class BackupError(Exception):
    """The backup was not made; the message says why, for the operator."""


def backup_database(source: Path, destination: Path) -> int:
    """Copy the SQLite database `source` to the new file `destination`; its size in bytes."""
    if destination.exists() or destination.is_symlink():
        raise BackupError(f"{destination} already exists; a backup never replaces a file")
    if not destination.parent.is_dir():
        raise BackupError(f"the folder {destination.parent} does not exist")
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        _copy(source, partial)
        _give_name(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination.stat().st_size


def _copy(source: Path, target: Path) -> None:
    # mode=rw: never create a database where there was none.
    reader = sqlite3.connect(f"file:{quote(str(source))}?mode=rw", uri=True)
    try:
        reader.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        copy = sqlite3.connect(target)
        try:
            reader.backup(copy)  # pages=-1: the whole database from one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # no -wal file to carry along
            problems = check_problems(copy)
            if problems:
                raise BackupError(
                    f"the copy failed its check, so the database is damaged: "
                    f"{'; '.join(problems[:3])}"
                )
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {source}: {exc}") from None
    finally:
        reader.close()
    with target.open("rb") as written:
        os.fsync(written.fileno())


def check_problems(db: sqlite3.Connection) -> list[str]:
    """What `PRAGMA quick_check` finds wrong with a database (the structure of every page and
    index, NOT NULL columns), empty when all is well."""
    lines = [line for (row,) in db.execute("PRAGMA quick_check(100)") for line in row.splitlines()]
    return [line for line in lines if line != "ok"]


def _give_name(partial: Path, destination: Path) -> None:
    try:
        os.link(partial, destination)  # fails, rather than replaces, if the name was taken
    except FileExistsError:
        raise BackupError(f"{destination} already exists; a backup never replaces a file") from None
    except OSError:  # a file system without hard links: check, then rename
        if destination.exists():
            raise BackupError(f"{destination} already exists") from None
        partial.rename(destination)
    folder = os.open(destination.parent, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # not every file system syncs a folder
            os.fsync(folder)
    finally:
        os.close(folder)


def schema_revision(database: Path) -> str | None:
    """The Alembic revision a database file is at (None: never migrated)."""
    with contextlib.closing(
        sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True)
    ) as db:
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
    return None if row is None else str(row[0])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m sdlc_lens.backup DEST  (a new file, e.g. "
              "/data/db/backup-2026-03-02.db)", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    destination = Path(args[0]).absolute()
    try:
        source = sqlite_database_path(Settings().database_url)
        if source is None:
            raise BackupError("the database is in memory; there is nothing to back up")
        size = backup_database(source, destination)
    except (BackupError, ValueError, OSError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    revision = schema_revision(destination)
    print(f"backup written: {destination} ({size:,} bytes, schema {revision})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
