"""Turn one markdown file (path + text) into the row the sync engine stores (SPEC §6 step 4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sdlc_lens.parsing.front_matter import parse_front_matter
from sdlc_lens.parsing.identity import (
    extract_ref,
    extract_refs,
    id_head,
    infer_type_and_id,
    is_archived,
)
from sdlc_lens.parsing.status import StatusVocabulary

__all__ = [
    "COLUMN_FIELDS",
    "DocumentRecord",
    "LinkKind",
    "build_document",
    "epic_named_in",
    "parse_story_points",
]

# Front-matter keys stored in their own columns, hence left out of `metadata`.
COLUMN_FIELDS = frozenset(
    {"status", "owner", "priority", "story_points", "epic", "story", "depends_on", "aliases"}
)

# `**Epic:**`, `**Epic**:` or `**Epic**` (case-sensitive): a body line that names an epic.
_EPIC_LABEL = re.compile(r"\*\*Epic:?\*\*")
EPIC_LABEL_LINES = 1_000

_BUILT_IN = StatusVocabulary()

# The column is a SQLite INTEGER (signed 64-bit); larger values cannot be stored.
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class LinkKind(StrEnum):
    """What a stored reference key is to its document (SPEC-2 §14.3)."""

    REF = "ref"  # the document's own key: the normalised id head of its doc_id
    ALIAS = "alias"  # another key the document answers to (`Aliases:`)
    EPIC = "epic"  # the `Epic:` it names
    STORY = "story"  # the `Story:` it names
    DEPENDS_ON = "depends_on"  # each id of `Depends on:`, in declared order


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """What one document says, parsed: the one definition of a document's fields.

    The stored row (`db.models.DocumentRow`) is these fields plus the file's path, hash and
    stamp; the checkup, `/related` and the API read those columns. A test keeps them in step.
    """

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
    metadata: dict[str, str] | None
    content: str
    archived: bool  # a retired copy (archive folder or `_` doc_id)
    content_chars: int  # len(content.strip()): how much body there is
    content_epic: str | None  # the epic a `**Epic:** EP0001` line of the body names

    def links(self) -> list[tuple[LinkKind, str, int]]:
        """Every reference key of the document as (kind, key, position within its field)."""
        links: list[tuple[LinkKind, str, int]] = []
        for kind, value in (
            (LinkKind.REF, self.ref_id),
            (LinkKind.EPIC, self.epic),
            (LinkKind.STORY, self.story),
            (LinkKind.ALIAS, self.aliases),
            (LinkKind.DEPENDS_ON, self.depends_on),
        ):
            if value:
                links.extend((kind, key, position) for position, key in enumerate(value.split(",")))
        return links


def epic_named_in(content: str) -> str | None:
    """The first id after an `**Epic**` label on the same line of `content`, normalised.

    Only the first EPIC_LABEL_LINES labelled lines are looked at: real documents name their
    epic near the top, and a file of millions of labels must not cost seconds.
    """
    searched_to = 0
    for _ in range(EPIC_LABEL_LINES):
        # The first label of a line sees the most of it; the search resumes at the next line,
        # which keeps a line full of labels linear.
        match = _EPIC_LABEL.search(content, searched_to)
        if match is None:
            return None
        line_end = content.find("\n", match.end())
        if line_end == -1:
            line_end = len(content)
        ref = extract_ref(content[match.end() : line_end])
        if ref is not None:
            return ref
        searched_to = line_end
    return None


def parse_story_points(raw: str | None) -> int | None:
    """`int()` of the trimmed value (`" 08 "` -> 8); None if not an integer that fits int64."""
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:  # includes strings over Python's int-digit limit
        return None
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def build_document(
    rel_path: str, text: str, vocabulary: StatusVocabulary | None = None
) -> DocumentRecord | None:
    """Parse a document into a DocumentRecord; None when the path is to be skipped.

    `vocabulary` holds the project's own status tokens (none: the built-in ones only).
    """
    identity = infer_type_and_id(rel_path)
    if identity is None:
        return None
    doc_type, doc_id = identity
    parsed = parse_front_matter(text)
    fields = parsed.fields

    raw_points = fields.get("story_points")
    story_points = parse_story_points(raw_points)

    metadata = {key: value for key, value in fields.items() if key not in COLUMN_FIELDS}
    if raw_points and raw_points.strip() and story_points is None:
        # Keep unparseable estimates ("3 (est)", "Large") visible instead of losing them.
        metadata["story_points"] = raw_points

    return DocumentRecord(
        doc_type=doc_type,
        doc_id=doc_id,
        title=parsed.title or doc_id,
        status=(vocabulary or _BUILT_IN).canonicalise(fields.get("status"), doc_type),
        owner=fields.get("owner"),
        priority=fields.get("priority"),
        story_points=story_points,
        epic=extract_ref(fields.get("epic")),
        story=extract_ref(fields.get("story")),
        ref_id=id_head(doc_id),
        depends_on=extract_refs(fields.get("depends_on")),
        aliases=extract_refs(fields.get("aliases")),
        metadata=metadata or None,
        content=parsed.content,
        archived=is_archived(rel_path, doc_id),
        content_chars=len(parsed.content.strip()),
        content_epic=epic_named_in(parsed.content),
    )
