"""Blockquote front-matter parser for sdlc-studio markdown (SPEC §7, with the §12 quirks fixed).

sdlc-studio documents carry their metadata as a blockquote of bold keys right under the title::

    # US0001: Title

    > **Status:** Done
    > **Epic:** [EP0001: Foundation](../epics/EP0001-foundation.md)

Older documents (PRDs) use plain ``**Key:** value`` lines instead; they are read by a fallback.
Everything here is pure and runs in linear time: lines are produced lazily and every regex is
either anchored or bounded, so hostile input cannot trigger catastrophic backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

__all__ = ["ParsedDocument", "normalise_key", "normalise_text", "parse_front_matter"]


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """Result of parsing one markdown document."""

    title: str | None
    fields: dict[str, str]
    content: str  # the body: no title line at the top, no front-matter block


# `**Key**` at the start of a string (after the caller removed `>` and whitespace). `[^*]+` can
# only ever scan up to the next `*`, and the match is anchored, so this is linear.
_BOLD_KEY = re.compile(r"\*\*([^*]+)\*\*")

# An inline-header separator: `·` or `|` followed by `**K:**` (or `**K**:`) whose key has a
# visible character, so it always normalises to a non-empty key. The pattern starts with a
# literal so the engine only engages at separator characters, and the key is bounded, so a line
# full of separators or stars stays linear.
_INLINE_SEPARATOR = re.compile(r"[·|][ \t]*(?=\*\*[ \t]*[^*\s:][^*\n]{0,99}?(?::\*\*|\*\*[ \t]*:))")

_WHITESPACE_RUN = re.compile(r"\s+")

# Bounds for hostile input. Real documents settle their front matter within a few dozen lines
# and have their title near the top, but every line these scans visit costs Python-level
# work: a 64 MiB file of wrapped values, blank lines or fences took up to 80 s. So the front
# matter is read from the first FRONT_MATTER_LINES lines only (later lines stay in the body),
# and the title is looked for among the first TITLE_SCAN_LINES fence or `# ` lines within the
# first TITLE_SCAN_CHARS characters: the title regex tries every line start, and 64 MiB of
# blank lines (64 Mi line starts) took 5.8 s, longer than a stop may take.
FRONT_MATTER_LINES = 1_000
TITLE_SCAN_LINES = 10_000
TITLE_SCAN_CHARS = 1024 * 1024
# A header line splits into at most this many `**K:** v` pairs (real ones hold a handful); the
# rest of the line stays in the last value. 5.8 million `· **K:** v` on one line took 12 s.
INLINE_PAIRS = 100

_NOT_WHITESPACE = re.compile(r"\S")

# A fence line (up to 3 spaces, then >= 3 backticks or tildes) or a `# ` heading line. Content
# is LF-normalised, and `.` stops only at LF, so every match lies within one line.
_TITLE_OR_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$|^# (.*)$", re.MULTILINE)


def normalise_text(text: str) -> str:
    """Strip a leading BOM and turn CRLF and lone CR line endings into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


@lru_cache(maxsize=1024)  # the same few keys recur in every document
def normalise_key(raw: str) -> str:
    """Normalise a bold key: trim, drop trailing `:`, whitespace runs -> `_`, lower-case."""
    key = raw.strip().rstrip(":").strip()
    return _WHITESPACE_RUN.sub("_", key).lower()


def _find_title(content: str) -> str | None:
    """First non-empty `# ` heading outside fenced code blocks (``` or ~~~), else None."""
    fence_char = ""  # "`" or "~" while inside a fenced code block
    fence_len = 0
    # The regex visits only fence and `# ` lines, so a long document without a title is
    # skimmed at C speed; the scan stops at the first real title.
    scanned = _TITLE_OR_FENCE.finditer(content, 0, TITLE_SCAN_CHARS)
    for match in islice(scanned, TITLE_SCAN_LINES):
        fence, tail, heading = match.groups()
        if fence is None:
            if not fence_char and heading.strip():
                return heading.strip()
        elif not fence_char:
            # An opening backtick fence's info string may not contain backticks.
            if fence[0] == "~" or "`" not in tail:
                fence_char, fence_len = fence[0], len(fence)
        elif fence[0] == fence_char and len(fence) >= fence_len and not tail.strip():
            fence_char, fence_len = "", 0
    return None


def _iter_lines(text: str) -> Iterator[str]:
    """Yield the lines of LF-normalised text lazily, so callers can stop early on huge input."""
    start = 0
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def _parse_bold_pairs(
    text: str, require_colon: bool, *, inline: bool = True
) -> list[tuple[str, str]] | None:
    """Parse `**Key:** value` (inline headers split into further pairs unless `inline` is
    false); None if not a KV line."""
    match = _BOLD_KEY.match(text)
    if match is None:
        return None
    inner = match.group(1)
    rest = text[match.end() :]
    stripped_rest = rest.lstrip()
    has_colon = inner.rstrip().endswith(":") or stripped_rest.startswith(":")
    if require_colon and not has_colon:
        return None
    key = normalise_key(inner)
    if not key:
        return None
    if stripped_rest.startswith(":"):
        rest = stripped_rest[1:]
    if not inline or ("|" not in rest and "\N{MIDDLE DOT}" not in rest):
        return [(key, rest.strip())]  # the common case: one plain pair
    pairs: list[tuple[str, str]] = []
    segments = _INLINE_SEPARATOR.split(rest, maxsplit=INLINE_PAIRS - 1)
    pairs.append((key, segments[0].strip()))
    for segment in segments[1:]:
        # Each later segment starts with `**K:**` (guaranteed by the separator's lookahead);
        # only the last can hold separators still, and they stay in its value.
        pairs.extend(_parse_bold_pairs(segment, require_colon=True, inline=False) or ())
    return pairs


def _is_quote_line(stripped: str) -> bool:
    """A blockquote line of the front-matter block: starts with `>` but not `>>`."""
    return stripped.startswith(">") and not stripped.startswith(">>")


def _is_skippable_top_line(stripped: str) -> bool:
    """Lines allowed before the front matter: blank, headings (`#...`) and `---` rules."""
    return not stripped or stripped.startswith("#") or stripped == "---"


def _fields_from_block(block: list[str]) -> dict[str, str]:
    """Read the fields of a blockquote block (lstripped `>` lines); empty if it has no KV line.

    The block is read in paragraphs separated by empty quote lines. A non-KV line continues the
    value of the last KV line of its paragraph only when it comes after that line (a wrapped
    value); non-KV lines between KV lines, or in paragraphs without any KV line, are stray and
    ignored, so they never get glued into a value (the old `Done stray1 stray2` quirk).
    """
    # Each key's value as its pieces: a wrapped value is joined once at the end, so a value
    # wrapped over many lines is built in linear time, not by repeated concatenation.
    pieces: dict[str, list[str]] = {}
    # Each paragraph is a list of (pairs or None, text after `>`).
    paragraphs: list[list[tuple[list[tuple[str, str]] | None, str]]] = [[]]
    for line in block:
        after = line[1:].strip()
        if not after:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append((_parse_bold_pairs(after, require_colon=False), after))

    for paragraph in paragraphs:
        last_kv = -1
        for index, (pairs, _) in enumerate(paragraph):
            if pairs is not None:
                last_kv = index
        current_key: str | None = None
        for index, (pairs, after) in enumerate(paragraph):
            if pairs is not None:
                for key, value in pairs:
                    pieces[key] = [value]
                current_key = pairs[-1][0]
            elif index > last_kv >= 0 and current_key is not None:
                pieces[current_key].append(after)
    # Only a value's first piece can be empty (continuation lines never are): it gets no space.
    return {key: " ".join(piece for piece in parts if piece) for key, parts in pieces.items()}


def _title_line_index(content: str, title: str | None, block: range) -> int | None:
    """Index of the line that supplied `title` if it is the first line outside blanks and B."""
    if title is None:
        return None
    for index, line in enumerate(islice(_iter_lines(content), FRONT_MATTER_LINES)):
        if index in block or not line.strip():
            continue
        # Only blank and block lines (no fence, no heading) come before this line, so a
        # `# ` line here is the one `_find_title` took the title from.
        return index if line.startswith("# ") and line[2:].strip() == title else None
    return None


def _drop_leading_blank_lines(text: str) -> str:
    """`text` from its first line that is not whitespace-only ("" if there is none)."""
    # Found at C speed, however many blank lines lead: the first visible character's line.
    visible = _NOT_WHITESPACE.search(text)
    if visible is None:
        return ""
    return text[text.rfind("\n", 0, visible.start()) + 1 :]


def _body(content: str, title: str | None, block: range) -> str:
    """The document body (SPEC-2 §13.3): the text without its title line and front matter.

    Removed: B (`block`, the front-matter lines the fields came from), T (the title line,
    only when it is the first line once blanks and B are ignored) and the blank lines that
    then lead the text. Every other line is kept exactly, in order.
    """
    title_index = _title_line_index(content, title, block)
    removed = set(block)
    if title_index is not None:
        removed.add(title_index)
    if removed:
        # Both lie near the top: split only that far; the last piece is the untouched rest.
        last = max(removed)
        lines = content.split("\n", last + 1)
        content = "\n".join(line for index, line in enumerate(lines) if index not in removed)
    return _drop_leading_blank_lines(content)


def parse_front_matter(text: str) -> ParsedDocument:
    """Parse title, front-matter fields and the body (`content`) out of a markdown document."""
    content = normalise_text(text)

    # Front-matter scan: "top" skips blank/heading/`---` lines, "block" collects the top
    # blockquote, "fallback" reads `**Key:** value` lines; `break` means the fields are settled.
    # Real documents settle within a few lines, so the loop almost never reaches far.
    state = "top"
    block: list[str] = []
    block_start = 0
    fields: dict[str, str] = {}
    for index, line in enumerate(islice(_iter_lines(content), FRONT_MATTER_LINES)):
        stripped = line.strip()
        if state == "block":
            if _is_quote_line(stripped):
                block.append(stripped)
                continue
            break
        if _is_skippable_top_line(stripped):
            continue
        if state == "top" and _is_quote_line(stripped):
            block.append(stripped)
            block_start = index
            state = "block"
            continue
        # No blockquote at the top: read plain bold lines (PRD style) until the first line
        # that is neither skippable nor `**Key:** value`. A rejected block (quote lines
        # without keys) would stop this scan at once, so it never needs a retry.
        pairs = _parse_bold_pairs(stripped, require_colon=True)
        if pairs is None:
            break
        state = "fallback"
        for key, value in pairs:
            fields[key] = value
    if block:
        fields = _fields_from_block(block)
    # A quote without any key is prose, not front matter: it stays in the body. Fallback
    # `**Key:** value` lines are never removed either.
    front_matter = range(block_start, block_start + len(block)) if block and fields else range(0)
    title = _find_title(content)
    return ParsedDocument(title=title, fields=fields, content=_body(content, title, front_matter))
