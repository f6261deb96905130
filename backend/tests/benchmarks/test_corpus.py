"""The scaled corpus generator: exact sizes, unique ids, consistent references, determinism."""

import re
from collections import Counter
from pathlib import Path

from benchmarks.corpus import generate

ID = re.compile(r"^(EP|US|PL|TS|WF)\d{4,}")


def test_exact_size_and_folder_mix(tmp_path: Path) -> None:
    tree = generate(200, tmp_path / "c")
    files = list(tree.rglob("*"))
    assert all(p.suffix == ".md" for p in files if p.is_file())
    files = [p for p in files if p.is_file()]
    assert len(files) == 200
    folders = Counter(p.parent.name for p in files if p.parent != tree)
    assert set(folders) == {"epics", "stories", "plans", "test-specs", "workflows"}
    # Stories outnumber plans, plans epics, epics test specs, as in written projects.
    assert folders["stories"] > folders["plans"] > folders["epics"] > folders["test-specs"]
    # One of each singleton, as in a real project.
    assert sorted(p.name for p in files if p.parent == tree) == [
        "personas.md",
        "prd.md",
        "trd.md",
        "tsd.md",
    ]


def test_ids_stay_unique_and_references_follow(tmp_path: Path) -> None:
    tree = generate(4 + 62 * 4, tmp_path / "c")  # the singletons and four whole units
    ids = Counter(m[0] for p in tree.rglob("*.md") if (m := ID.match(p.name)))
    assert ids and max(ids.values()) == 1
    epics = {p.name[:6] for p in (tree / "epics").iterdir()}
    stories = {p.name[:6] for p in (tree / "stories").iterdir()}
    for story in (tree / "stories").iterdir():
        epic = re.search(r"\*\*Epic:\*\*.*?(EP\d{4,})", story.read_text()).group(1)
        assert epic in epics, story.name
    for plan in (tree / "plans").iterdir():
        named = re.search(r"\*\*Story:\*\*.*?(US\d{4,})", plan.read_text()).group(1)
        assert named in stories and named[2:] == plan.name[2:6], plan.name


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first, second = generate(150, tmp_path / "a"), generate(150, tmp_path / "b")
    read = lambda tree: {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*.md")}  # noqa: E731
    assert read(first) == read(second)


def test_a_target_that_exists_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "c" / "stale").mkdir(parents=True)
    tree = generate(10, tmp_path / "c")
    assert not (tree / "stale").exists()
    assert len(list(tree.rglob("*.md"))) == 10
