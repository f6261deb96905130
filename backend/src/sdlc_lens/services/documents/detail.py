"""One document in full (SPEC §10), as the JSON bytes of the answer: whole for a normal
document, streamed in chunks for a large one.

A 60 MB document used to be read whole, decoded and encoded per request (three copies),
and a client that never read its answer kept all of them: 35 such clients took 1.5 GB. Now
a document whose text is over INLINE_CONTENT_BYTES is answered in pieces: the JSON before
`content`, then the text read from SQLite CONTENT_CHUNK_BYTES at a time (incremental blob
I/O, which reads only the pages it needs) and JSON-escaped piece by piece, then the JSON after
it. The bytes are the same as the whole answer's, escaping being per character; a piece
ending inside a UTF-8 sequence keeps the rest of it for the next. The server sends the next
piece only when the client has taken the last (Uvicorn's flow control), so a client that
stops reading costs one piece and the socket's buffer, until the protocol drops it.

Each piece is read in a short transaction of its own, which first checks that the row still
holds the text the answer began with: a stream never holds a read snapshot open (that would
keep the WAL from being reset for as long as a slow client likes). A document that a sync
rewrites meanwhile ends the answer early (DocumentChangedError; the connection is closed),
never mixing two versions.
"""

import codecs
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Engine, select

from sdlc_lens.db.engine import driver_connection, row_dict
from sdlc_lens.db.generations import visible_in_project
from sdlc_lens.db.models import documents
from sdlc_lens.errors import DocumentChangedError, NotFoundError
from sdlc_lens.services.documents.browse import (
    DETAIL_FIELDS,
    DOCUMENT_NOT_FOUND,
    PREFERRED_COPY_COLUMNS,
    served_columns,
)
from sdlc_lens.services.projects.registry import project_id_for

logger = logging.getLogger(__name__)

# Text up to this size (UTF-8 bytes) is answered in one piece with a Content-Length; a larger
# one is streamed (chunked transfer encoding).
INLINE_CONTENT_BYTES = 1024 * 1024
# How much text one piece of a streamed answer reads; escaping at most doubles it (a run of
# control characters, `\u0001`, sixfold).
CONTENT_CHUNK_BYTES = 64 * 1024

_CONTENT = DETAIL_FIELDS.index("content")
_BEFORE, _AFTER = DETAIL_FIELDS[:_CONTENT], DETAIL_FIELDS[_CONTENT + 1 :]
_HEAD_COLUMNS = served_columns(_BEFORE + _AFTER)
# What identifies the text an answer began with.
_VERSION_SQL = "SELECT file_hash, parser_epoch FROM documents WHERE id = ?"


@dataclass(frozen=True, slots=True)
class DocumentAnswer:
    """The JSON of one document: `whole`, or `chunks()` yielding it piece by piece."""

    whole: bytes | None = None
    chunks: Callable[[], Iterator[bytes]] | None = None


def document_answer(
    engine: Engine,
    slug: str,
    doc_type: str,
    doc_id: str,
    *,
    inline_bytes: int = INLINE_CONTENT_BYTES,
    chunk_bytes: int = CONTENT_CHUNK_BYTES,
) -> DocumentAnswer:
    """One document with its whole content; 404 for an unknown project, type or id.

    A project may hold the same (type, id) twice, e.g. a copy under `archive/`: the preferred
    copy (PREFERRED_COPY_COLUMNS) is the document. Reads everything but the text here; the
    text now if it is small, else while the answer is sent.
    """
    with engine.connect() as conn:
        project_id = project_id_for(conn, slug)
        row = conn.execute(
            select(documents.c.id, documents.c.parser_epoch, *_HEAD_COLUMNS)
            .where(
                documents.c.project_id == project_id,
                visible_in_project(project_id),
                documents.c.doc_type == doc_type,
                documents.c.doc_id == doc_id,
            )
            .order_by(*(documents.c[column] for column in PREFERRED_COPY_COLUMNS))
            .limit(1)
        ).first()
        if row is None:
            raise NotFoundError(DOCUMENT_NOT_FOUND)
        data = row_dict(row)
        row_id, epoch = data.pop("id"), data.pop("parser_epoch")
        data["metadata"] = _metadata(data["metadata"], data["file_path"])
        with driver_connection(conn).blobopen(
            "documents", "content", row_id, readonly=True
        ) as blob:
            size = len(blob)
            if size <= inline_bytes:
                data["content"] = blob.read().decode("utf-8")
                return DocumentAnswer(whole=to_json({key: data[key] for key in DETAIL_FIELDS}))
    head = to_json({key: data[key] for key in _BEFORE})[:-1] + b',"content":"'
    tail = b'",' + to_json({key: data[key] for key in _AFTER})[1:]
    text = _TextReader(engine, row_id, (data["file_hash"], epoch), size, chunk_bytes)
    return DocumentAnswer(chunks=lambda: _pieces(head, text, tail))


def _pieces(head: bytes, text: "_TextReader", tail: bytes) -> Iterator[bytes]:
    yield head
    for piece in text:
        yield to_json(piece)[1:-1]  # the JSON string's inside: escaped, without its quotes
    yield tail


@dataclass(frozen=True, slots=True)
class _TextReader:
    """A stored document's text, read and decoded a piece at a time."""

    engine: Engine
    row_id: int
    version: tuple[str, int]  # (file_hash, parser_epoch) of the text being sent
    size: int
    chunk_bytes: int

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        while offset < self.size:
            piece = self._read(offset)
            offset += len(piece)
            text = decoder.decode(piece, final=offset >= self.size)
            if text:
                yield text

    def _read(self, offset: int) -> bytes:
        with self.engine.connect() as conn:
            found = conn.exec_driver_sql(_VERSION_SQL, (self.row_id,)).first()
            dbapi_connection = driver_connection(conn)
            if found is not None and tuple(found) == self.version:
                with dbapi_connection.blobopen(
                    "documents", "content", self.row_id, readonly=True
                ) as blob:
                    if len(blob) == self.size:
                        blob.seek(offset)
                        return blob.read(self.chunk_bytes)
        logger.warning("document %d changed while it was being sent; answer cut off", self.row_id)
        raise DocumentChangedError(self.row_id)


def _metadata(raw: str | None, file_path: str) -> dict[str, Any] | None:
    """The stored metadata object, or None when there is none (or it is unreadable)."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        # Written by the sync as JSON; a damaged value must not turn the page into a 500.
        logger.warning("unreadable metadata for %r; returned as null", file_path)
        return None
    return value if isinstance(value, dict) and value else None
