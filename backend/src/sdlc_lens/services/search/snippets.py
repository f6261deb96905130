"""Search snippets whose cost is bounded by the snippet, not by the document.

FTS5's snippet() re-tokenises the whole document and scores every window of it, which takes
seconds on a document of a few MB. Instead, the text is read from the start in growing chunks
only until the first match of a query term, then SNIPPET_TOKENS words around it are cut out.
Words are found the way the index's tokenizer finds them (see query.py), and the scan
stops where the index does (INDEXED_CHARS): a match FTS5 found in the body is within that
prefix, and a document found by its title or metadata alone costs at most that scan.

Snippets are HTML-escaped text whose only tags are `<mark>`/`</mark>` around matches; `...`
marks where the text was cut. Without a match in the body, a snippet is the body's start.
"""

import codecs
import html
import re
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Protocol

from sdlc_lens.db.fts import INDEXED_CHARS
from sdlc_lens.services.search.query import DIACRITICS, TOKEN_CHAR, Term, fold

SNIPPET_TOKENS = 32
ELLIPSIS = "..."
# No snippet is longer than this, even when its words are absurdly long.
MAX_SNIPPET_CHARS = 4000
# Context searched for the words before a match (well above 32 ordinary words).
_BEFORE_CHARS = 2000
# A match may straddle two chunks: each new search starts this far back.
_OVERLAP_CHARS = 4096
_FIRST_CHUNK_BYTES = 16 * 1024
_MAX_CHUNK_BYTES = 1024 * 1024

_WORD = re.compile(f"{TOKEN_CHAR}+")
_NOT_TOKEN_CHAR = "[^" + TOKEN_CHAR[1:]  # the same class, negated
_DIACRITIC_RUN = f"[{DIACRITICS}]*"


class ByteSource(Protocol):
    """A readable run of bytes: an SQLite blob handle, for one."""

    def read(self, length: int = -1, /) -> bytes: ...


class TextReader:
    """UTF-8 text decoded from a byte source on demand, in chunks that double in size."""

    def __init__(self, source: ByteSource, check: Callable[[], None] = lambda: None) -> None:
        self._source = source
        self._check = check
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._chunk = _FIRST_CHUNK_BYTES
        self.text = ""
        self.eof = False
        self.bytes_read = 0

    def read_more(self) -> None:
        """Decode the next chunk onto `text`; sets `eof` at the end."""
        self._check()
        data = self._source.read(self._chunk)
        self.bytes_read += len(data)
        self.eof = len(data) < self._chunk
        self.text += self._decoder.decode(data, final=self.eof)
        self._chunk = min(self._chunk * 2, _MAX_CHUNK_BYTES)

    def read_until(self, chars: int) -> None:
        """Read until `text` holds at least `chars` characters or the source ends."""
        while not self.eof and len(self.text) < chars:
            self.read_more()


class Matcher:
    """Finds the query's terms in text, word boundaries and case folding as FTS5 does."""

    def __init__(self, terms: list[Term]) -> None:
        phrases = "|".join(_phrase_pattern(term) for term in terms)
        self.pattern = re.compile(f"(?<!{TOKEN_CHAR})(?:{phrases})", re.IGNORECASE)

    def first_match(self, reader: TextReader) -> tuple[int, int] | None:
        """The span of the first match within the indexed prefix of the text, if any."""
        position = 0
        reader.read_until(1)
        while True:
            text = reader.text
            end = min(len(text), INDEXED_CHARS)
            found = self.pattern.search(text, position, end)
            # A match that touches the end of what was read may go on in the next chunk.
            final = reader.eof or end == INDEXED_CHARS
            if found and (final or found.end() < end):
                return found.span()
            if final:
                return None
            position = found.start() if found else max(position, end - _OVERLAP_CHARS)
            reader.read_more()

    def marked(self, text: str, start: int, end: int) -> str:
        """`text[start:end]` HTML-escaped, with every match wrapped in `<mark>`."""
        parts: list[str] = []
        cursor = start
        for found in self.pattern.finditer(text, start, end):
            if found.start() == found.end():
                continue
            parts.append(html.escape(text[cursor : found.start()]))
            parts.append(f"<mark>{html.escape(found.group())}</mark>")
            cursor = found.end()
        parts.append(html.escape(text[cursor:end]))
        return "".join(parts)


def _phrase_pattern(term: Term) -> str:
    words = [_word_pattern(fold(word)) for word in term.words]
    tail = f"{TOKEN_CHAR}*" if term.prefix else f"(?!{TOKEN_CHAR})"
    return (
        f"{_NOT_TOKEN_CHAR}+".join(f"{word}(?!{TOKEN_CHAR})" for word in words[:-1])
        + (f"{_NOT_TOKEN_CHAR}+" if len(words) > 1 else "")
        + words[-1]
        + tail
    )


def _word_pattern(folded: str) -> str:
    """Each letter as any character that folds to it, each maybe followed by diacritics."""
    return "".join(f"{_letter_class(ch)}{_DIACRITIC_RUN}" for ch in folded)


def _letter_class(ch: str) -> str:
    variants = _ACCENTED.get(ch)
    if variants is None:
        return re.escape(ch)
    return "[" + re.escape(ch) + variants + "]"


def _accented_latin() -> dict[str, str]:
    """ASCII letter -> the precomposed Latin letters unicode61 folds to it (`e` -> `éÉèÈ...`)."""
    found: dict[str, list[str]] = {}
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(code)
        base = fold(ch)
        if len(base) == 1 and base.isascii() and base != ch.lower():
            found.setdefault(base, []).append(ch)
    return {base: "".join(chars) for base, chars in found.items()}


_ACCENTED = _accented_latin()


def snippet(reader: TextReader, matcher: Matcher | None) -> str:
    """The snippet of one document's body: around its first match, else its start."""
    span = matcher.first_match(reader) if matcher is not None else None
    if span is None or matcher is None:
        return _start(reader)
    return _window(reader, matcher, *span)


def _start(reader: TextReader) -> str:
    reader.read_until(MAX_SNIPPET_CHARS + 1)
    text = reader.text[:MAX_SNIPPET_CHARS]
    ends = [word.end() for word in islice(_WORD.finditer(text), SNIPPET_TOKENS + 1)]
    if len(ends) > SNIPPET_TOKENS:
        return html.escape(text[: ends[SNIPPET_TOKENS - 1]]) + ELLIPSIS
    whole = reader.eof and len(reader.text) <= MAX_SNIPPET_CHARS
    return html.escape(text) + ("" if whole else ELLIPSIS)


def _words(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    return _WORD.finditer(text, start, end)


def _window(reader: TextReader, matcher: Matcher, start: int, end: int) -> str:
    """SNIPPET_TOKENS words with the match in the middle (or as near as the text allows)."""
    reader.read_until(end + MAX_SNIPPET_CHARS)
    text = reader.text
    limit = min(len(text), end + MAX_SNIPPET_CHARS)
    context_start = max(0, start - _BEFORE_CHARS)
    before = [w.span() for w in _words(text, context_start, start)][-SNIPPET_TOKENS:]
    after = [w.span() for w in islice(_words(text, start, limit), SNIPPET_TOKENS + 1)]
    match_words = sum(1 for w_start, _ in after if w_start < end)
    # Centre the match; near the end of the text, fill the window with earlier words.
    lead = max((SNIPPET_TOKENS - match_words) // 2, SNIPPET_TOKENS - len(after))
    lead = min(lead, len(before))
    words = before[len(before) - lead :] + after[: SNIPPET_TOKENS - lead]
    at_start = context_start == 0 and lead == len(before) and lead < SNIPPET_TOKENS
    at_end = reader.eof and limit == len(text) and len(after) <= SNIPPET_TOKENS - lead
    cut_start = 0 if at_start else words[0][0]
    cut_end = len(text) if at_end else words[-1][1]
    if cut_end - cut_start > MAX_SNIPPET_CHARS:  # absurdly long words: keep the match in view
        cut_start = max(cut_start, start - MAX_SNIPPET_CHARS // 4)
        cut_end = min(cut_end, cut_start + MAX_SNIPPET_CHARS)
        at_start = at_start and cut_start == 0
        at_end = at_end and cut_end == len(text)
    body = matcher.marked(text, cut_start, cut_end)
    return ("" if at_start else ELLIPSIS) + body + ("" if at_end else ELLIPSIS)
