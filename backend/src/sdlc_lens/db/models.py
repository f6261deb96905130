"""Table definitions. The schema itself is created by the Alembic migrations."""

import json
from dataclasses import dataclass, fields
from functools import cache
from operator import attrgetter
from typing import Any, NamedTuple, get_type_hints

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from sdlc_lens.parsing import DocumentRecord

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("sdlc_path", Text),
    Column("sync_status", String(20), nullable=False, server_default="never_synced"),
    Column("sync_error", Text),
    Column("last_synced_at", String(40)),
    Column("schema_version", Integer),
    Column("profile", String(100)),
    Column("status_vocab", Text),  # JSON {doc_type: [status tokens]} from .config.yaml
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    # Where the documents are (SPEC-3 §16): a folder (`local`) or a repository (`github`,
    # `git`); `access_token` as services/tokens.py stores it.
    Column("source_type", String(20), nullable=False, server_default="local"),
    Column("repo_url", Text),
    Column("repo_branch", String(200), nullable=False, server_default="main"),
    Column("repo_path", String(500), nullable=False, server_default="sdlc-studio"),
    Column("access_token", Text),
    Column("connection_id", Integer, index=True),  # github_connections.id, no foreign key (0006)
    Column("auto_sync", Boolean, nullable=False, server_default=text("0")),
    Column("last_synced_commit_sha", String(64)),
    # The generation of documents the project shows (0010, db/generations.py).
    Column("generation", Integer, nullable=False, server_default=text("0")),
    UniqueConstraint("slug", name="uq_projects_slug"),
    # Ids are never reused (0004): a sync or purge of a deleted project can never reach
    # a project created after it.
    sqlite_autoincrement=True,
)

# Stored GitHub connections (SPEC-3 §17, 0006): a label and a token that GitHub accepted.
github_connections = Table(
    "github_connections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(100, collation="NOCASE"), nullable=False),
    Column("login", String(100), nullable=False),
    Column("access_token", Text, nullable=False),  # as services/tokens.py stores it
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("last_validated_at", String(40)),
    UniqueConstraint("label", name="uq_github_connections_label"),
    sqlite_autoincrement=True,
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("doc_type", String(50), nullable=False),
    Column("doc_id", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(100)),
    Column("owner", Text),
    Column("priority", Text),
    Column("story_points", Integer),
    Column("epic", String(64)),
    Column("story", String(64)),
    Column("ref_id", String(64)),
    Column("depends_on", Text),
    Column("aliases", Text),
    Column("parser_epoch", Integer, nullable=False, server_default=text("0")),
    Column("file_path", Text, nullable=False),
    Column("file_hash", String(64), nullable=False),
    # Stat fingerprint: an unchanged (size, mtime_ns, ctime_ns) skips reading the file.
    Column("file_size", Integer),
    Column("file_mtime_ns", Integer),
    Column("file_ctime_ns", Integer),
    Column("blob_sha", String(64)),
    Column("synced_at", String(40), nullable=False),
    # What relationships and the checkup need, derived at sync so that no request
    # reads a document's text (0002).
    Column("archived", Boolean, nullable=False, server_default=text("0")),
    Column("content_chars", Integer, nullable=False, server_default=text("0")),  # stripped
    Column("content_epic", String(64)),  # the epic a `**Epic:**` line of the body names
    # NULL while the project's latest sync saw the file; else when a sync last saw it.
    Column("last_seen_at", String(40)),
    # The project generations the row is visible in: from born_gen, until died_gen (0010,
    # db/generations.py). A large sync writes rows of the next generation, then moves to it.
    Column("born_gen", Integer, nullable=False, server_default=text("0")),
    Column("died_gen", Integer),
    # Large values last: SQLite stores a row in column order and spills it into overflow
    # pages, so any column after `content` would cost a walk of the document's text to read.
    Column("metadata_json", Text),
    Column("content", Text, nullable=False),
    # Unique among rows not marked dead: a row a sync replaces and its replacement coexist
    # until the sync's swap.
    Index(
        "uq_documents_project_path",
        "project_id",
        "file_path",
        unique=True,
        sqlite_where=text("died_gen IS NULL"),
    ),
    # One index per list sort, ending in the (doc_id, id) tie-breaker, so ORDER BY ... LIMIT
    # walks the index instead of sorting; they also serve the type/status filters and stats.
    Index("ix_documents_project_synced", "project_id", "synced_at", "doc_id", "id"),
    Index("ix_documents_project_title", "project_id", "title", "doc_id", "id"),
    # ... and with the generations, so that a search of a common word, which walks it, stays
    # within it (services/search).
    Index(
        "ix_documents_project_type",
        "project_id",
        "doc_type",
        "doc_id",
        "id",
        "born_gen",
        "died_gen",
    ),
    Index("ix_documents_project_status", "project_id", "status", "doc_id", "id"),
    # Covers the grouped stats query (counts by type and status) without touching rows.
    Index(
        "ix_documents_project_type_status",
        "project_id",
        "doc_type",
        "status",
        "born_gen",
        "died_gen",
    ),
    # What a sync cut short left behind, found without a scan (db/generations.py).
    Index("ix_documents_born", "project_id", "born_gen"),
    Index(
        "ix_documents_dying", "project_id", "died_gen", sqlite_where=text("died_gen IS NOT NULL")
    ),
    Index("ix_documents_ref_id", "ref_id"),
    # Covers the sync's read of every stored file's fingerprint: with the text inline, a
    # lookup of each row would touch a page (or more) per document.
    Index(
        "ix_documents_sync_fingerprint",
        "project_id",
        "file_path",
        "id",
        "file_hash",
        "file_size",
        "file_mtime_ns",
        "file_ctime_ns",
        "parser_epoch",
        "blob_sha",  # a repository's stamp (0007)
    ),
    Index(
        "ix_documents_unseen",
        "project_id",
        sqlite_where=text("last_seen_at IS NOT NULL"),
    ),
)

# Every reference key of a document (kinds: parsing.LinkKind), written by the sync with the
# document, so `/related` resolves references through one index whatever the project size.
document_links = Table(
    "document_links",
    metadata,
    # The key's columns first: SQLite 3.40's integrity_check misreads a WITHOUT ROWID
    # table's columns that follow a non-key column (0005).
    Column(
        "document_id",
        Integer,
        ForeignKey("documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(20), primary_key=True),
    Column("position", Integer, primary_key=True),  # order within the field (depends on)
    Column("project_id", Integer, nullable=False),
    Column("ref_key", String(64), nullable=False),  # a normalised id (`EP0001`)
    Index("ix_document_links_key", "project_id", "kind", "ref_key"),
    sqlite_with_rowid=False,
)


class FileStamp(NamedTuple):
    """What tells, without reading a file, that it has not changed since it was stored.

    A folder's stat fingerprint (size, mtime, ctime), or a repository's blob id: each source
    fills the fields it has and leaves the others None. Stored in the columns of these names.
    """

    file_size: int | None = None
    file_mtime_ns: int | None = None
    file_ctime_ns: int | None = None
    blob_sha: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One `documents` row as a sync writes it: the parsed document, and the file it was read from.

    Its columns are DocumentRecord's fields (parsing/document.py: the one definition of what
    a document says; `metadata` is stored as JSON in `metadata_json`), then the file's path,
    hash and stamp and the sync's bookkeeping. The sync's SQL lists its columns from
    `column_names()` and its values from `values()`, so a new field of the record is a new
    column here with no other change, and no two values are matched up by position alone.
    A test checks these columns against the table and the projections that read them.
    """

    project_id: int
    file_path: str
    record: DocumentRecord
    file_hash: str  # SHA-256 of the file's bytes
    stamp: FileStamp
    parser_epoch: int
    synced_at: str
    last_seen_at: str | None = None  # NULL: seen by the latest sync (which wrote it)

    @classmethod
    def column_names(cls) -> tuple[str, ...]:
        """The columns, in the order `values()` returns them."""
        return tuple(document_columns())

    def values(self) -> tuple[Any, ...]:
        """The column values, in the order of `column_names()`."""
        record = self.record
        metadata = json.dumps(record.metadata, ensure_ascii=False) if record.metadata else None
        return (
            self.project_id,
            self.file_path,
            *_record_values()(record),
            self.file_hash,
            *self.stamp,
            self.parser_epoch,
            self.synced_at,
            self.last_seen_at,
            metadata,
            record.content,
        )


# The record's fields stored as they are; its metadata (as JSON) and content come last, like
# in the table: a large value before a column would cost a walk of its pages to read that.
_RECORD_COLUMNS = tuple(
    f.name for f in fields(DocumentRecord) if f.name not in ("metadata", "content")
)


@cache
def document_columns() -> dict[str, object]:
    """Every column a sync writes, in the order of `DocumentRow.values()`, with its type."""
    record = get_type_hints(DocumentRecord)
    row = get_type_hints(DocumentRow)
    return {
        "project_id": row["project_id"],
        "file_path": row["file_path"],
        **{name: record[name] for name in _RECORD_COLUMNS},
        "file_hash": row["file_hash"],
        **get_type_hints(FileStamp),
        **{name: row[name] for name in ("parser_epoch", "synced_at", "last_seen_at")},
        "metadata_json": str | None,
        "content": record["content"],
    }


@cache
def _record_values() -> "attrgetter[tuple[Any, ...]]":
    # One C-level getter for the record's fields: a sync builds thousands of rows.
    return attrgetter(*_RECORD_COLUMNS)
