"""sdlc-studio markdown written from code: documents, front matter, prose and trees on disk.

Every text here is generated, never copied from a real project. `Prose` draws sentences from a
pool built once per seed, with words picked by a Zipf-like law (a few very common words, a
long tail), so that generated documents index and search like written ones.
"""

import random
import re
from collections.abc import Mapping, Sequence
from functools import cache
from itertools import accumulate
from pathlib import Path

# Frequent words first: the weight of the word at rank r is 1 / (r + 1).
_CONNECTIVES = ("and", "and", "then", "so", "while", "because", "unless", "once", "but", "or")
_ARTICLES = ("the", "the", "a", "each", "every", "this", "that", "its", "our", "any")
_PREPOSITIONS = ("for", "in", "on", "to", "with", "from", "by", "after", "before", "under")
_NOUNS = (
    "user", "request", "page", "list", "item", "record", "value", "field", "screen", "form",
    "service", "endpoint", "response", "database", "table", "query", "filter", "button",
    "message", "error", "status", "test", "change", "release", "setting", "account", "session",
    "view", "layout", "search", "result", "index", "file", "folder", "report", "summary",
    "token", "budget", "limit", "timeout", "retry", "queue", "worker", "schema", "migration",
    "label", "badge", "column", "row", "header", "footer", "card", "panel", "dialog", "icon",
    "theme", "colour", "font", "order", "position", "date", "time", "zone", "locale", "owner",
    "team", "reviewer", "story", "epic", "plan", "criterion", "scenario", "step", "phase",
    "risk", "metric", "target", "baseline", "estimate", "backlog", "sprint", "milestone",
    "feature", "module", "component", "hook", "handler", "route", "payload", "cache", "log",
    "audit", "permission", "role", "password", "email", "notification", "event", "stream",
    "chart", "trend", "threshold", "sensor", "device", "reading", "sample", "export", "import",
    "backup", "snapshot", "volume", "port", "network", "proxy", "certificate", "build",
    "pipeline", "artefact", "version", "dependency", "library", "framework", "fixture", "mock",
)  # fmt: skip
_VERBS = (
    "shows", "stores", "returns", "validates", "updates", "loads", "saves", "sorts", "filters",
    "checks", "renders", "reads", "writes", "sends", "receives", "creates", "deletes", "keeps",
    "marks", "moves", "lists", "counts", "groups", "links", "opens", "closes", "starts",
    "stops", "measures", "reports", "caches", "retries", "rejects", "accepts", "explains",
    "highlights", "collapses", "expands", "names", "covers", "protects", "limits", "logs",
)  # fmt: skip
_ADJECTIVES = (
    "new", "current", "empty", "full", "first", "last", "previous", "next", "visible",
    "hidden", "completed", "pending", "overdue", "shared", "private", "default", "custom",
    "small", "large", "slow", "fast", "stable", "invalid", "valid", "missing", "duplicate",
    "archived", "active", "optional", "required", "clear", "consistent", "readable", "simple",
)  # fmt: skip
_ADVERBS = ("quickly", "again", "at once", "in order", "by default", "on save", "per page")
_TERMS = (
    "configuration", "authentication", "implementation", "synchronisation", "validation",
    "serialisation", "pagination", "notification", "persistence", "performance",
    "accessibility", "responsiveness", "localisation", "observability", "deployment",
    "containerisation", "orchestration", "dependencies", "middleware", "repository",
    "transaction", "constraint", "acceptance", "integration", "regression", "environment",
    "requirement", "architecture", "specification", "documentation", "prioritisation",
    "interaction", "representation", "normalisation", "aggregation", "subscription",
    "reconciliation", "idempotency", "throughput", "availability", "maintainability",
    "compatibility", "concurrency", "initialisation", "interpolation", "precondition",
    "postcondition", "troubleshooting", "onboarding", "walkthrough", "breadcrumbs",
    "placeholder", "tooltip", "keyboard", "shortcut", "timestamp", "identifier", "checksum",
    "component", "viewport", "stylesheet", "breakpoint", "fallback", "debounce", "throttle",
)  # fmt: skip
_SYLLABLES = ("ka", "lo", "mer", "vin", "tas", "pre", "dor", "ul", "sen", "qui", "bra", "to",
              "lix", "nor", "fa", "gem", "ost", "rip", "zan", "cel")  # fmt: skip


def _rare_words(count: int = 2500) -> tuple[str, ...]:
    """A long tail of made-up words (names of modules, products, people), as real text has."""
    rng = random.Random(0)
    words = dict.fromkeys(
        "".join(rng.choices(_SYLLABLES, k=rng.randint(3, 5))) for _ in range(count * 2)
    )
    return tuple(words)[:count]


def _ranked(words: Sequence[str]) -> tuple[Sequence[str], list[float]]:
    return words, list(accumulate(1 / (rank + 1) for rank in range(len(words))))


_POOLS = {
    "noun": _ranked(_NOUNS),
    "verb": _ranked(_VERBS),
    "adj": _ranked(_ADJECTIVES),
    "art": _ranked(_ARTICLES),
    "prep": _ranked(_PREPOSITIONS),
    "conj": _ranked(_CONNECTIVES),
    "adv": _ranked(_ADVERBS),
    "term": _ranked(_TERMS),
    "rare": _ranked(_rare_words()),
}
# Sentence shapes; each {slot} is drawn from the pool of that name.
_SHAPES = (
    "{art} {adj} {noun} {verb} {art} {term} {prep} {art} {rare} {noun}",
    "{art} {term} {verb} {art} {adj} {noun} {conj} {art} {rare} {verb} {art} {term}",
    "when {art} {term} is {adj}, {art} {noun} {verb} {art} {rare} {term} {adv}",
    "{art} {rare} {term} {prep} {art} {noun} {verb} {art} {term} {conj} {verb} {art} {adj} {noun}",
    "{art} {adj} {term} {verb} {adv} {conj} {art} {noun} {verb} {art} {rare} {prep} {art} {term}",
    "{art} {noun} and {art} {term} {verb} {art} {adj} {rare} {prep} {art} {term}",
)
_SLOT = re.compile(r"\{(\w+)\}")


def _sentence(rng: random.Random) -> str:
    def fill(match: re.Match[str]) -> str:
        words, weights = _POOLS[match.group(1)]
        return rng.choices(words, cum_weights=weights)[0]

    text = _SLOT.sub(fill, rng.choice(_SHAPES))
    return text[0].upper() + text[1:] + "."


@cache
def _sentence_pool(seed: int, size: int = 1500) -> tuple[str, ...]:
    rng = random.Random(seed)
    return tuple(_sentence(rng) for _ in range(size))


class Prose:
    """Deterministic filler text: the same seed always writes the same words."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._pool = _sentence_pool(seed % 4)  # four pools: variety at a small start-up cost

    def sentence(self) -> str:
        return self.rng.choice(self._pool)

    def paragraph(self, sentences: int = 4, extra: Sequence[str] = ()) -> str:
        """`sentences` pool sentences, with the `extra` ones mixed in at random places."""
        picked = [self.sentence() for _ in range(sentences)]
        for line in extra:
            picked.insert(self.rng.randrange(len(picked) + 1), line)
        return " ".join(picked)

    def phrase(self, words: int = 4) -> str:
        """A lower-case fragment for a table cell or a list item."""
        return " ".join(self.sentence().rstrip(".").lower().split()[:words])

    def bullets(self, count: int, prefix: str = "- ") -> str:
        return "\n".join(f"{prefix}{self.sentence()}" for _ in range(count))

    def choice(self, options: Sequence[str]) -> str:
        return self.rng.choice(options)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def front_matter(fields: Mapping[str, str | None]) -> str:
    """The blockquote of `> **Key:** value` lines; fields whose value is None are left out."""
    return "".join(f"> **{key}:** {value}\n" for key, value in fields.items() if value is not None)


def document(title: str | None, fields: Mapping[str, str | None], body: str) -> str:
    """`# title`, the front-matter block (if any field), then the body."""
    parts = [f"# {title}\n"] if title is not None else []
    block = front_matter(fields)
    if block:
        parts.append(block)
    parts.append(body.rstrip("\n") + "\n")
    return "\n".join(parts)


def link(doc_id: str, title: str, path: str) -> str:
    """A reference as sdlc-studio writes it: `[EP0001: Title](../epics/EP0001-title.md)`."""
    return f"[{doc_id}: {title}]({path})"


def slug(title: str) -> str:
    """`Create Widget` -> `create-widget`, as sdlc-studio names files."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `{relative path: text or bytes}` below `root`; return `root`.

    Text is written as given (no newline translation), so CRLF and BOM survive.
    """
    for rel_path, text in files.items():
        path = root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root
