"""The documents of a realistic sdlc-studio project, one function per type.

Each function writes the sections sdlc-studio's own templates give a document of that type
(user story, acceptance criteria, implementation steps, test cases, ...) around generated
prose, then pads it with notes up to `size` characters, so that the sizes and the type mix of
a generated project stay close to written ones.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from harness.markdown import Prose, document, link, table

# Sentences that tie a document to its epic's subject; most words come from `Prose`.
TOPICS: dict[str, tuple[str, ...]] = {
    "docker": (
        "The service runs in a Docker container built from a multi-stage Dockerfile.",
        "Docker Compose starts the backend and the frontend together with one command.",
        "The compose file mounts the data folder as a named volume.",
        "The Docker image reports healthy once the API answers its health endpoint.",
    ),
    "alerts": (
        "An alert goes to the Telegram channel when a threshold is crossed.",
        "The Telegram bot token is read from the settings and never logged.",
        "A repeated alert is muted for ten minutes after the first message.",
    ),
    "auth": (
        "The login form sends the password once and keeps a session cookie.",
        "A session expires after thirty minutes without a request.",
        "A wrong password is answered with the same message as an unknown user.",
    ),
    "reminders": (
        "A reminder fires at the time the cook chose, even when the page is closed.",
        "Each reminder shows the recipe step it belongs to.",
        "A missed reminder stays in the list until it is dismissed.",
    ),
    "catalogue": (
        "A recipe has a title, a list of ingredients and numbered steps.",
        "Recipes are listed in the order the cook arranged them.",
    ),
    "planning": (
        "The weekly plan places one recipe on each day and meal.",
        "Dragging a recipe to another day moves it without a reload.",
    ),
    "pantry": (
        "The pantry keeps a quantity and a unit for every ingredient.",
        "The shopping list subtracts what the pantry already holds.",
    ),
    "sensors": (
        "Each sensor reading carries the device id, the value and the time it was taken.",
        "Readings older than a year are folded into daily averages.",
    ),
    "search": (
        "The search box matches words in titles and bodies alike.",
        "Results are ranked so that an exact title comes first.",
    ),
    "reports": (
        "The weekly report counts what changed since the previous one.",
        "A report can be exported as a CSV file.",
    ),
    "sharing": (
        "A shared link opens a read-only copy of the page.",
        "The owner can revoke a shared link at any time.",
    ),
}
# Mentioned by plans and stories of any subject, as written projects mention their stack.
STACK = (
    "The backend is deployed as a Docker image next to the database.",
    "Local development uses Docker for the database only.",
    "The Docker build caches the dependencies in their own layer.",
    "Continuous integration runs the tests inside the same Docker image.",
    "Docker Compose brings up the whole stack for a manual check.",
)


@dataclass(frozen=True, slots=True)
class Ref:
    """A document as others name it: `EP0001`, its title and where its file lives."""

    doc_id: str
    title: str
    folder: str
    stem: str

    @property
    def heading(self) -> str:
        return f"{self.doc_id}: {self.title}"

    def link(self, from_folder: str | None) -> str:
        """The markdown link to it from a file in `from_folder` (None: the project root)."""
        path = f"{self.folder}/{self.stem}.md"
        return link(self.doc_id, self.title, f"../{path}" if from_folder else path)


def _padded(prose: Prose, sections: list[str], size: int, tail: Sequence[str] = ()) -> str:
    """The sections, then `## Notes` paragraphs until the text has about `size` characters."""
    text = "\n\n".join(sections)
    length = len(text) + sum(len(t) + 2 for t in tail)
    notes: list[str] = []
    while length < size:
        note = prose.paragraph(prose.rng.randint(3, 6))
        if length + len(note) - size > size - length:  # closer to `size` without it
            break
        notes.append(note)
        length += len(note) + 2
    parts = [text, "## Notes\n\n" + "\n\n".join(notes)] if notes else [text]
    return "\n\n".join([*parts, *tail]) + "\n"


def _revisions(created: str) -> str:
    return "## Revision History\n\n" + table(
        ("Date", "Author", "Change"), [(created, "Claude", "Initial draft")]
    )


def epic(
    prose: Prose,
    ref: Ref,
    fields: dict[str, str | None],
    stories: Sequence[Ref],
    topic: Sequence[str],
    size: int,
    late_quote: bool = False,
) -> str:
    sections = [
        "## Summary\n\n" + prose.paragraph(3, topic[:1]),
        "## Inherited Constraints\n\n### From PRD\n\n"
        + table(
            ("Type", "Constraint", "Impact on Epic"),
            [("Performance", prose.phrase(5), prose.phrase(6)) for _ in range(3)],
        ),
        "## Business Context\n\n### Problem Statement\n\n"
        + prose.paragraph(4)
        + "\n\n### Success Metrics\n\n"
        + prose.bullets(3),
        "## Scope\n\n### In Scope\n\n"
        + prose.bullets(4)
        + "\n\n### Out of Scope\n\n"
        + prose.bullets(2),
        "## Acceptance Criteria (Epic Level)\n\n" + prose.bullets(4, "- [ ] "),
        "## Story Breakdown\n\n" + "\n".join(f"- [ ] {story.link('epics')}" for story in stories),
        "## Technical Considerations\n\n" + prose.paragraph(4, topic[1:]),
    ]
    if late_quote:
        # A quote far below the front matter is prose, not metadata.
        sections.insert(2, "> See the PRD and the TRD for the full constraints.")
    body = _padded(prose, sections, size, [_revisions(fields.get("Created") or "")])
    return document(ref.heading, fields, body)


def story(
    prose: Prose,
    ref: Ref,
    fields: dict[str, str | None],
    persona: str,
    topic: Sequence[str],
    size: int,
    after: Sequence[Ref] = (),
) -> str:
    """A user story; `after` are the stories it builds on (a table, not front matter)."""
    criteria = []
    for number in range(1, prose.rng.randint(4, 6)):
        criteria.append(
            f"### AC{number}: {prose.phrase(4).capitalize()}\n\n"
            f"- **Given** {prose.phrase(6)}\n- **When** {prose.phrase(5)}\n"
            f"- **Then** {prose.phrase(7)}"
        )
    sections = [
        f"## User Story\n\n**As a** {persona}\n**I want** {prose.phrase(7)}\n"
        f"**So that** {prose.phrase(8)}",
        "## Context\n\n### Persona Reference\n\n"
        + f"**{persona}** - {prose.sentence()}\n\n### Background\n\n"
        + prose.paragraph(5, topic[:2]),
        "## Acceptance Criteria\n\n" + "\n\n".join(criteria),
        "## Scope\n\n### In Scope\n\n"
        + prose.bullets(3)
        + "\n\n### Out of Scope\n\n"
        + prose.bullets(2),
        "## Edge Cases\n\n"
        + table(
            ("Scenario", "Expected Behaviour"),
            [(prose.phrase(5), prose.phrase(7)) for _ in range(prose.rng.randint(4, 8))],
        ),
        "## Test Scenarios\n\n" + prose.bullets(prose.rng.randint(4, 7), "- [ ] "),
    ]
    if after:
        rows = [(f"[{s.doc_id}](../{s.folder}/{s.stem}.md)", s.title, "Done") for s in after]
        sections.append("## Dependencies\n\n" + table(("Story", "Title", "Status"), rows))
    body = _padded(prose, sections, size, [_revisions(fields.get("Created") or "")])
    return document(ref.heading, fields, body)


def plan(
    prose: Prose, ref: Ref, fields: dict[str, str | None], topic: Sequence[str], size: int
) -> str:
    steps = []
    for phase in range(1, prose.rng.randint(3, 4)):
        steps.append(f"### Phase {phase}: {prose.phrase(3).capitalize()}")
        for step in range(1, prose.rng.randint(3, 5)):
            steps.append(
                f"#### Step {phase}.{step}: {prose.phrase(4).capitalize()}\n\n"
                f"{prose.paragraph(2)}\n\n```python\n"
                f"def {prose.phrase(2).replace(' ', '_')}():\n    return None\n```"
            )
    sections = [
        "## Overview\n\n" + prose.paragraph(3, topic[:1]),
        "## Acceptance Criteria Summary\n\n"
        + table(
            ("AC", "Name", "Description"),
            [(f"AC{n}", prose.phrase(3), prose.phrase(7)) for n in range(1, 5)],
        ),
        "## Technical Context\n\n" + prose.paragraph(4, topic[1:]),
        "## Implementation Steps\n\n" + "\n\n".join(steps),
        "## Risks & Mitigations\n\n"
        + table(
            ("Risk", "Impact", "Mitigation"),
            [(prose.phrase(4), prose.choice(("Low", "Medium", "High")), prose.phrase(6))] * 2,
        ),
        "## Definition of Done\n\n" + prose.bullets(5, "- [ ] "),
    ]
    return document(ref.heading, fields, _padded(prose, sections, size))


def test_spec(
    prose: Prose, ref: Ref, fields: dict[str, str | None], stories: Sequence[Ref], size: int
) -> str:
    covered = [(f"[{s.doc_id}](../{s.folder}/{s.stem}.md)", s.title, "High") for s in stories] or [
        ("-", "-", "-")
    ]
    cases = []
    for number in range(1, prose.rng.randint(10, 16)):
        cases.append(
            f"### TC{number:03d}: {prose.phrase(5).capitalize()}\n\n"
            f"**Type:** {prose.choice(('Unit', 'Integration', 'E2E'))} | **Priority:** High\n\n"
            f"#### Scenario\n\n```gherkin\nGiven {prose.phrase(6)}\nWhen {prose.phrase(5)}\n"
            f"Then {prose.phrase(6)}\n```\n\n#### Assertions\n\n" + prose.bullets(3, "- [ ] ")
        )
    sections = [
        "## Overview\n\n" + prose.paragraph(3),
        "## Scope\n\n### Stories Covered\n\n" + table(("Story", "Title", "Priority"), covered),
        "## Environment\n\n" + prose.bullets(3),
        "## Test Cases\n\n" + "\n\n".join(cases),
    ]
    return document(ref.heading, fields, _padded(prose, sections, size))


def workflow(prose: Prose, ref: Ref, fields: dict[str, str | None], story: Ref, size: int) -> str:
    sections = [
        "## Workflow Summary\n\n"
        + table(
            ("Attribute", "Value"),
            [("Story", story.doc_id), ("Approach", "Test-After"), ("Phases", "8")],
        ),
        "## Approach Decision\n\n**Strategy:** Test-After\n\n"
        + prose.paragraph(2, [f"The workflow takes {story.title} from plan to done."]),
        "## Phase Progress\n\n"
        + table(
            ("#", "Phase", "Status"),
            [(str(n), prose.phrase(2), "Done") for n in range(1, 9)],
        ),
    ]
    return document(ref.heading, fields, _padded(prose, sections, size))


def bug(prose: Prose, ref: Ref, fields: dict[str, str | None], size: int) -> str:
    sections = [
        "## Summary\n\n" + prose.paragraph(2),
        "## Steps to Reproduce\n\n" + prose.bullets(4, "1. "),
        "## Expected\n\n" + prose.sentence() + "\n\n## Actual\n\n" + prose.sentence(),
        "## Log\n\n```text\n" + "\n".join(prose.phrase(8) for _ in range(6)) + "\n```",
    ]
    return document(ref.heading, fields, _padded(prose, sections, size))


def product_document(
    prose: Prose,
    title: str,
    fields: dict[str, str | None],
    epics: Sequence[Ref],
    size: int,
    late_quote: str | None = None,
) -> str:
    """A PRD, TRD or TSD: plain `**Key:** value` lines under the title (no blockquote), then
    numbered sections; `late_quote` is a blockquote far below, which is prose."""
    head = "".join(f"**{key}:** {value}\n" for key, value in fields.items() if value is not None)
    sections = [f"# {title}\n\n{head}\n---"]
    for number, heading in enumerate(
        ("Project Overview", "Problem Statement", "Feature Inventory", "Architecture",
         "Non-Functional Requirements", "Open Questions"), start=1,
    ):  # fmt: skip
        text = f"## {number}. {heading}\n\n" + "\n\n".join(
            prose.paragraph(prose.rng.randint(3, 6)) for _ in range(3)
        )
        if heading == "Feature Inventory":
            text += "\n\n" + table(
                ("Epic", "Status"), [(ref.link(None), "Planned") for ref in epics]
            )
        sections.append(text)
    tail = [late_quote] if late_quote else []
    return _padded(prose, sections, size, tail)


def personas(prose: Prose, people: Sequence[tuple[str, str]], size: int) -> str:
    """Personas without front matter: an introduction, then one section per person."""
    sections = ["# User Personas", prose.paragraph(2), "---"]
    for name, role in people:
        sections.append(
            f"## {name}\n\n**Role:** {role}\n**Technical Proficiency:** "
            f"{prose.choice(('Novice', 'Intermediate', 'Expert'))}\n\n" + prose.paragraph(2)
        )
    return _padded(prose, sections, size)
