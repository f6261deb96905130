"""A large document's answer is streamed, with the very bytes of the whole answer; HEAD never
reads its text; a document rewritten mid-answer cuts the answer off rather than mix versions."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic_core import to_json

from sdlc_lens.errors import DocumentChangedError
from sdlc_lens.services.documents import detail
from sdlc_lens.services.documents.browse import DETAIL_FIELDS, SERVED_AS
from tests.helpers import recorded_statements, synced_project

# Characters whose escaping or encoding differs: quotes, backslashes, control characters,
# 2-, 3- and 4-byte UTF-8, a line separator and a DEL that JSON leaves alone.
TRICKY = 'plain "quoted" back\\slash tab\t nl\n ctl\x01\x1f é ß € 日本 😀 \u2028 \x7f end.'
BIG = TRICKY * 30_000  # 2.5 MB of text: over the 1 MiB the answer holds in one piece
DOC = "/api/v1/projects/{slug}/documents/story/US0001-big"


def expected_answer(client: TestClient, slug: str) -> bytes:
    """The whole answer as it was always built: the stored row, in the contract's field
    order, `metadata` decoded, encoded at once."""
    columns = ", ".join(f"d.{SERVED_AS.get(name, name)}" for name in DETAIL_FIELDS)
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        row = conn.exec_driver_sql(
            f"SELECT {columns} FROM documents AS d JOIN projects AS p ON p.id = d.project_id "
            "WHERE p.slug = ? AND d.doc_id = 'US0001-big'",
            (slug,),
        ).one()
    data: dict[str, Any] = dict(zip(DETAIL_FIELDS, row, strict=True))
    data["metadata"] = json.loads(data["metadata"]) if data["metadata"] else None
    return to_json(data)


@pytest.fixture
def big(client: TestClient, tmp_path: Path) -> str:
    text = f'# US0001: Big\n\n> **Status:** Draft\n> **Owner:** Ann "A" Ñ\n\n{BIG}\n'
    return synced_project(client, tmp_path, "big", {"stories/US0001-big.md": text})


def test_a_large_document_is_streamed_with_the_bytes_of_the_whole_answer(
    client: TestClient, big: str
) -> None:
    response = client.get(DOC.format(slug=big))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "content-length" not in response.headers  # streamed: chunked
    assert response.content == expected_answer(client, big)
    assert json.loads(response.content)["content"].startswith(TRICKY)


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 7, 64, 4096])
def test_pieces_split_anywhere_join_to_the_whole_answer(
    client: TestClient, tmp_path: Path, chunk_bytes: int
) -> None:
    # Pieces end inside UTF-8 sequences and escapes of every kind.
    files = {"stories/US0001-big.md": f"# US0001: Small\n\n{TRICKY * 3}\n"}
    slug = synced_project(client, tmp_path, f"small-{chunk_bytes}", files)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    whole = detail.document_answer(engine, slug, "story", "US0001-big").whole
    streamed = detail.document_answer(
        engine, slug, "story", "US0001-big", inline_bytes=0, chunk_bytes=chunk_bytes
    )
    assert whole == expected_answer(client, slug)
    assert streamed.chunks is not None
    assert b"".join(streamed.chunks()) == whole


def test_a_normal_document_keeps_its_whole_answer_and_length(
    client: TestClient, tmp_path: Path
) -> None:
    files = {"stories/US0001-big.md": f"# US0001: Normal\n\n{TRICKY}\n"}
    slug = synced_project(client, tmp_path, "normal", files)
    response = client.get(DOC.format(slug=slug))
    assert response.content == expected_answer(client, slug)
    assert response.headers["content-length"] == str(len(response.content))


def test_head_of_a_large_document_never_reads_its_text(client: TestClient, big: str) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with recorded_statements(engine) as statements:
        response = client.head(DOC.format(slug=big))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "application/json"
    read_text = [
        sql for sql, _ in statements if re.search(r"\bcontent\b(?!_)|file_hash, parser", sql)
    ]
    assert read_text == []


def test_a_document_rewritten_mid_answer_cuts_the_answer_off(client: TestClient, big: str) -> None:
    with client.stream("GET", DOC.format(slug=big)) as response:
        pieces = response.iter_raw()
        first = next(pieces)
        assert first.startswith(b'{"doc_id":"US0001-big"')
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.exec_driver_sql("UPDATE documents SET file_hash = 'rewritten'")
        with pytest.raises(DocumentChangedError):
            for _ in pieces:
                pass
