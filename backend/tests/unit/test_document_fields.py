"""A document's fields are defined once: what parsing yields (DocumentRecord). The stored row,
the table, the checkup's and /related's projections and the API's models must all agree with
it; each test here fails when one of them drifts (a field added to one and not the others,
or given another type)."""

from dataclasses import fields
from types import NoneType, UnionType
from typing import Any, get_args, get_type_hints

from sqlalchemy import Boolean, Integer, String, Text

from sdlc_lens.api.schemas.documents import DocumentDetail, DocumentSummary
from sdlc_lens.db.models import DocumentRow, FileStamp, document_columns, documents
from sdlc_lens.parsing import DocumentRecord, build_document
from sdlc_lens.services.documents import browse
from sdlc_lens.services.documents.relations import Linked
from sdlc_lens.services.reports.checkup_documents import DOCUMENTS_SQL, STORED_FIELDS, Doc

COLUMNS = document_columns()
# The table's own key, and columns the sync reads but a row does not carry as a field.
NOT_WRITTEN = {"id", "born_gen", "died_gen"}  # the generations: set by the sync's SQL
SQL_TYPES = {int: Integer, str: (String, Text), bool: Boolean}


def stored_name(field: str) -> str:
    return "metadata_json" if field == "metadata" else field


def test_every_parsed_field_is_a_stored_column_of_the_same_type() -> None:
    for name, annotation in get_type_hints(DocumentRecord).items():
        assert stored_name(name) in COLUMNS, f"DocumentRecord.{name} is not stored"
        if name != "metadata":  # a dict, stored as its JSON text
            assert COLUMNS[name] == annotation, name


def test_the_stored_row_writes_every_column_of_the_table() -> None:
    assert set(DocumentRow.column_names()) == {c.name for c in documents.c} - NOT_WRITTEN
    assert DocumentRow.column_names() == tuple(COLUMNS)


def test_each_value_of_a_row_lands_in_its_own_column() -> None:
    record = build_document("stories/US0001-x.md", "# US0001: X\n\n> **Status:** Draft\n\nBody")
    assert record is not None
    stamp = FileStamp(10, 20, 30)
    row = DocumentRow(7, "stories/US0001-x.md", record, "ab" * 32, stamp, 2, "2026-01-01")
    stored = dict(zip(DocumentRow.column_names(), row.values(), strict=True))
    expected = {
        "project_id": 7,
        "file_path": "stories/US0001-x.md",
        "file_hash": "ab" * 32,
        **stamp._asdict(),
        "parser_epoch": 2,
        "synced_at": "2026-01-01",
        "last_seen_at": None,
        "metadata_json": None,
    }
    expected |= {f.name: getattr(record, f.name) for f in fields(DocumentRecord)}
    del expected["metadata"]
    assert stored == expected


def python_type(annotation: Any) -> tuple[type, bool]:
    """`str | None` -> (str, True)."""
    if isinstance(annotation, UnionType):
        (base,) = (arg for arg in get_args(annotation) if arg is not NoneType)
        return base, True
    return annotation, False


def test_column_types_and_nullability_match_the_table() -> None:
    for name, annotation in COLUMNS.items():
        column = documents.c[name]
        base, optional = python_type(annotation)
        assert isinstance(column.type, SQL_TYPES[base]), (name, column.type)
        if optional:  # a value the row may leave NULL must be allowed to be NULL
            assert column.nullable, name


def test_the_checkup_reads_stored_columns_with_their_types() -> None:
    hints = get_type_hints(Doc)
    assert STORED_FIELDS and "content" not in STORED_FIELDS
    for name in STORED_FIELDS:
        assert name in COLUMNS, f"Doc.{name} is not a stored column"
        assert hints[name] == COLUMNS[name], name
    assert DOCUMENTS_SQL.startswith(f"SELECT {', '.join(STORED_FIELDS)} FROM documents")


def test_related_documents_read_stored_columns_with_their_types() -> None:
    hints = get_type_hints(Linked)
    for f in fields(Linked):
        if f.name != "id":
            assert hints[f.name] == COLUMNS[f.name], f.name


def api_fields(model: Any) -> dict[str, Any]:
    return {name: info.annotation for name, info in model.model_fields.items()}


def test_the_api_serves_stored_columns_with_their_types() -> None:
    for model in (DocumentSummary, DocumentDetail):
        for name, annotation in api_fields(model).items():
            column = browse.SERVED_AS.get(name, name)
            assert column in COLUMNS, f"{model.__name__}.{name} is not a stored column"
            if name != "metadata":  # the stored JSON text, served decoded
                assert annotation == COLUMNS[column], (model.__name__, name)


def test_the_service_selects_exactly_what_the_api_models_declare() -> None:
    assert set(browse.LIST_FIELDS) == set(api_fields(DocumentSummary))
    assert set(browse.DETAIL_FIELDS) == set(api_fields(DocumentDetail))
