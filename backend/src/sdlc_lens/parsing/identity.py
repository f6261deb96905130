"""Document identity: id heads, type inference from paths, and cross-references (SPEC §8.1-8.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import islice
from types import MappingProxyType

__all__ = [
    "DOC_TYPE_BY_PREFIX",
    "extract_ref",
    "extract_refs",
    "id_head",
    "infer_type_and_id",
    "is_archived",
]

DOC_TYPE_BY_PREFIX: Mapping[str, str] = MappingProxyType(
    {
        "EP": "epic",
        "US": "story",
        "PL": "plan",
        "TS": "test-spec",
        "BG": "bug",
        "CR": "cr",
        "RFC": "rfc",
        "WF": "workflow",
        "RETRO": "retro",
        "RV": "review",
    }
)

# Stems that name a one-per-project document; the type is the lower-cased stem itself.
_SINGLETON_STEMS = frozenset(
    {"prd", "trd", "tsd", "pvd", "personas", "decisions", "constitution", "brand-guide"}
)

_TYPE_BY_FOLDER: Mapping[str, str] = MappingProxyType(
    {
        "epics": "epic",
        "stories": "story",
        "plans": "plan",
        "test-specs": "test-spec",
        "bugs": "bug",
        "change-requests": "cr",
        "rfcs": "rfc",
        "workflows": "workflow",
        "retros": "retro",
        "reviews": "review",
        "decisions": "decision",
        "personas": "persona",
        "product": "pvd",
    }
)

# Folder names (any case, leading `_` ignored) that hold retired copies of documents.
_ARCHIVE_FOLDERS = frozenset({"archive", "archived"})

# Longest prefixes first so no alternative can shadow a longer one.
_PREFIXES = "|".join(sorted(DOC_TYPE_BY_PREFIX, key=len, reverse=True))
# Crockford base32: digits and letters without I, L, O, U. Explicit ASCII classes (and re.ASCII)
# keep Unicode digits and case-folding oddities (e.g. the Kelvin sign) out of ids.
_CROCKFORD = "0-9A-HJKMNP-TV-Za-hjkmnp-tv-z"
# The ULID tail (>= 8 Crockford chars with at least one digit) is tried before the sequential
# tail. The digit lookahead cannot leave the Crockford run, which ends at the next `-`, so it
# costs at most one extra scan per hyphen: linear overall.
_TAIL = rf"(?:-((?=[{_CROCKFORD}]*?[0-9])[{_CROCKFORD}]{{8,}})|-?([0-9]{{4,}}))"

_ID_HEAD = re.compile(rf"({_PREFIXES}){_TAIL}", re.IGNORECASE | re.ASCII)
# References need an upper-case prefix at a word boundary; the tail may be any case.
_REF = re.compile(rf"(?<![0-9A-Za-z_])({_PREFIXES}){_TAIL}", re.ASCII)

# The most references one field (`Depends on:`, `Aliases:`) yields, and the most mentions
# read to find them (a line repeating one id millions of times is cut short too).
MAX_REFS = 200
MAX_REF_MENTIONS = 10_000

# Placeholders that mean "no reference".
_EMPTY_REFS = frozenset({"", "-", "--", "\N{EM DASH}", "\N{EN DASH}"})


def _normalise(match: re.Match[str]) -> str:
    prefix, ulid, sequential = match.groups()
    return (prefix + (ulid or sequential)).upper()


def id_head(text: str) -> str | None:
    """Return the normalised id at the start of text (`CR-0003-x` -> `CR0003`), else None."""
    match = _ID_HEAD.match(text)
    return _normalise(match) if match else None


def _stem(file_name: str) -> str:
    # The `.md` suffix is matched case-insensitively (`US0003-x.MD`).
    return file_name[:-3] if file_name.lower().endswith(".md") else file_name


def infer_type_and_id(rel_path: str) -> tuple[str, str] | None:
    """Infer `(doc_type, doc_id)` from a POSIX path relative to the project; None to skip."""
    parts = [part for part in rel_path.split("/") if part not in ("", ".")]
    if not parts:
        return None
    file_name = parts[-1]
    if file_name.lower() == "_index.md":
        return None
    stem = _stem(file_name)

    match = _ID_HEAD.match(stem)
    if match:
        # The prefix beats the folder; doc_id keeps the stem's original case.
        return DOC_TYPE_BY_PREFIX[match.group(1).upper()], stem

    lowered = stem.lower()
    if lowered in _SINGLETON_STEMS:
        return lowered, lowered

    # Innermost folder first, so `archive/stories/x.md` is a story, and `epics/drafts/x.md`
    # is an epic rather than whatever an outer folder suggests.
    for folder in reversed(parts[:-1]):
        doc_type = _TYPE_BY_FOLDER.get(folder.lower())
        if doc_type is not None:
            return doc_type, stem
    return "other", stem


def is_archived(rel_path: str, doc_id: str) -> bool:
    """True for a retired copy: below an `archive`/`archived` folder, or a doc_id starting `_`."""
    if doc_id.startswith("_"):
        return True
    folders = rel_path.split("/")[:-1]
    return any(folder.lower().lstrip("_") in _ARCHIVE_FOLDERS for folder in folders)


def extract_ref(value: str | None) -> str | None:
    """Return the first reference in value, normalised (`[[CR-0496]]` -> `CR0496`), else None."""
    if value is None or value.strip() in _EMPTY_REFS:
        return None
    match = _REF.search(value)
    return _normalise(match) if match else None


def extract_refs(value: str | None) -> str | None:
    """Return the references in value, in order and deduplicated, joined by `,`; else None.

    At most MAX_REFS of them, from the first MAX_REF_MENTIONS mentions: each becomes a
    stored link, and one line of a hostile file could otherwise name millions.
    """
    if value is None or value.strip() in _EMPTY_REFS:
        return None
    refs: dict[str, None] = {}
    for match in islice(_REF.finditer(value), MAX_REF_MENTIONS):
        refs[_normalise(match)] = None
        if len(refs) == MAX_REFS:
            break
    return ",".join(refs) if refs else None
