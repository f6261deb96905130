"""Relationships never loop: a document is never among its own ancestors, whatever its
references say, and children stay the exact inverse of the nearest parents."""

import itertools
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import examples, markdown, synced_project

FOLDERS = {"epic": "epics", "story": "stories", "plan": "plans"}
PREFIXES = {"epic": "EP", "story": "US", "plan": "PL"}


def related(client: TestClient, slug: str, doc_type: str, doc_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/projects/{slug}/documents/{doc_type}/{doc_id}/related")
    assert response.status_code == 200, response.text
    return response.json()


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["doc_id"] for item in items]


def test_two_stories_naming_each_other_are_not_each_others_parent(
    client: TestClient, tmp_path: Path
) -> None:
    files = {
        "epics/EP0001-e.md": markdown("EP0001: E"),
        "stories/US0001-a.md": markdown("US0001: A", Story="US0002", Epic="EP0001"),
        "stories/US0002-b.md": markdown("US0002: B", Story="US0001", Epic="EP0001"),
    }
    slug = synced_project(client, tmp_path, "mutual", files)
    first = related(client, slug, "story", "US0001-a")
    second = related(client, slug, "story", "US0002-b")
    # The link goes up the one order parents follow: US0001 ranks above US0002, so US0002's
    # `Story: US0001` is a parent link and US0001's `Story: US0002` is not (its epic is).
    assert ids(second["parents"]) == ["US0001-a", "EP0001-e"]
    assert ids(first["parents"]) == ["EP0001-e"]
    assert ids(first["children"]) == ["US0002-b"]
    assert ids(second["children"]) == []
    assert ids(related(client, slug, "epic", "EP0001-e")["children"]) == ["US0001-a"]


def test_a_loop_of_epics_is_cut_where_it_would_go_down(client: TestClient, tmp_path: Path) -> None:
    files = {
        "epics/EP0001-a.md": markdown("EP0001: A", Epic="EP0003"),
        "epics/EP0002-b.md": markdown("EP0002: B", Epic="EP0001"),
        "epics/EP0003-c.md": markdown("EP0003: C", Epic="EP0002"),
    }
    slug = synced_project(client, tmp_path, "loop", files)
    epics = ("EP0001-a", "EP0002-b", "EP0003-c")
    parents = {d: ids(related(client, slug, "epic", d)["parents"]) for d in epics}
    assert parents == {"EP0001-a": [], "EP0002-b": ["EP0001-a"], "EP0003-c": ["EP0002-b"]}
    assert ids(related(client, slug, "epic", "EP0003-c")["children"]) == []


# A small project whose documents name any other (or themselves) as their epic and story.
documents = st.lists(
    st.tuples(
        st.sampled_from(sorted(FOLDERS)),
        st.integers(1, 6),  # the id number
        st.one_of(st.none(), st.integers(1, 6)),  # `Epic:` names EP000n
        st.one_of(st.none(), st.integers(1, 6)),  # `Story:` names US000n
        st.booleans(),  # name the epic by a story id instead (US000n as `Epic:`)
    ),
    min_size=1,
    max_size=10,
    unique_by=lambda d: (d[0], d[1]),
)
_projects = itertools.count()


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(docs=documents)
def test_no_document_is_among_its_own_ancestors_and_children_invert_parents(
    client: TestClient, tmp_path: Path, docs: list[tuple[str, int, int | None, int | None, bool]]
) -> None:
    files = {}
    for doc_type, number, epic, story, epic_is_story in docs:
        fields = {}
        if epic is not None:
            fields["Epic"] = f"{'US' if epic_is_story else 'EP'}{epic:04d}"
        if story is not None:
            fields["Story"] = f"US{story:04d}"
        doc_id = f"{PREFIXES[doc_type]}{number:04d}-d"
        files[f"{FOLDERS[doc_type]}/{doc_id}.md"] = markdown(f"{doc_id}: D", **fields)
    slug = synced_project(client, tmp_path, f"graph-{next(_projects)}", files)
    answers = {
        (doc_type, f"{PREFIXES[doc_type]}{number:04d}-d"): related(
            client, slug, doc_type, f"{PREFIXES[doc_type]}{number:04d}-d"
        )
        for doc_type, number, *_ in docs
    }
    for (doc_type, doc_id), answer in answers.items():
        # Walk every parent of every parent: it ends, and never comes back to the start.
        seen: set[tuple[str, str]] = set()
        frontier = [(p["type"], p["doc_id"]) for p in answer["parents"]]
        while frontier:
            step = frontier.pop()
            assert step != (doc_type, doc_id), f"{doc_id} is its own ancestor"
            if step not in seen:
                seen.add(step)
                frontier.extend((p["type"], p["doc_id"]) for p in answers[step]["parents"])
        # Children are exactly the documents whose nearest parent this is.
        nearest = {
            key: (a["parents"][0]["type"], a["parents"][0]["doc_id"])
            for key, a in answers.items()
            if a["parents"]
        }
        expected = sorted(key for key, parent in nearest.items() if parent == (doc_type, doc_id))
        assert sorted((c["type"], c["doc_id"]) for c in answer["children"]) == expected
