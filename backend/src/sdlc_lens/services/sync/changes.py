"""What changed since the last sync: entries skipped by their stamp, the rest read, hashed and
parsed into the plan, and stored documents whose file is gone marked for deletion."""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sdlc_lens.db.models import DocumentRow, FileStamp
from sdlc_lens.db.staging import SyncPlan, new_plan, read_stored_files
from sdlc_lens.errors import RefusedFileError, SyncCancelledError
from sdlc_lens.parsing import StatusVocabulary, build_document
from sdlc_lens.services.sources.source import MARKDOWN_SIZE_LIMIT, Listing, Source
from sdlc_lens.services.sync.context import PARSER_EPOCH, SyncContext, cannot_read, logger
from sdlc_lens.timeutil import utc_now

# What the database knows about one file of the project: (file_path, id, file_hash,
# parser_epoch, *FileStamp), the FileStamp columns the source does not fill as None. A plain
# tuple as read: a sync holds one per stored file (100,000 named tuples took 0.2-0.4 s to
# build), and most are only compared with the file's stamp.
type StoredRow = tuple[Any, ...]
_STAMP = slice(4, None)  # the row's FileStamp


class StoredFile(NamedTuple):
    """One stored file of the project that this sync has to look at."""

    id: int
    file_hash: str
    parser_epoch: int
    stamp: tuple[Any, ...]

    @classmethod
    def of(cls, row: StoredRow) -> "StoredFile":
        """The StoredFile of a stored row."""
        return cls(row[1], row[2], row[3], row[_STAMP])


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """The project's settings for this sync, from its settings files or as stored."""

    schema_version: int | None
    profile: str | None
    vocabulary: StatusVocabulary  # the built-in status tokens and the project's own
    vocab_json: str | None  # as stored
    reparse_all: bool  # the vocabulary changed: canonical statuses may change everywhere


@dataclass(frozen=True, slots=True)
class _ChangedFile:
    """A file whose stamp does not match what is stored: it has to be read."""

    rel_path: str
    stamp: FileStamp
    known: StoredFile | None  # the stored row at this path, if any
    current: bool  # the stored row was parsed by this parser with this vocabulary


def stored_files(ctx: SyncContext, source: Source) -> dict[str, StoredRow]:
    """Every stored document of the project, by path, with the stamp `source` compares."""
    rows = read_stored_files(ctx.conn, ctx.project_id, source.stamp_columns)
    return {row[0]: row for row in rows}


def plan_changes(
    ctx: SyncContext,
    source: Source,
    listing: Listing,
    stored: dict[str, StoredRow],
    settings: ProjectSettings,
) -> SyncPlan:
    """Read, hash and parse what changed into a plan; count what happened in `ctx.result`.

    A file whose stamp matches the stored one is not even opened; one that is opened but
    hashes the same only gets its stamp refreshed.
    """
    result = ctx.result
    plan = new_plan(ctx.conn, utc_now())
    debug = logger.isEnabledFor(logging.DEBUG)  # one check, not one call per unchanged file
    same = _words(source.stamp_columns)
    to_read: list[_ChangedFile] = []
    reparse_all = settings.reparse_all
    unchanged = 0
    for rel_path, stamp in listing.files.items():  # once per file: kept lean
        row = stored.get(rel_path)
        if row is None:
            to_read.append(_ChangedFile(rel_path, stamp, None, current=False))
            continue
        current = row[3] == PARSER_EPOCH and not reparse_all
        if current and row[_STAMP] == stamp:
            unchanged += 1
            if debug:
                logger.debug("sync of %s: %r unchanged (same %s)", ctx.slug, rel_path, same)
        else:
            to_read.append(_ChangedFile(rel_path, stamp, StoredFile.of(row), current))
    result.unchanged += unchanged
    ctx.request.progress.start_parsing(len(to_read))

    for changed in to_read:
        if ctx.should_stop():
            raise SyncCancelledError
        _plan_file(ctx, source, changed, plan, settings.vocabulary)
        ctx.request.progress.file_done()

    listed = listing.files
    for rel_path, row in stored.items():
        if rel_path in listed:
            continue
        if rel_path in listing.problems or _under_any(rel_path, listing.unreadable_dirs):
            plan.unseen.append(row[1])  # kept, but not seen
        else:
            plan.deletes.append(row[1])
            logger.debug("sync of %s: %r deleted (no longer in the folder)", ctx.slug, rel_path)
    result.deleted = len(plan.deletes)
    return plan


def _plan_file(
    ctx: SyncContext,
    source: Source,
    changed: _ChangedFile,
    plan: SyncPlan,
    vocabulary: StatusVocabulary,
) -> None:
    """Read one new or changed file and add what it needs to the plan."""
    rel_path, known, result = changed.rel_path, changed.known, ctx.result
    try:
        data = source.read(rel_path, MARKDOWN_SIZE_LIMIT)
    except RefusedFileError as exc:
        ctx.file_failed(rel_path, exc.reason)
        plan.unseen.extend(() if known is None else (known.id,))
        return
    except OSError as exc:
        ctx.file_failed(rel_path, cannot_read(exc))
        plan.unseen.extend(() if known is None else (known.id,))
        return
    # Reading, hashing and parsing a 64 MiB file each take up to about a second: a stop is
    # looked for between them too, not only between files.
    if ctx.should_stop():
        raise SyncCancelledError
    digest = hashlib.sha256(data).hexdigest()
    if ctx.should_stop():
        raise SyncCancelledError
    stamp = source.stamp_to_store(changed.stamp)
    if changed.current and known is not None and known.file_hash == digest:
        result.unchanged += 1
        plan.stamps.append((*stamp, known.id))
        logger.debug("sync of %s: %r unchanged (same SHA-256)", ctx.slug, rel_path)
        return
    text = _decode(data)
    if text is None:
        ctx.file_failed(rel_path, "is not UTF-8 text")
        plan.unseen.extend(() if known is None else (known.id,))
        return
    record = build_document(rel_path, text, vocabulary)
    if record is None:
        logger.debug("sync of %s: %r skipped (not a document)", ctx.slug, rel_path)
        return
    row = DocumentRow(ctx.project_id, rel_path, record, digest, stamp, PARSER_EPOCH, plan.synced_at)
    plan.rows.append((None if known is None else known.id, *row.values()))
    staged = plan.rows.count  # the row number of the row just staged
    plan.links.extend((rel_path, kind.value, key, pos, staged) for kind, key, pos in record.links())
    if known is None:
        result.added += 1
    else:
        result.updated += 1
    logger.debug(
        "sync of %s: %r parsed (%s)", ctx.slug, rel_path, "added" if known is None else "updated"
    )


# How the log names each stamp column: `unchanged (same size, mtime and ctime)`.
_STAMP_WORDS = {
    "file_size": "size",
    "file_mtime_ns": "mtime",
    "file_ctime_ns": "ctime",
    "blob_sha": "blob id",
}


def _words(columns: Sequence[str]) -> str:
    words = [_STAMP_WORDS[column] for column in columns]
    return " and ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def _decode(data: bytes) -> str | None:
    """UTF-8 text without its BOM, or None for anything else (including binary with NULs)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _under_any(rel_path: str, folders: Sequence[str]) -> bool:
    return any(folder == "" or rel_path.startswith(f"{folder}/") for folder in folders)
