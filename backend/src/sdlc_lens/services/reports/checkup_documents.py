"""What the checkup reads of each document, and the project's documents indexed the ways its
rules look them up.

`Doc` is a projection of the stored row: its fields before `key` are `documents` columns (a
test checks that they stay fields of the stored row, with the same types), and DOCUMENTS_SQL
selects exactly those, never `content`.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sdlc_lens.db.generations import generation_sql, visible_sql
from sdlc_lens.parsing import TERMINAL, VOCABULARY, is_terminal

RECORD_TYPES = frozenset(
    {"retro", "review", "decision", "decisions", "persona", "personas", "pvd", "constitution"}
)
PROJECT_LEVEL_TYPES = frozenset({"prd", "trd", "tsd", "personas"})
PROJECT_LEVEL_IDS = frozenset({"brand-guide", "personas"})
TYPE_LABELS = {
    "bug": "Bug",
    "cr": "CR",
    "epic": "Epic",
    "plan": "Plan",
    "prd": "PRD",
    "rfc": "RFC",
    "story": "Story",
    "test-spec": "Test-spec",
    "trd": "TRD",
    "tsd": "TSD",
    "workflow": "Workflow",
}

_NON_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]")


class Doc(NamedTuple):
    """One document's columns, as the rules read them, and its key.

    A named tuple: a checkup builds one per document of the project, and a tuple is
    the cheapest object to build from a row.
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
    aliases: str | None
    file_path: str
    synced_at: str
    archived: bool
    content_chars: int
    content_epic: str | None
    last_seen_at: str | None
    # Derived when the row is read, not stored:
    key: str  # the id head (`EP0001`), else the doc_id normalised like a reference
    terminal: bool  # its status ends its type's lifecycle

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "Doc":
        """A document from a row of `DOCUMENTS_SQL` (its columns are STORED_FIELDS)."""
        key = row[_REF_ID] or _NON_ALPHANUMERIC.sub("", row[_DOC_ID]).upper()
        return cls._make((*row, key, _is_terminal(row[_STATUS], row[_DOC_TYPE])))

    @property
    def keys(self) -> list[str]:
        """Its key and its aliases: every value a reference may name it by."""
        return [self.key, *(self.aliases.split(",") if self.aliases else ())]

    @property
    def in_epic(self) -> str | None:
        """The epic it belongs to: its `Epic:` field, else one a body line names."""
        return self.epic or self.content_epic

    @property
    def label(self) -> str:
        return type_label(self.doc_type)

    @property
    def type_caps(self) -> str:
        return self.doc_type.upper()

    @property
    def is_active_story(self) -> bool:
        return self.doc_type == "story" and not self.archived and not self.terminal

    @property
    def is_project_level(self) -> bool:
        return self.doc_type in PROJECT_LEVEL_TYPES or self.doc_id in PROJECT_LEVEL_IDS

    @property
    def is_record(self) -> bool:
        return self.doc_type in RECORD_TYPES

    @property
    def is_review(self) -> bool:
        return self.file_path.startswith("reviews/") or "/reviews/" in self.file_path

    def affected(self) -> dict[str, str]:
        return {"doc_id": self.doc_id, "doc_type": self.doc_type, "title": self.title}


# The stored columns Doc holds, in its field order; the rest it derives.
DERIVED_FIELDS = ("key", "terminal")
STORED_FIELDS = tuple(name for name in Doc._fields if name not in DERIVED_FIELDS)
DOCUMENTS_SQL = (
    f"SELECT {', '.join(STORED_FIELDS)} FROM documents "  # noqa: S608 - constant names
    f"WHERE project_id = ? AND {visible_sql('documents', generation_sql('documents.project_id'))} "
    "ORDER BY file_path"
)
_DOC_TYPE, _DOC_ID, _STATUS, _REF_ID = (
    STORED_FIELDS.index(name) for name in ("doc_type", "doc_id", "status", "ref_id")
)


@lru_cache(maxsize=256)
def _is_terminal(status: str | None, doc_type: str) -> bool:
    return is_terminal(status, doc_type)


def type_label(doc_type: str) -> str:
    """How messages name a type: `Story`, `Test-spec`, `CR`."""
    return TYPE_LABELS.get(doc_type, doc_type[:1].upper() + doc_type[1:])


def completed_status(doc_type: str) -> str:
    """The status that completes a type's work: Complete for plans, Fixed for bugs, ..."""
    terminal = TERMINAL.get(doc_type, frozenset())
    return next((s for s in VOCABULARY.get(doc_type, ()) if s in terminal), "Done")


class Project:
    """The documents of one project, indexed the ways the rules look them up."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs
        self.live = [doc for doc in docs if not doc.archived]
        self.live_by_type: dict[str, list[Doc]] = defaultdict(list)
        for doc in self.live:
            self.live_by_type[doc.doc_type].append(doc)
        self.types = {doc.doc_type for doc in docs}
        aliased = [doc for doc in docs if doc.aliases]  # few: aliases are rare
        # A value that is some document's own key means that document; one that is only an
        # alias means the document carrying it (own key first, so ids never get hijacked).
        self._canonical: dict[str, str] = {}
        for doc in sorted(aliased, key=lambda d: (d.archived, d.file_path)):
            for alias in doc.keys[1:]:
                self._canonical.setdefault(alias, doc.key)
        self._canonical.update((doc.key, doc.key) for doc in docs)
        self.all_keys = set(self._canonical)  # every key and alias of any document
        # The epic an id names: the first live one with that key in path order, as
        # `/related` resolves an `Epic:` (epics sharing an id are one group, answered once).
        self._epics_by_key: dict[str, Doc] = {}
        for doc in self.live_by_type.get("epic", ()):
            self._epics_by_key.setdefault(doc.key, doc)
        self._stories_by_epic: dict[str, list[Doc]] = defaultdict(list)
        self._stories_by_key: dict[str, list[Doc]] = defaultdict(list)
        for doc in docs:
            if doc.doc_type == "story":
                for key in doc.keys:
                    self._stories_by_key[key].append(doc)
                if doc.in_epic:
                    self._stories_by_epic[self.canonical(doc.in_epic)].append(doc)

        plans = (doc for doc in docs if doc.doc_type == "plan")
        self.planned = self.named(doc.story for doc in plans)  # keys of stories with a plan
        specs = [doc for doc in docs if doc.doc_type == "test-spec"]
        self._specified = self.named(doc.story for doc in specs)
        # A test-spec naming only an epic covers every story of that epic.
        self._specified_epics = self.named(doc.in_epic for doc in specs if not doc.story)

    def has_test_spec(self, story: Doc) -> bool:
        """Whether a test-spec names the story, or covers the whole of its epic."""
        if story.key in self._specified:
            return True
        return story.in_epic is not None and self.canonical(story.in_epic) in self._specified_epics

    def canonical(self, value: str) -> str:
        """The key of the document a reference value names (itself when it names none)."""
        return self._canonical.get(value, value)

    def named(self, values: Iterable[str | None]) -> set[str]:
        """The canonical keys of the documents some reference values name."""
        return {self.canonical(value) for value in values if value}

    def epic_named(self, key: str) -> Doc | None:
        """The live epic a key names, when several share it: the one with the smallest path."""
        return self._epics_by_key.get(key)

    def stories_of(self, epic: Doc) -> list[Doc]:
        """The stories whose epic is this one, in file_path order."""
        return self._stories_by_epic.get(epic.key, [])

    def story_named(self, value: str) -> Doc | None:
        """The story a `Story:` value names: own key before alias, live first, smallest path."""
        return min(
            self._stories_by_key.get(value, ()),
            key=lambda d: (d.key != value, d.archived, d.file_path),
            default=None,
        )
