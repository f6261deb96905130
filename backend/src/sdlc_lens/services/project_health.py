"""Project health check (SPEC-2 §15): 19 rules over a project's documents, a score out of 100.

One statement reads the columns the rules need (never `content`: its stripped length and the
epic a body line names are stored at sync), in file_path order; the rules are plain passes
over those rows, with references grouped by key so no rule compares every pair.

The SPEC-2 §15.5 improvements, all deliberate:
- References compare the stored normalised values directly (never re-extracted), and a
  document answers to its key and to its aliases, as `/related` resolves them.
- Archived copies (an `archive`/`archived` folder or a `_` doc_id) are never flagged by a
  completeness, consistency or quality rule and never count as unfinished work; they still
  exist as reference targets. Record types (incl. `decisions`, `constitution`) are exempt
  from MISSING_STATUS, ORPHAN_REFERENCE and STALE_ARTEFACT_STATUS.
- The epic a document belongs to is its `Epic:` field, else the epic a `**Epic:**` body line
  names; every rule uses that same notion.
- DUPLICATE_DOC_ID also reports documents that share one id (EP0001-alpha / EP0001-beta).
- STALE_DOCUMENT measures from the last sync that saw the file, not the last rewrite.
- Messages name statuses and types as they are (`Test-spec`, `CR`, "marked Complete",
  "1 incomplete child story", "to Complete").
"""

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from string import Formatter
from typing import Any, NamedTuple

from sqlalchemy import Connection

from sdlc_lens.db.engine import driver_connection
from sdlc_lens.errors import NotFoundError
from sdlc_lens.parsing import TERMINAL, VOCABULARY, is_terminal
from sdlc_lens.services.projects.registry import PROJECT_NOT_FOUND

SEVERITY_WEIGHTS = {"critical": 15, "high": 5, "medium": 2, "low": 1}
EMPTY_CONTENT_CHARS = 50
STALE_AFTER = timedelta(days=30)

RECORD_TYPES = frozenset(
    {"retro", "review", "decision", "decisions", "persona", "personas", "pvd", "constitution"}
)
PROJECT_LEVEL_TYPES = frozenset({"prd", "trd", "tsd", "personas"})
PROJECT_LEVEL_IDS = frozenset({"brand-guide", "personas"})
INBOX_TYPES = frozenset({"bug", "cr", "rfc"})
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

_PROJECT_SQL = "SELECT id, last_synced_at FROM projects WHERE slug = ?"
_DOCUMENTS_SQL = (
    "SELECT doc_type, doc_id, title, status, owner, priority, story_points, epic, story, "
    "ref_id, aliases, file_path, synced_at, archived, content_chars, content_epic, last_seen_at "
    "FROM documents WHERE project_id = ? ORDER BY file_path"
)


class Doc(NamedTuple):
    """One document's columns, as the rules read them, and its key.

    A named tuple: a health check builds one per document of the project, and a tuple is
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
    key: str  # the id head (`EP0001`), else the doc_id normalised like a reference
    terminal: bool  # its status ends its type's lifecycle

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "Doc":
        # The column order of _DOCUMENTS_SQL: 0 doc_type, 1 doc_id, 3 status, 9 ref_id.
        key = row[9] or _NON_ALPHANUMERIC.sub("", row[1]).upper()
        return cls._make((*row, key, _is_terminal(row[3], row[0])))

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


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the §15.3 table."""

    rule_id: str
    severity: str
    category: str


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found: the message, the fix, and the documents it is about."""

    message: str
    suggested_fix: str
    affected: tuple[Doc, ...]


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


def _plural(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


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


# --- the rules, in table order --------------------------------------------------------------

Check = Callable[[Project], Iterator[Finding]]


# What the placeholders of a §15.3 message template stand for: attributes of a Doc.
_PLACEHOLDERS = {
    "t": "title",
    "id": "doc_id",
    "T": "label",  # the type as a word: `Story`, `Test-spec`, `CR`
    "TYPE": "type_caps",  # `BUG`, `CR`, `RFC`
    "path": "file_path",
}


def _template(text: str) -> Callable[[Doc], str]:
    """`text` with its `{placeholders}` filled in from a document.

    Compiled once per rule into a positional format string and one C-level attribute
    getter: a large project can have thousands of findings per check.
    """
    positional = ""
    attributes: list[str] = []
    for literal, name, _spec, _conversion in Formatter().parse(text):
        positional += literal.replace("{", "{{").replace("}", "}}")
        if name:
            positional += f"{{{len(attributes)}}}"
            attributes.append(_PLACEHOLDERS[name])
    if not attributes:
        return lambda _doc: positional
    values = attrgetter(*attributes, attributes[0])  # always a tuple, even for one name
    return lambda doc: positional.format(*values(doc))


def _each_document(
    types: Iterable[str] | None,
    fires: Callable[[Project, Doc], bool],
    message: str,
    fix: str,
    *,
    archived_too: bool = False,
) -> Check:
    """A rule with one finding per document of `types` (None: any) that it fires for.

    Archived copies take part only when `archived_too`. `message` and `fix` are templates:
    `{t}` title, `{id}` doc_id, `{T}` type as a word, `{TYPE}` type in capitals, `{path}`.
    """
    only = None if types is None else frozenset(types)
    message_for, fix_for = _template(message), _template(fix)

    def check(project: Project) -> Iterator[Finding]:
        if archived_too:
            docs = project.docs if only is None else [d for d in project.docs if d.doc_type in only]
        elif only is not None and len(only) == 1:
            docs = project.live_by_type.get(next(iter(only)), [])
        else:
            docs = project.live if only is None else [d for d in project.live if d.doc_type in only]
        for doc in docs:
            if fires(project, doc):
                yield Finding(message_for(doc), fix_for(doc), (doc,))

    return check


def _missing_singleton(doc_type: str, name: str, fix: str) -> Check:
    def check(project: Project) -> Iterator[Finding]:
        if project.docs and doc_type not in project.types:
            yield Finding(f"Project has no {name} document.", fix, ())

    return check


def _orphan_reference(project: Project) -> Iterator[Finding]:
    for doc in project.live:
        if doc.is_record:
            continue
        for field, value in (("epic", doc.epic), ("story", doc.story)):
            if value and value not in project.all_keys:
                yield Finding(
                    f"Document '{doc.title}' references non-existent {field} '{value}'.",
                    f"Update the {field} reference in {doc.doc_id} to point to an existing "
                    f"{field}, or create {field} {value}.",
                    (doc,),
                )


def _status_mismatch(project: Project) -> Iterator[Finding]:
    for doc in project.live:
        if doc.doc_type != "epic" or not doc.terminal:
            continue
        open_stories = [
            story for story in project.stories_of(doc) if not story.archived and not story.terminal
        ]
        if open_stories:
            count = len(open_stories)
            stories = _plural(count, "story", "stories")
            yield Finding(
                f"Epic '{doc.title}' is marked {doc.status} but has {count} incomplete child "
                f"{stories}.",
                f"Either update the incomplete {stories} under {doc.doc_id} to Done, or change "
                "the epic status to reflect the actual state.",
                (doc, *open_stories),
            )


def _stale_artefact_status(project: Project) -> Iterator[Finding]:
    for doc in project.live:
        if doc.doc_type == "story" or doc.is_record or not doc.story or doc.terminal:
            continue
        story = project.story_named(doc.story)
        if story is None or not story.terminal:
            continue
        state = f"is '{doc.status}'" if doc.status else "has no status"
        yield Finding(
            f"{doc.label} '{doc.title}' {state} but its story is '{story.status}'.",
            f"Update the status of {doc.doc_id} to {completed_status(doc.doc_type)} to match "
            "its completed story.",
            (doc,),
        )


def _duplicate_doc_id(project: Project) -> Iterator[Finding]:
    """Documents sharing a doc_id, then (a documented choice) documents sharing an id head."""
    # Count first: duplicates are rare, so only they are grouped.
    shared_doc_ids = {v for v, n in Counter(d.doc_id for d in project.docs).items() if n > 1}
    shared_keys = {v for v, n in Counter(d.ref_id for d in project.docs).items() if n > 1 and v}
    by_doc_id: dict[str, list[Doc]] = defaultdict(list)
    by_key: dict[str, list[Doc]] = defaultdict(list)
    for doc in project.docs:
        if doc.doc_id in shared_doc_ids:
            by_doc_id[doc.doc_id].append(doc)
        if doc.ref_id in shared_keys:
            by_key[doc.ref_id].append(doc)
    groups: list[tuple[str, int, Finding]] = []
    for doc_id, docs in by_doc_id.items():
        types = ", ".join(doc.doc_type for doc in docs)
        paths = ", ".join(doc.file_path for doc in docs)
        finding = Finding(
            f"Multiple documents share doc_id '{doc_id}': {types}.",
            f"Rename the duplicate documents so each has a unique doc_id. Affected: {paths}.",
            tuple(docs),
        )
        groups.append((docs[0].file_path, 0, finding))
    for key, docs in by_key.items():
        doc_ids = list(dict.fromkeys(doc.doc_id for doc in docs))
        if len(doc_ids) > 1:
            paths = ", ".join(doc.file_path for doc in docs)
            finding = Finding(
                f"Multiple documents share the id '{key}': {', '.join(doc_ids)}.",
                f"Give each document its own id so that references to {key} are unambiguous. "
                f"Affected: {paths}.",
                tuple(docs),
            )
            groups.append((docs[0].file_path, 1, finding))
    for _path, _kind, finding in sorted(groups, key=lambda group: group[:2]):
        yield finding


RULES: tuple[tuple[Rule, Check], ...] = (
    (
        Rule("MISSING_PRD", "critical", "completeness"),
        _missing_singleton(
            "prd",
            "PRD",
            "Create a PRD document defining the product requirements for this project.",
        ),
    ),
    (
        Rule("MISSING_TRD", "high", "completeness"),
        _missing_singleton(
            "trd",
            "TRD",
            "Create a TRD document defining the technical requirements and architecture.",
        ),
    ),
    (
        Rule("MISSING_PLAN", "medium", "completeness"),
        _each_document(
            ["story"],
            lambda project, doc: doc.is_active_story and doc.key not in project.planned,
            "Story '{t}' has no associated plan.",
            "Create a plan document for story {id} with acceptance criteria coverage.",
        ),
    ),
    (
        Rule("MISSING_TEST_SPEC", "medium", "completeness"),
        _each_document(
            ["story"],
            lambda project, doc: doc.is_active_story and not project.has_test_spec(doc),
            "Story '{t}' has no associated test-spec.",
            "Create a test-spec document for story {id} with test cases covering the "
            "acceptance criteria.",
        ),
    ),
    (
        Rule("EPIC_NO_STORIES", "high", "completeness"),
        _each_document(
            ["epic"],
            lambda project, doc: not doc.is_review and not project.stories_of(doc),
            "Epic '{t}' has no child stories.",
            "Create story documents under epic {id} to break down the work into implementable "
            "units.",
        ),
    ),
    (
        Rule("STORY_NO_EPIC", "high", "consistency"),
        _each_document(
            ["story"],
            lambda _, doc: not doc.in_epic,
            "Story '{t}' has no epic reference.",
            "Add an epic reference to story {id} in its frontmatter metadata.",
        ),
    ),
    (
        Rule("PLAN_NO_STORY", "medium", "consistency"),
        _each_document(
            ["plan"],
            lambda _, doc: not doc.story,
            "Plan '{t}' has no story reference.",
            "Add a story reference to plan {id} in its frontmatter metadata.",
        ),
    ),
    (
        Rule("TEST_SPEC_NO_STORY", "medium", "consistency"),
        _each_document(
            ["test-spec"],
            lambda _, doc: not doc.story and not doc.in_epic,
            "Test-spec '{t}' has no story reference.",
            "Add a story reference to test-spec {id} in its frontmatter metadata.",
        ),
    ),
    (Rule("ORPHAN_REFERENCE", "medium", "consistency"), _orphan_reference),
    (Rule("STATUS_MISMATCH", "low", "consistency"), _status_mismatch),
    (Rule("STALE_ARTEFACT_STATUS", "low", "consistency"), _stale_artefact_status),
    (
        Rule("UNTRIAGED_INBOX", "low", "consistency"),
        _each_document(
            INBOX_TYPES,
            lambda _, doc: doc.status == "inbox",
            "{TYPE} '{t}' is still in the inbox (untriaged).",
            "Triage {id}: assign a working status and owner, or close it if it is not actionable.",
        ),
    ),
    (
        Rule("MISSING_STATUS", "high", "quality"),
        _each_document(
            None,
            lambda _, doc: not doc.is_project_level and not doc.is_record and _blank(doc.status),
            "Document '{t}' has no status set.",
            "Add a status field to {id} frontmatter (e.g. Draft, In Progress, Done).",
        ),
    ),
    (
        Rule("MISSING_OWNER", "medium", "quality"),
        _each_document(
            ["story", "epic"],
            lambda _, doc: not doc.is_review and _blank(doc.owner),
            "{T} '{t}' has no owner assigned.",
            "Assign an owner to {id} in its frontmatter metadata.",
        ),
    ),
    (
        Rule("MISSING_PRIORITY", "low", "quality"),
        _each_document(
            ["story"],
            lambda _, doc: doc.is_active_story and _blank(doc.priority),
            "Story '{t}' has no priority set.",
            "Add a priority field to {id} frontmatter (e.g. P0, P1, P2).",
        ),
    ),
    (
        Rule("MISSING_STORY_POINTS", "low", "quality"),
        _each_document(
            ["story"],
            lambda _, doc: doc.is_active_story and doc.story_points is None,
            "Story '{t}' has no story points.",
            "Add story_points to {id} frontmatter to help with sprint planning.",
        ),
    ),
    (Rule("DUPLICATE_DOC_ID", "critical", "integrity"), _duplicate_doc_id),
    (
        Rule("EMPTY_CONTENT", "high", "integrity"),
        _each_document(
            None,
            lambda _, doc: doc.content_chars < EMPTY_CONTENT_CHARS,
            "Document '{t}' has no meaningful content.",
            "Add content to {id} ({path}). The document appears to be empty or a stub.",
            archived_too=True,
        ),
    ),
    # STALE_DOCUMENT needs the clock and the project's last sync: see _stale_documents.
)
STALE_DOCUMENT = Rule("STALE_DOCUMENT", "low", "integrity")


def _as_utc(timestamp: str) -> datetime:
    # Stored timestamps carry +00:00; a naive one (older data) is UTC as well.
    value = datetime.fromisoformat(timestamp)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stale_documents(
    project: Project, project_synced_at: str | None, now: datetime
) -> Iterator[Finding]:
    """Documents no sync has seen for over 30 days.

    A row is rewritten only when its file changes, so its own `synced_at` can be old while
    every sync since has seen the file: `last_seen_at` is NULL then, meaning "as of the
    project's last sync". It holds a time only for files a later sync could not read.
    """
    cutoff = now - STALE_AFTER
    parsed: dict[str | None, datetime] = {None: datetime.min.replace(tzinfo=UTC)}
    for doc in project.docs:
        seen = doc.last_seen_at or project_synced_at
        for value in (doc.synced_at, seen):
            if value is not None and value not in parsed:  # one sync's rows share their time
                parsed[value] = _as_utc(value)
        last_seen = max(parsed[doc.synced_at], parsed[seen])
        if last_seen < cutoff:
            yield Finding(
                f"Document '{doc.title}' has not been synced in over 30 days "
                f"(last synced {last_seen.date().isoformat()}).",
                f"Review and re-sync {doc.doc_id} to ensure it is still current.",
                (doc,),
            )


def _finding(rule: Rule, finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "severity": rule.severity,
        "category": rule.category,
        "message": finding.message,
        "affected_documents": [doc.affected() for doc in finding.affected],
        "suggested_fix": finding.suggested_fix,
    }


def score(summary: dict[str, int]) -> int:
    """clamp(100 - (15 critical + 5 high + 2 medium + 1 low), 0, 100)."""
    penalty = sum(SEVERITY_WEIGHTS[severity] * count for severity, count in summary.items())
    return max(0, min(100, 100 - penalty))


def check_project(conn: Connection, slug: str, now: datetime | None = None) -> dict[str, Any]:
    """The health check of one project's current documents (404 for an unknown project)."""
    now = now or datetime.now(UTC)
    found = conn.exec_driver_sql(_PROJECT_SQL, (slug,)).first()
    if found is None:
        raise NotFoundError(PROJECT_NOT_FOUND)
    project_id, project_synced_at = found
    # Straight from the sqlite3 cursor: a project's every row, where SQLAlchemy's per-row
    # result processing would cost a third of the check.
    cursor = driver_connection(conn).execute(_DOCUMENTS_SQL, (project_id,))
    docs = [Doc.from_row(row) for row in cursor.fetchall()]
    project = Project(docs)

    findings: list[dict[str, Any]] = []
    for rule, check in RULES:
        findings.extend(_finding(rule, finding) for finding in check(project))
    findings.extend(
        _finding(STALE_DOCUMENT, finding)
        for finding in _stale_documents(project, project_synced_at, now)
    )
    summary = dict.fromkeys(SEVERITY_WEIGHTS, 0)
    for finding in findings:
        summary[finding["severity"]] += 1
    return {
        "project_slug": slug,
        "checked_at": now.isoformat(timespec="microseconds"),
        "total_documents": len(docs),
        "findings": findings,
        "summary": summary,
        "score": score(summary),
    }
