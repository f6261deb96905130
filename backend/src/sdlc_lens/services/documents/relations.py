"""Relationships between documents (SPEC-2 §14): parents, children, depends on, dependents.

A sync stores every reference of a document as keys in `document_links` (its own key, aliases,
epic, story, depends on). They are resolved here, per request, so a document added later is
found without re-parsing the documents that name it. One request costs at most four indexed
statements whatever the project size: the document, the candidates for every key it needs plus
the documents naming it, and (sometimes) the candidates for a second level of keys.

Rules, with the SPEC-2 §14.6 improvements:
- resolve(key) ranks the documents answering to the key: own key before alias, the field's
  type (`Epic:` prefers an epic, `Story:` a story), live before archived, then the smallest
  path. Only the preferred copy of a duplicated (type, doc_id) takes part (the copy the
  detail endpoint shows), so every answer names documents that answer for themselves.
- parents: the story (and its epic), else the epic. A `Story:` that resolves to nothing (or to
  the document itself) falls back to the document's own epic: the SHOULD of §14.6 ("missing
  story hides the epic"), chosen over the reference's `[]` so the epic is not lost.
- no loops: a parent always ranks above its child (`ranks_above`); a reference to a document
  that does not is passed over like a missing one, so no document is its own ancestor.
- children: exactly the documents whose first parent is this one (aliases included), so the
  tree built from parents and the children lists never disagree.
- depends_on: the declared ids resolved in order; dependents: exactly their inverse.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection

from sdlc_lens.db.generations import generation_sql, visible_sql
from sdlc_lens.errors import NotFoundError
from sdlc_lens.parsing import LinkKind
from sdlc_lens.services.documents.browse import PREFERRED_COPY_COLUMNS
from sdlc_lens.services.projects.registry import PROJECT_NOT_FOUND

EPIC = "epic"
STORY = "story"
# Project-level documents are never anybody's parent, whatever alias they carry.
_NEVER_PARENTS = frozenset({"prd", "trd"})
# A parent always ranks above its child (see `ranks_above`): epics, then stories, then the
# rest; within a level by type, then doc_id.
_LEVELS = {EPIC: 2, STORY: 1}

_ORDER = ", ".join(f"d.{column}" for column in PREFERRED_COPY_COLUMNS)
_COPY = ", ".join(f"{{alias}}.{column}" for column in PREFERRED_COPY_COLUMNS)

# The document (preferred copy) and whether the project exists, in one statement.
_DOCUMENT_SQL = (
    "SELECT p.id, d.id, d.ref_id, d.aliases, d.epic, d.story, d.depends_on, d.title "  # noqa: S608
    "FROM projects AS p LEFT JOIN documents AS d "
    "ON d.project_id = p.id AND d.doc_type = ? AND d.doc_id = ? "
    f"AND {visible_sql('d', 'p.generation')} "
    f"WHERE p.slug = ? ORDER BY {_ORDER} LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class Linked:
    """A document as relationships see it."""

    id: int
    doc_type: str
    doc_id: str
    title: str
    status: str | None
    epic: str | None
    story: str | None
    archived: bool
    file_path: str

    def rank(self) -> tuple[int, str, str]:
        return rank(self.doc_type, self.doc_id)

    def item(self) -> dict[str, Any]:
        """The response's `{doc_id, type, title, status}`."""
        return {
            "doc_id": self.doc_id,
            "type": self.doc_type,
            "title": self.title,
            "status": self.status,
        }


# The project's current generation, for a row linked from `l` (db/generations.py).
_GENERATION = generation_sql("l.project_id")
# The link's kind and key, then the linked document's stored columns (Linked's fields).
_LINKED_COLUMNS = "l.kind, l.ref_key, " + ", ".join(f"d.{f.name}" for f in fields(Linked))
# A duplicated (type, doc_id) takes part only through its preferred copy.
_PREFERRED = (
    "NOT EXISTS (SELECT 1 FROM documents AS o WHERE o.project_id = d.project_id "  # noqa: S608
    "AND o.doc_type = d.doc_type AND o.doc_id = d.doc_id "
    f"AND {visible_sql('o', _GENERATION)} "
    f"AND ({_COPY.format(alias='o')}) < ({_COPY.format(alias='d')}))"
)
# Documents linked to the keys of a JSON array, through the (project, kind, key) index.
_LINKED_SQL = (
    f"SELECT {_LINKED_COLUMNS} FROM document_links AS l "  # noqa: S608
    "JOIN documents AS d ON d.id = l.document_id "
    "WHERE l.project_id = ? AND l.kind IN ({kinds}) "
    f"AND {visible_sql('d', _GENERATION)} "
    f"AND l.ref_key IN (SELECT value FROM json_each(?)) AND {_PREFERRED}"
)
_KEY_KINDS = f"'{LinkKind.REF}', '{LinkKind.ALIAS}'"
_REFERENCE_KINDS = f"'{LinkKind.EPIC}', '{LinkKind.STORY}', '{LinkKind.DEPENDS_ON}'"
# Candidates answering to some keys.
_CANDIDATES_SQL = _LINKED_SQL.format(kinds=_KEY_KINDS)
# ... and, in the same statement, the documents whose references name the document's keys.
_CANDIDATES_AND_REFERRERS_SQL = (
    f"{_CANDIDATES_SQL} UNION ALL {_LINKED_SQL.format(kinds=_REFERENCE_KINDS)}"
)


def rank(doc_type: str, doc_id: str) -> tuple[int, str, str]:
    """Where a document stands in the one order parents follow: smaller ranks higher."""
    return (-_LEVELS.get(doc_type, 0), doc_type, doc_id)


def ranks_above(parent: Linked, child_rank: tuple[int, str, str]) -> bool:
    """Whether `parent` may be the parent of a document of `child_rank`.

    Every parent link goes up this one order, so following parents always ends: a document
    is never among its own ancestors (US0001 and US0002 naming each other, an epic naming
    itself, a longer loop). Links up the hierarchy (a story's epic) always qualify; one
    between documents of the same level (`Epic: US0001` on US0003, a sub-epic) goes to the
    smaller (type, doc_id).
    """
    return parent.rank() < child_rank


# (kind, key, document): a document linked to a key.
Link = tuple[str, str, Linked]


class Resolver:
    """resolve(key) over the candidates fetched for a set of keys.

    Each (key, field type) is resolved once and remembered: thousands of documents naming
    one shared id cost one pass over its candidates, not one pass each.
    """

    def __init__(self) -> None:
        self._candidates: dict[str, list[tuple[bool, Linked]]] = defaultdict(list)
        self._resolved: dict[tuple[str, str | None], Linked | None] = {}
        self.keys: set[str] = set()  # keys whose candidates are all known

    def add_keys(self, keys: set[str], links: list[Link]) -> list[Link]:
        """Take the candidates among `links` (kind ref/alias); return the other links."""
        self.keys |= keys
        self._resolved.clear()
        others = []
        for kind, key, doc in links:
            if kind in (LinkKind.REF, LinkKind.ALIAS):
                if doc.doc_type not in _NEVER_PARENTS:
                    self._candidates[key].append((kind == LinkKind.REF, doc))
            else:
                others.append((kind, key, doc))
        return others

    def resolve(self, key: str | None, field_type: str | None = None) -> Linked | None:
        """The document `key` names: own key > alias, field type, live, smallest path."""
        if not key:
            return None
        if (key, field_type) not in self._resolved:
            candidates = self._candidates.get(key)
            self._resolved[key, field_type] = (
                min(
                    candidates,
                    key=lambda c: (
                        not c[0],
                        field_type is not None and c[1].doc_type != field_type,
                        c[1].archived,
                        c[1].file_path,
                    ),
                )[1]
                if candidates
                else None
            )
        return self._resolved[key, field_type]

    def first_parent(
        self, child_rank: tuple[int, str, str], story: str | None, epic: str | None
    ) -> Linked | None:
        """The nearest parent: the story, else (also when it names nothing, or nothing that
        ranks above the document) the epic; never one that does not rank above it."""
        parent = self.resolve(story, STORY)
        if parent is None or not ranks_above(parent, child_rank):
            parent = self.resolve(epic, EPIC)
        return parent if parent is not None and ranks_above(parent, child_rank) else None


def _split(ids: str | None) -> list[str]:
    return ids.split(",") if ids else []


def _linked(conn: Connection, project_id: int, keys: set[str], sql: str, *more: Any) -> list[Link]:
    rows = conn.exec_driver_sql(sql, (project_id, json.dumps(sorted(keys)), *more)).fetchall()
    return [(row[0], row[1], Linked(*row[2:])) for row in rows]


def related_documents(conn: Connection, slug: str, doc_type: str, doc_id: str) -> dict[str, Any]:
    """`{doc_id, type, title, parents, children, depends_on, dependents}` for one document."""
    found = conn.exec_driver_sql(_DOCUMENT_SQL, (doc_type, doc_id, slug)).first()
    if found is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    project_id, own_id, ref_id, aliases, epic, story, depends_on, title = found
    if own_id is None:
        raise NotFoundError(f"Document not found: {doc_type}/{doc_id}")

    own_keys = {ref_id, *_split(aliases)} - {None}
    declared = _split(depends_on)
    wanted = {story, epic, *declared} - {None}
    resolver = Resolver()
    if own_keys:
        # Candidates for every key wanted or owned, and the documents naming an owned key.
        links = _linked(
            conn,
            project_id,
            wanted | own_keys,
            _CANDIDATES_AND_REFERRERS_SQL,
            project_id,
            json.dumps(sorted(own_keys)),
        )
    else:
        links = _linked(conn, project_id, wanted, _CANDIDATES_SQL) if wanted else []
    referrers = resolver.add_keys(wanted | own_keys, links)

    # Second level: the story's epic, and the stories of documents that name this one as
    # their epic (a story they name first would be their parent instead).
    story_parent = resolver.resolve(story, STORY)
    more = {doc.story for kind, _, doc in referrers if kind == LinkKind.EPIC and doc.story}
    if story_parent is not None and story_parent.epic:
        more.add(story_parent.epic)
    if more - resolver.keys:
        resolver.add_keys(more, _linked(conn, project_id, more - resolver.keys, _CANDIDATES_SQL))

    children: dict[int, Linked] = {}
    dependents: dict[int, Linked] = {}
    for kind, key, referrer in referrers:
        if referrer.id == own_id:
            continue
        if kind == LinkKind.DEPENDS_ON:
            target = resolver.resolve(key)
            if target is not None and target.id == own_id:
                dependents[referrer.id] = referrer
        else:
            parent = resolver.first_parent(referrer.rank(), referrer.story, referrer.epic)
            if parent is not None and parent.id == own_id:
                children[referrer.id] = referrer

    return {
        "doc_id": doc_id,
        "type": doc_type,
        "title": title,
        "parents": [doc.item() for doc in _parents(resolver, rank(doc_type, doc_id), story, epic)],
        "children": _sorted_items(children.values()),
        "depends_on": [doc.item() for doc in _depends_on(resolver, own_id, declared)],
        "dependents": _sorted_items(dependents.values()),
    }


def _parents(
    resolver: Resolver, own_rank: tuple[int, str, str], story: str | None, epic: str | None
) -> list[Linked]:
    """Nearest first: [story, its epic] or [epic], each ranking above the one before it."""
    parent = resolver.first_parent(own_rank, story, epic)
    if parent is None:
        return []
    chain = [parent]
    if parent is resolver.resolve(story, STORY):
        grandparent = resolver.resolve(parent.epic, EPIC)
        if grandparent is not None and ranks_above(grandparent, parent.rank()):
            chain.append(grandparent)
    return chain


def _depends_on(resolver: Resolver, own_id: int, declared: list[str]) -> list[Linked]:
    """The declared ids resolved, in declared order, without self, repeats or dangling ids."""
    seen = {own_id}
    resolved = []
    for key in declared:
        target = resolver.resolve(key)
        if target is not None and target.id not in seen:
            seen.add(target.id)
            resolved.append(target)
    return resolved


def _sorted_items(docs: Any) -> list[dict[str, Any]]:
    # Byte order of (type, doc_id): code-point order, which UTF-8 byte order follows.
    return [doc.item() for doc in sorted(docs, key=lambda d: (d.doc_type, d.doc_id))]
