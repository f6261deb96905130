"""The benchmark corpus generator: exact sizes, unique ids, consistent references, determinism."""

import re
from collections import Counter
from pathlib import Path

from benchmarks.corpus import generate, shift_ids

ID = re.compile(r"^(EP|US|PL|TS|WF)\d{4,}")


def test_exact_size_and_folder_mix(tmp_path: Path) -> None:
    tree = generate(400, tmp_path / "c")
    files = list(tree.rglob("*.md"))
    assert len(files) == 400
    folders = Counter(p.parent.name for p in files if p.parent != tree)
    assert {"epics", "stories", "plans", "test-specs", "workflows"} <= set(folders)
    # One of each singleton, as in a real project.
    assert sorted(p.name for p in files if p.parent == tree) == [
        "personas.md",
        "prd.md",
        "trd.md",
        "tsd.md",
    ]


def test_ids_stay_unique_and_references_follow(tmp_path: Path) -> None:
    tree = generate(1000, tmp_path / "c")
    ids = Counter(m[0] for p in tree.rglob("*.md") if (m := ID.match(p.name)))
    assert ids and max(ids.values()) == 1
    story = next(p for p in (tree / "stories").iterdir() if p.name.startswith("US07"))
    epic_ref = re.search(r"\*\*Epic:\*\*.*?(EP\d{4,})", story.read_text()).group(1)
    assert any(p.name.startswith(epic_ref) for p in (tree / "epics").iterdir())


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first, second = generate(300, tmp_path / "a"), generate(300, tmp_path / "b")
    read = lambda tree: {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*.md")}  # noqa: E731
    assert read(first) == read(second)


def test_shift_ids_keeps_four_digits() -> None:
    assert shift_ids("US0003 and [EP0001](../epics/EP0001-x.md)", 700) == (
        "US0703 and [EP0701](../epics/EP0701-x.md)"
    )
    assert shift_ids("US0003", 10_000) == "US10003"
    # Only known sequential ids at a word boundary move.
    assert shift_ids("RFC0001 BUS0001 US0003", 5) == "RFC0001 BUS0001 US0008"
