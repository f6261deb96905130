"""The generated fixture trees really cover what they promise: every document type, every
health-check rule, references by alias with colliding ids, and hostile names.

(Every front-matter form is checked in tests/unit/test_parsing_corpus.py; every tree also goes
through the corpus-wide tests, see tests/fixtures.py.)
"""

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.parsing import DOC_TYPE_BY_PREFIX, identity
from sdlc_lens.services.reports.checkup_rules import RULES, STALE_DOCUMENT
from tests.fixtures import fixture_trees
from tests.helpers import REPO_DIR, db_file, register, sync

# The rule ids of the health-check table in the API documentation.
RULES_TABLE = re.compile(r"^\| `([A-Z_]+)`(?: / `([A-Z_]+)`)? \|", re.MULTILINE)


def documented_rules() -> list[str]:
    text = (REPO_DIR / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("## Health check", 1)[1].split("\n## ", 1)[0]
    return [rule for pair in RULES_TABLE.findall(section) for rule in pair if rule]


@pytest.fixture
def synced(client: TestClient, fixture_tree_paths: dict[str, Path]) -> Any:
    """Register and sync one fixture tree (slug = tree name)."""

    def synced_tree(name: str) -> str:
        slug = register(client, name, fixture_tree_paths[name])["slug"]
        assert sync(client, slug)["sync_status"] == "synced"
        return slug

    return synced_tree


def test_every_document_type_the_parser_knows_is_in_a_tree() -> None:
    # The parser's own tables: by id prefix, by folder, by the name of a one-per-project file.
    known = {
        *DOC_TYPE_BY_PREFIX.values(),
        *identity._TYPE_BY_FOLDER.values(),
        *identity._SINGLETON_STEMS,
        "other",
    }
    found = {doc_type for tree in fixture_trees().values() for doc_type in tree.types.values()}
    assert known <= found, known - found


def test_the_health_rules_tree_yields_every_documented_rule(
    client: TestClient, synced: Any, database_url: str
) -> None:
    # The rules the code checks are the rules the documentation lists: a new rule needs a
    # finding in the health-rules tree before this test passes again.
    rules = documented_rules()
    assert sorted(rules) == sorted([rule.rule_id for rule, _ in RULES] + [STALE_DOCUMENT.rule_id])
    slug = synced("health-rules")
    # As if every file had been synced 40 days ago and not seen since: STALE_DOCUMENT.
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="microseconds")
    with sqlite3.connect(db_file(database_url)) as db:
        db.execute("UPDATE documents SET synced_at = ?", (long_ago,))
        db.execute("UPDATE projects SET last_synced_at = ?", (long_ago,))
    report = client.get(f"/api/v1/projects/{slug}/health-check").json()
    assert {finding["rule_id"] for finding in report["findings"]} == set(rules)


def related(client: TestClient, doc_type: str, doc_id: str) -> dict[str, list[str]]:
    path = f"/api/v1/projects/relationships/documents/{doc_type}/{quote(doc_id)}/related"
    answer = client.get(path).json()
    keys = ("parents", "children", "depends_on", "dependents")
    return {key: [item["doc_id"] for item in answer[key]] for key in keys}


def test_the_relationships_tree_resolves_aliases_and_collisions(
    client: TestClient, synced: Any
) -> None:
    synced("relationships")
    # An epic named by its alias; a story named by its alias, as a wiki link.
    assert related(client, "story", "US0001-by-alias")["parents"] == ["EP0001-platform"]
    assert related(client, "plan", "PL0001-via-alias")["parents"] == [
        "US0002-wiki-link",
        "EP0001-platform",
    ]
    # EP0003 claims EP0001 as an alias: the epic whose own id it is wins.
    assert related(client, "story", "US0002-wiki-link")["parents"] == ["EP0001-platform"]
    # Two epics share the head EP0002: the smaller path answers.
    assert related(client, "story", "US0003-shared-head")["parents"] == ["EP0002-alpha"]
    assert related(client, "story", "US0004-ulid-epic")["parents"] == ["EP-01HZX3Y4QW-ulid"]
    # A story that names no document falls back to the plan's own epic.
    assert related(client, "plan", "PL0002-missing-story")["parents"] == ["EP0001-platform"]
    # Itself, a repeat and an unknown id are left out of the dependencies.
    assert related(client, "story", "US0002-wiki-link")["depends_on"] == [
        "US0001-by-alias",
        "US0003-shared-head",
    ]
    # The live copy answers for a doc_id its archived copy shares.
    detail = client.get("/api/v1/projects/relationships/documents/epic/EP0001-platform").json()
    assert detail["file_path"] == "epics/EP0001-platform.md"
    report = client.get("/api/v1/projects/relationships/health-check").json()
    duplicates = [
        sorted({doc["doc_id"] for doc in finding["affected_documents"]})
        for finding in report["findings"]
        if finding["rule_id"] == "DUPLICATE_DOC_ID"
    ]
    assert sorted(duplicates) == [
        ["BG0001-twice"],
        ["EP0001-platform"],
        ["EP0002-alpha", "EP0002-beta"],
    ]


def test_the_hostile_names_tree_has_every_kind_of_name() -> None:
    names = [path.rsplit("/", 1)[-1] for path in fixture_trees()["hostile-names"].types]
    assert any(not name.isascii() for name in names)
    assert any(any(ord(char) > 0xFFFF for char in name) for name in names)  # emoji
    assert any(" " in name for name in names)
    assert any(len(name.encode()) > 200 for name in names)
    assert set("#?%&;[]()'!$`*<>\\~") <= set("".join(names))
    assert any(name.startswith(("-", " ", ".")) for name in names)
    assert any(re.fullmatch(r"[A-Z]+\d{4}\.md", name) for name in names)  # just an id
    assert any(name.endswith(".MD") for name in names)


def test_hostile_names_are_stored_and_served_as_they_are(client: TestClient, synced: Any) -> None:
    slug = synced("hostile-names")
    tree = fixture_trees()["hostile-names"]
    listed = client.get(f"/api/v1/projects/{slug}/documents", params={"per_page": 100}).json()
    by_id = {item["doc_id"]: item for item in listed["items"]}
    for path, doc_type in tree.types.items():
        stem = path.rsplit("/", 1)[-1][:-3]
        doc_id = stem.lower() if doc_type == "prd" else stem
        assert by_id[doc_id]["type"] == doc_type, path
        url = f"/api/v1/projects/{slug}/documents/{doc_type}/{quote(doc_id, safe='')}"
        detail = client.get(url)
        assert detail.status_code == 200, (path, detail.text)
        assert detail.json()["file_path"] == path
