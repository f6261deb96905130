"""Status vocabularies and canonicalisation (SPEC §8.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

__all__ = [
    "PLACEHOLDER_STATUSES",
    "TERMINAL",
    "VOCABULARY",
    "StatusVocabulary",
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


class StatusVocabulary:
    """The status tokens a project may use, by document type: the built-in vocabulary plus
    the project's own (`.config.yaml`), compiled once per sync so that each status costs a few
    dictionary lookups however many tokens the project declares."""

    __slots__ = ("_custom", "_lookups")

    def __init__(self, custom: Mapping[str, Iterable[str]] | None = None) -> None:
        self._custom = {doc_type: tuple(tokens) for doc_type, tokens in (custom or {}).items()}
        self._lookups: dict[str, _Lookup] = {}

    def canonicalise(self, raw: str | None, doc_type: str) -> str | None:
        """Map a raw status to its canonical token (`in progress` -> `In Progress`)."""
        if raw is None:
            return None
        text = _clean(raw)
        if not text or text.lower() in PLACEHOLDER_STATUSES:
            return None
        lookup = self._lookup(doc_type)
        found = lookup.match(text)
        if found is not None:
            return found
        positions = [pos for pos in (text.find(marker) for marker in _CUT_MARKERS) if pos >= 0]
        if positions:
            cut = _clean(text[: min(positions)])
            if cut:
                found = lookup.match(cut)
                return found if found is not None else cut
        # Nothing to cut, or the text starts with the separator: keep the cleaned text.
        return text

    def _lookup(self, doc_type: str) -> _Lookup:
        lookup = self._lookups.get(doc_type)
        if lookup is None:
            custom = self._custom.get(doc_type, ())
            if isinstance(custom, str):  # a lone token rather than a list of them
                custom = (custom,)
            lookup = self._lookups[doc_type] = _Lookup(doc_type, custom)
        return lookup


class _Lookup:
    """Folded token -> canonical token for one document type; built-in casing wins."""

    __slots__ = ("_by_fold", "_longest")

    def __init__(self, doc_type: str, custom: Iterable[str]) -> None:
        if doc_type in VOCABULARY:
            tokens = list(VOCABULARY[doc_type])
            if doc_type in _INBOX_TYPES:
                tokens.append(_INBOX)
        else:
            tokens = [*_ALL_TOKENS, _INBOX]
        tokens.extend(token.strip() for token in custom)
        self._by_fold: dict[str, str] = {}
        for token in tokens:
            if token:
                self._by_fold.setdefault(_fold(token), token)
        self._longest = max(map(len, self._by_fold), default=0)

    def match(self, text: str) -> str | None:
        """The longest token that is the whole text, or its start followed by a space."""
        folded = _fold(text)
        if len(folded) <= self._longest and folded in self._by_fold:
            return self._by_fold[folded]
        # Only starts up to the longest token's length can match, whatever the text's length.
        end = folded.rfind(" ", 0, self._longest + 1)
        while end > 0:
            found = self._by_fold.get(folded[:end])
            if found is not None:
                return found
            end = folded.rfind(" ", 0, end)
        return None


def _clean(text: str) -> str:
    return text.lstrip(_LEADING_NOISE).rstrip(_WRAPPING_NOISE).strip()


# Placeholders that mean "no status yet". Stored as null, so the list filter `status=none`
# (documents without a status) can never collide with a literal "none" status (SPEC §12).
# The last two are the em and en dash.
PLACEHOLDER_STATUSES = frozenset({"none", "null", "n/a", "-", "--", "\u2014", "\u2013"})


def canonicalise_status(raw: str | None, doc_type: str, custom: Iterable[str] = ()) -> str | None:
    """Map a raw status to its canonical vocabulary token (`in progress` -> `In Progress`).

    For one document; a sync compiles the project's vocabulary once (`StatusVocabulary`).
    """
    custom = tuple(custom)
    vocabulary = StatusVocabulary({doc_type: custom}) if custom else _BUILT_IN
    return vocabulary.canonicalise(raw, doc_type)


def is_terminal(status: str | None, doc_type: str) -> bool:
    """True when the status ends the document's lifecycle (Done/Complete for every type)."""
    canonical = _BUILT_IN.canonicalise(status, doc_type)
    if canonical is None:
        return False
    if canonical in _ALWAYS_TERMINAL:
        return True
    return canonical in TERMINAL.get(doc_type, _ALL_TERMINAL)


_BUILT_IN = StatusVocabulary()
