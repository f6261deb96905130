"""The tests' fixed inputs: generated sdlc-studio trees, and the real trees a run may add.

The trees are written by code in `harness/` (shared with the benchmarks), never copied from a
real project: datasette's tests/fixtures.py is the model. To look at them:

    uv run python -m tests.fixtures /tmp/fixture-trees

Real trees are optional: `SDLC_LENS_TEST_CORPUS=DIR` adds every folder under DIR to the
corpus-wide tests (those that take the `corpus_tree` fixture); without it, their `real-trees`
case is reported as skipped and says how to enable it. Every assertion of those tests also
runs on each generated tree, always.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.e2e_project import E2E_FILES as E2E_FILES
from harness.e2e_project import PRD_AFTER_TITLE as PRD_AFTER_TITLE
from harness.e2e_project import US0001_BODY as US0001_BODY
from harness.fixture_trees import (
    TEST_CORPUS_VARIABLE,
    fixture_trees,
    real_trees,
    types_by_folder,
    write_fixture_tree,
    write_fixture_trees,
)
from harness.sample_projects import GARDEN_MONITOR, RECIPE_BOX, scaled_corpus

__all__ = [
    "E2E_FILES",
    "GARDEN_MONITOR",
    "PRD_AFTER_TITLE",
    "RECIPE_BOX",
    "SAMPLE_PROJECTS",
    "TEST_CORPUS_VARIABLE",
    "US0001_BODY",
    "CorpusTree",
    "corpus_cases",
    "corpus_tree_params",
    "fixture_trees",
    "scaled_corpus",
    "write_fixture_tree",
    "write_fixture_trees",
]

# Read at collection (in each xdist worker too); conftest.py then keeps it out of the
# environment while tests run, since it is the suite's input and not a setting of the app.
REAL_TREES = real_trees()

SKIP_REASON = (
    f"no real trees given: set {TEST_CORPUS_VARIABLE}=DIR to also run this test on every "
    "sdlc-studio folder under DIR (.ci/run sets it to the corpus beside the repository)"
)
# The two realistic projects, as (name, fixture tree) for the tests that browse them.
SAMPLE_PROJECTS = (("Recipe Box", "recipe-box"), ("Garden Monitor", "garden-monitor"))


@dataclass(frozen=True, slots=True)
class CorpusTree:
    """A tree for the corpus-wide tests: generated (with its own oracle) or real."""

    name: str  # also the name its project is registered under
    path: Path
    types: dict[str, str]  # relative path of each document -> the doc_type it must get
    epicless_stories: frozenset[str]  # doc_ids of stories without an epic, on purpose


def corpus_cases() -> list[str | Path]:
    """The name of every generated tree, then the path of every real tree (if any)."""
    return [*fixture_trees(), *(REAL_TREES or ())]


def corpus_tree_params() -> list[object]:
    """`corpus_cases` for parametrize, plus a skipped `real-trees` case without real trees."""
    cases: list[object] = [
        pytest.param(case, id=case if isinstance(case, str) else f"real-{case.name}")
        for case in corpus_cases()
    ]
    if REAL_TREES is None:
        cases.append(pytest.param(None, id="real-trees", marks=pytest.mark.skip(SKIP_REASON)))
    return cases


def corpus_tree(case: str | Path, written: dict[str, Path]) -> CorpusTree:
    """The tree of a `corpus_tree_params` case; `written` are the fixture trees on disk."""
    if isinstance(case, str):
        tree = fixture_trees()[case]
        return CorpusTree(case, written[case], dict(tree.types), tree.epicless_stories)
    # A real tree follows the sdlc-studio layout: the type comes from the folder.
    paths = [p.relative_to(case).as_posix() for p in case.rglob("*") if p.is_file()]
    return CorpusTree(f"real-{case.name}", case, types_by_folder(paths), frozenset())


if __name__ == "__main__":
    for name, path in write_fixture_trees(Path(sys.argv[1])).items():
        print(f"{name}: {path}")
