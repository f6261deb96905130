"""Status vocabularies and canonicalisation (SPEC §8.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

__all__ = [
    "PLACEHOLDER_STATUSES",
    "TERMINAL",
    "VOCABULARY",
    "canonicalise_status",
    "is_terminal",
]

VOCABULARY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "epic": ("Draft", "Ready", "Approved", "In Progress", "Done"),
        "story": (
            "Proposed",
            "Draft",
            "Ready",
            "Planned",
            "In Progress",
            "Review",
            "Blocked",
            "Done",
            "Won't Implement",
            "Deferred",
            "Superseded",
        ),
        "plan": ("Draft", "In Progress", "Complete", "Superseded"),
        "bug": ("Open", "In Progress", "Fixed", "Verified", "Closed", "Won't Fix", "Superseded"),
        "cr": (
            "Proposed",
            "Approved",
            "In Progress",
            "Complete",
            "Rejected",
            "Deferred",
            "Superseded",
            "Blocked",
        ),
        "rfc": ("Draft", "In Review", "Accepted", "Superseded", "Withdrawn"),
        "test-spec": ("Draft", "Ready", "In Progress", "Complete", "Superseded"),
        "workflow": (
            "Created",
            "Planning",
            "Testing",
            "Implementing",
            "Verifying",
            "Reviewing",
            "Checking",
            "Done",
            "Paused",
            "Superseded",
        ),
    }
)

TERMINAL: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "epic": frozenset({"Done"}),
        "story": frozenset({"Done", "Won't Implement", "Superseded"}),
        "plan": frozenset({"Complete", "Superseded"}),
        "bug": frozenset({"Fixed", "Verified", "Closed", "Won't Fix", "Superseded"}),
        "cr": frozenset({"Complete", "Rejected", "Superseded"}),
        "rfc": frozenset({"Accepted", "Superseded", "Withdrawn"}),
        "test-spec": frozenset({"Complete", "Superseded"}),
        "workflow": frozenset({"Done", "Superseded"}),
    }
)

# Terminal for every type, whatever its own vocabulary says.
_ALWAYS_TERMINAL = frozenset({"Done", "Complete"})
_ALL_TERMINAL = frozenset().union(*TERMINAL.values())
_INBOX = "inbox"
_INBOX_TYPES = frozenset({"bug", "cr", "rfc"})
_ALL_TOKENS = tuple(dict.fromkeys(token for tokens in VOCABULARY.values() for token in tokens))

_LEADING_NOISE = "> \t*_`"
_WRAPPING_NOISE = "*_` \t"
_CUT_MARKERS = (" - ", " \N{EM DASH} ", " \N{EN DASH} ", " \N{MIDDLE DOT} ", " | ", " (", "(")


def _fold(text: str) -> str:
    # Curly apostrophes are common in hand-written statuses (Won<U+2019>t Fix).
    return text.replace("\N{RIGHT SINGLE QUOTATION MARK}", "'").casefold()


@lru_cache(maxsize=256)
def _candidates(doc_type: str, custom: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(folded, canonical) pairs to try, longest first; built-in casing wins over custom."""
    if doc_type in VOCABULARY:
        tokens = list(VOCABULARY[doc_type])
        if doc_type in _INBOX_TYPES:
            tokens.append(_INBOX)
    else:
        tokens = [*_ALL_TOKENS, _INBOX]
    tokens.extend(token.strip() for token in custom)
    by_fold: dict[str, str] = {}
    for token in tokens:
        if token:
            by_fold.setdefault(_fold(token), token)
    # sorted() is stable, so equal-length tokens keep vocabulary order.
    return tuple(sorted(by_fold.items(), key=lambda item: len(item[0]), reverse=True))


def _clean(text: str) -> str:
    return text.lstrip(_LEADING_NOISE).rstrip(_WRAPPING_NOISE).strip()


def _match(text: str, candidates: tuple[tuple[str, str], ...]) -> str | None:
    folded = _fold(text)
    for token, canonical in candidates:
        if folded == token or folded.startswith(token + " "):
            return canonical
    return None


# Placeholders that mean "no status yet". Stored as null, so the list filter `status=none`
# (documents without a status) can never collide with a literal "none" status (SPEC §12).
# The last two are the em and en dash.
PLACEHOLDER_STATUSES = frozenset({"none", "null", "n/a", "-", "--", "\u2014", "\u2013"})


def canonicalise_status(raw: str | None, doc_type: str, custom: Iterable[str] = ()) -> str | None:
    """Map a raw status to its canonical vocabulary token (`in progress` -> `In Progress`)."""
    if raw is None:
        return None
    text = _clean(raw)
    if not text or text.lower() in PLACEHOLDER_STATUSES:
        return None
    candidates = _candidates(doc_type, tuple(custom))
    found = _match(text, candidates)
    if found is not None:
        return found
    positions = [pos for pos in (text.find(marker) for marker in _CUT_MARKERS) if pos >= 0]
    if positions:
        cut = _clean(text[: min(positions)])
        if cut:
            found = _match(cut, candidates)
            return found if found is not None else cut
    # Nothing to cut, or the text starts with the separator: keep the cleaned text.
    return text


def is_terminal(status: str | None, doc_type: str) -> bool:
    """True when the status ends the document's lifecycle (Done/Complete for every type)."""
    canonical = canonicalise_status(status, doc_type)
    if canonical is None:
        return False
    if canonical in _ALWAYS_TERMINAL:
        return True
    return canonical in TERMINAL.get(doc_type, _ALL_TERMINAL)
