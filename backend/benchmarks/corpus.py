"""Deterministic scaled corpora built from the real trees in ../shared/corpus/.

Copy k of a tree gets its ids shifted by a fixed offset (`US0003` -> `US0703` in copy 7), in
file names and in the text alike, so ids stay unique and cross-references stay consistent.
Singleton documents (prd, trd, ...) are kept once, as in a real project; the folder mix of
epics, stories, plans, test specs and workflows is the real trees' mix.

    uv run python -m benchmarks.corpus 5000 /tmp/corpus-5000
"""

import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
IDS = re.compile(r"\b(EP|US|PL|TS|WF|BG|CR)(\d{4,})\b")
TREE_STRIDE = 50  # ids in one real tree stay below 50
COPY_STRIDE = 100  # ... so each copy of all trees fits in 100 numbers


@dataclass(frozen=True, slots=True)
class Source:
    tree_index: int
    relative: Path
    text: str


def load_sources(corpus_dir: Path = CORPUS_DIR) -> tuple[list[Source], list[Source]]:
    """The real documents: (singletons at a tree's root, documents in folders)."""
    singletons: list[Source] = []
    foldered: list[Source] = []
    for tree_index, tree in enumerate(sorted(p for p in corpus_dir.iterdir() if p.is_dir())):
        for path in sorted(tree.rglob("*.md")):
            if path.name == "_index.md":
                continue
            relative = path.relative_to(tree)
            source = Source(tree_index, relative, path.read_text(encoding="utf-8"))
            (singletons if len(relative.parts) == 1 else foldered).append(source)
    return singletons, foldered


def shift_ids(text: str, offset: int) -> str:
    """Every sequential id in `text` moved by `offset`, keeping at least four digits."""
    if not offset:
        return text
    return IDS.sub(lambda m: f"{m[1]}{int(m[2]) + offset:04d}", text)


def generate(count: int, target: Path, corpus_dir: Path = CORPUS_DIR) -> Path:
    """Write a tree of exactly `count` documents to `target` (replaced if present)."""
    singletons, foldered = load_sources(corpus_dir)
    if target.exists():
        shutil.rmtree(target)
    written = 0
    seen: set[str] = set()
    for source in singletons:  # one prd/trd/tsd/personas per project
        if written == count or source.relative.name in seen:
            continue
        seen.add(source.relative.name)
        _write(target / source.relative, source.text)
        written += 1
    copy = 0
    while written < count:
        for source in foldered:
            if written == count:
                break
            offset = copy * COPY_STRIDE + source.tree_index * TREE_STRIDE
            relative = Path(*source.relative.parts[:-1], shift_ids(source.relative.name, offset))
            _write(target / relative, shift_ids(source.text, offset))
            written += 1
        copy += 1
    return target


# A long log pasted into a bug report: the words of a sync worker's lines, and numbers.
_LOG_WORDS = (
    "import", "sync", "worker", "queue", "retry", "timeout", "connection", "reset", "parser",
    "document", "epic", "story", "plan", "index", "commit", "rollback", "cache", "miss", "hit",
    "request", "response", "latency", "budget", "token", "folder", "file",
)  # fmt: skip


def write_big_document(path: Path, megabytes: int, word: str, seed: int = 7) -> Path:
    """A bug report of about `megabytes` MB, mostly a log with `word` on every line."""
    rng = random.Random(seed)
    target = megabytes * 1_000_000
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        size = out.write(
            f"# {path.stem[:6]}: Import log attached in full\n\n"
            "> **Status:** Open\n> **Severity:** High\n> **Owner:** Unassigned\n\n## Log\n\n"
        )
        line_number = 0
        while size < target:
            line_number += 1
            words = " ".join(rng.choices(_LOG_WORDS, k=8))
            worker, job = rng.randrange(8), rng.randrange(10**6)
            size += out.write(f"{line_number:08d} worker-{worker} {word} {words} {job}\n")
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    size, folder = int(sys.argv[1]), Path(sys.argv[2])
    generate(size, folder)
    print(f"{size} documents in {folder}")
