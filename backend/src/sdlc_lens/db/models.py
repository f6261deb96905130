"""Table definitions. The schema itself is created by the Alembic migrations."""

from dataclasses import dataclass, fields
from functools import cache
from operator import attrgetter
from typing import Any

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
    # GitHub-sourced projects are a later epic; the columns exist so responses carry defaults.
    Column("source_type", String(20), nullable=False, server_default="local"),
    Column("repo_url", Text),
    Column("repo_branch", String(200), nullable=False, server_default="main"),
    Column("repo_path", String(500), nullable=False, server_default="sdlc-studio"),
    Column("access_token", Text),
    Column("connection_id", Integer),
    Column("auto_sync", Boolean, nullable=False, server_default=text("0")),
    Column("last_synced_commit_sha", String(64)),
    UniqueConstraint("slug", name="uq_projects_slug"),
    # Ids are never reused (0004): a sync or purge of a deleted project can never reach
    # a project created after it.
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
    # What relationships and the health check need, derived at sync so that no request
    # reads a document's text (0002).
    Column("archived", Boolean, nullable=False, server_default=text("0")),
    Column("content_chars", Integer, nullable=False, server_default=text("0")),  # stripped
    Column("content_epic", String(64)),  # the epic a `**Epic:**` line of the body names
    # NULL while the project's latest sync saw the file; else when a sync last saw it.
    Column("last_seen_at", String(40)),
    # Large values last: SQLite stores a row in column order and spills it into overflow
    # pages, so any column after `content` would cost a walk of the document's text to read.
    Column("metadata_json", Text),
    Column("content", Text, nullable=False),
    UniqueConstraint("project_id", "file_path", name="uq_documents_project_path"),
    # One index per list sort, ending in the (doc_id, id) tie-breaker, so ORDER BY ... LIMIT
    # walks the index instead of sorting; they also serve the type/status filters and stats.
    Index("ix_documents_project_synced", "project_id", "synced_at", "doc_id", "id"),
    Index("ix_documents_project_title", "project_id", "title", "doc_id", "id"),
    Index("ix_documents_project_type", "project_id", "doc_type", "doc_id", "id"),
    Index("ix_documents_project_status", "project_id", "status", "doc_id", "id"),
    # Covers the grouped stats query (counts by type and status) without touching rows.
    Index("ix_documents_project_type_status", "project_id", "doc_type", "status"),
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


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One `documents` row as a sync writes it; each field is named after its column.

    The sync's SQL lists its columns from these fields and its values from an instance, so a
    new column is one field here, and no two values can be matched up by position alone.
    """

    project_id: int
    file_path: str
    doc_type: str
    doc_id: str
    title: str
    status: str | None
    owner: str | None
    priority: str | None
    story_points: int | None
    epic: str | None
    story: str | None
    ref_id: str | None
    depends_on: str | None
    aliases: str | None
    metadata_json: str | None
    content: str
    file_hash: str
    file_size: int
    file_mtime_ns: int | None
    file_ctime_ns: int
    parser_epoch: int
    synced_at: str
    archived: bool
    content_chars: int
    content_epic: str | None
    last_seen_at: None  # a row the sync writes was seen by that sync

    @classmethod
    def column_names(cls) -> tuple[str, ...]:
        """The columns, in the order `values()` returns them."""
        return tuple(f.name for f in fields(cls))

    def values(self) -> tuple[Any, ...]:
        """The column values, in the order of `column_names()`."""
        return _row_getter()(self)


@cache
def _row_getter() -> "attrgetter[tuple[Any, ...]]":
    # One C-level getter for all fields: a sync builds thousands of rows.
    return attrgetter(*DocumentRow.column_names())
