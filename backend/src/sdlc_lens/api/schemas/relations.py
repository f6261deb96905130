"""Relationship models (SPEC-2 §14.2)."""

from pydantic import Field

from sdlc_lens.api.schemas.common import ResponseModel


class RelatedDocument(ResponseModel):
    """A document on the other end of a relationship; link to it by `type` and `doc_id`."""

    doc_id: str
    type: str
    title: str
    status: str | None = Field(description="Canonical status; null when the document has none.")


class DocumentRelationships(ResponseModel):
    """A document's parents, children and dependencies; every list is present, maybe empty."""

    doc_id: str
    type: str
    title: str
    parents: list[RelatedDocument] = Field(
        description="Nearest first, at most two: the story and its epic, or the epic. A story "
        "that does not exist falls back to the document's own epic. A parent always ranks "
        "above its child (epics, stories, the rest; then type, doc_id), so a document is "
        "never among its own ancestors."
    )
    children: list[RelatedDocument] = Field(
        description="Exactly the documents whose nearest parent is this one (aliases "
        "included), by type then doc_id."
    )
    depends_on: list[RelatedDocument] = Field(
        description="The documents its `Depends on:` names, in declared order; ids that name "
        "no document are left out."
    )
    dependents: list[RelatedDocument] = Field(
        description="The documents whose `Depends on:` names this one, by type then doc_id."
    )
