"""The checkup's rules (SPEC-2 §15.3), in table order: each a pass over the project's
documents that yields its findings."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from string import Formatter
from typing import NamedTuple

from sdlc_lens.services.reports.checkup_documents import Doc, Project, completed_status

EMPTY_CONTENT_CHARS = 50
# A finding lists at most this many documents (in its affected list and in its message); the
# answer says how many there are in all.
AFFECTED_PER_FINDING = 100
STALE_AFTER = timedelta(days=30)
INBOX_TYPES = frozenset({"bug", "cr", "rfc"})


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
    affected: Sequence[Doc]


class DocumentFinding(NamedTuple):
    """A finding about one document whose texts are filled in only when they are read: a
    rule can fire for every document of a large project, and only the first few findings
    of each rule are answered."""

    doc: Doc
    message_for: Callable[[Doc], str]
    fix_for: Callable[[Doc], str]

    @property
    def message(self) -> str:
        return self.message_for(self.doc)

    @property
    def suggested_fix(self) -> str:
        return self.fix_for(self.doc)

    @property
    def affected(self) -> tuple[Doc]:
        return (self.doc,)


AnyFinding = Finding | DocumentFinding


def _plural(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def listed(values: Iterable[str]) -> str:
    """`a, b, c`, naming at most AFFECTED_PER_FINDING values: `a, b and 2,998 more`."""
    values = list(values)
    shown = ", ".join(values[:AFFECTED_PER_FINDING])
    hidden = len(values) - AFFECTED_PER_FINDING
    return f"{shown} and {hidden:,} more" if hidden > 0 else shown


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


# --- the rules, in table order --------------------------------------------------------------

Check = Callable[[Project], Iterator[AnyFinding]]


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

    def check(project: Project) -> Iterator[AnyFinding]:
        if archived_too:
            docs = project.docs if only is None else [d for d in project.docs if d.doc_type in only]
        elif only is not None and len(only) == 1:
            docs = project.live_by_type.get(next(iter(only)), [])
        else:
            docs = project.live if only is None else [d for d in project.live if d.doc_type in only]
        for doc in docs:
            if fires(project, doc):
                yield DocumentFinding(doc, message_for, fix_for)

    return check


def _missing_singleton(doc_type: str, name: str, fix: str) -> Check:
    def check(project: Project) -> Iterator[AnyFinding]:
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
    """Once per id: epics sharing one id share its stories, so only the epic the id names
    (as `/related` resolves it: live, then the smallest path) is compared with them."""
    for doc in project.live:
        if doc.doc_type != "epic" or not doc.terminal or project.epic_named(doc.key) is not doc:
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
        types = listed(doc.doc_type for doc in docs)
        paths = listed(doc.file_path for doc in docs)
        finding = Finding(
            f"Multiple documents share doc_id '{doc_id}': {types}.",
            f"Rename the duplicate documents so each has a unique doc_id. Affected: {paths}.",
            tuple(docs),
        )
        groups.append((docs[0].file_path, 0, finding))
    for key, docs in by_key.items():
        doc_ids = list(dict.fromkeys(doc.doc_id for doc in docs))
        if len(doc_ids) > 1:
            paths = listed(doc.file_path for doc in docs)
            finding = Finding(
                f"Multiple documents share the id '{key}': {listed(doc_ids)}.",
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


def stale_documents(
    project: Project, project_synced_at: str | None, now: datetime
) -> Iterator[Finding]:
    """Documents no sync has seen for over 30 days."""
    cutoff = now - STALE_AFTER
    for doc, last_seen in _last_seen(project, project_synced_at):
        if last_seen < cutoff:
            yield Finding(
                f"Document '{doc.title}' has not been synced in over 30 days "
                f"(last synced {last_seen.date().isoformat()}).",
                f"Review and re-sync {doc.doc_id} to ensure it is still current.",
                (doc,),
            )


def next_stale_time(
    project: Project, project_synced_at: str | None, now: datetime
) -> datetime | None:
    """When the next document that is not stale now turns stale: until then, the checkup of
    these documents stays what it is (None: none will, without a sync)."""
    cutoff = now - STALE_AFTER
    fresh = [seen for _doc, seen in _last_seen(project, project_synced_at) if seen >= cutoff]
    return min(fresh) + STALE_AFTER if fresh else None


def _last_seen(project: Project, project_synced_at: str | None) -> Iterator[tuple[Doc, datetime]]:
    """Each document with when a sync last saw it.

    A row is rewritten only when its file changes, so its own `synced_at` can be old while
    every sync since has seen the file: `last_seen_at` is NULL then, meaning "as of the
    project's last sync". It holds a time only for files a later sync could not read.
    """
    parsed: dict[str | None, datetime] = {None: datetime.min.replace(tzinfo=UTC)}
    for doc in project.docs:
        seen = doc.last_seen_at or project_synced_at
        for value in (doc.synced_at, seen):
            if value is not None and value not in parsed:  # one sync's rows share their time
                parsed[value] = _as_utc(value)
        yield doc, max(parsed[doc.synced_at], parsed[seen])
