"""A search query as safe FTS5 terms, within the bounds that keep one search cheap.

The user's text never reaches FTS5's query syntax. It is split into words the way the index's
tokenizer (unicode61, `_` a token character) splits text, and every term FTS5 sees is a
quoted string of those words, so operators (`AND`, `NEAR`, `-`, `:`, brackets) are plain words
and no input can raise a syntax error. The expression is a bound parameter, never spliced
into SQL.

A search costs about one pass over each word's document list, and a prefix costs one over
every word it expands to, so the query is bounded: at most MAX_QUERY_WORDS distinct words, and
a prefix needs MIN_PREFIX_CHARS characters before its `*`. Above either bound the request gets
a 422 that says which; nothing is silently dropped or rewritten.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from sdlc_lens.errors import ValidationFailedError
from sdlc_lens.parsing import id_head

MAX_QUERY_LENGTH = 500
MAX_QUERY_WORDS = 16
MIN_PREFIX_CHARS = 3

# The combining marks that unicode61 treats as part of a word and then folds away
# (`cafe\u0301` is the word `cafe`); measured against SQLite 3.40's tokenizer.
DIACRITICS = "\u0300-\u0304\u0306-\u030c\u030f\u0311\u031b\u0323-\u0328\u032d\u032e\u0330\u0331"
# A character of a word, as unicode61 with `tokenchars '_'` sees it: letters, digits, `_`,
# the diacritics above and private-use characters.
TOKEN_CHAR = rf"[\w{DIACRITICS}\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]"
_WORD = re.compile(f"{TOKEN_CHAR}+")
# New Tai Lue vowel signs and two Vedic signs: letters to Python's `\w` but separators to
# SQLite's (older) Unicode tables. Splitting on them here keeps the word count that bounds
# a query an upper bound of the words FTS5 sees.
_FTS_SEPARATORS = str.maketrans(dict.fromkeys([*range(0x19B0, 0x19C1), 0x19C8, 0x19C9], " "))
_FTS_SEPARATORS.update({0x1CF2: " ", 0x1CF3: " "})
# C0/C1 controls separate words, as spaces do.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# `"a quoted span"` or a run of non-space characters. An unbalanced quote falls to the
# second branch and is then just a character inside a word.
_SPAN = re.compile(r'"([^"]*)"|(\S+)')
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


@dataclass(frozen=True, slots=True)
class Term:
    """One FTS5 phrase: its words in order, the last one maybe a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def fts(self) -> str:
        """The term in FTS5 syntax: a quoted string, then `*` for a prefix."""
        return '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")

    @property
    def key(self) -> tuple[tuple[str, ...], bool]:
        """What FTS5 compares: the folded words and the prefix flag."""
        return tuple(fold(word) for word in self.words), self.prefix


def words_of(text: str) -> list[str]:
    """The words of `text` that can match anything: runs of word characters with a letter,
    digit or `_` in them (a lone combining mark folds to nothing)."""
    return [w for w in _WORD.findall(text.translate(_FTS_SEPARATORS)) if _has_letter(w)]


def _has_letter(word: str) -> bool:
    return any(ch.isalnum() or ch == "_" for ch in word)


def parse_query(query: str) -> list[Term]:
    """The distinct terms of a query; a 422 when it is over a bound.

    `"quoted text"` is one phrase; every other run of non-space characters is its own term
    (its words a phrase: `x-ray` is `"x ray"`); a run ending in `*` is a prefix term.
    Repeats of a term are dropped: all terms must match anyway.
    """
    terms: dict[tuple[tuple[str, ...], bool], Term] = {}
    for quoted, span in _SPAN.findall(_CONTROL.sub(" ", query)):
        prefix = not quoted and span.endswith("*")
        words = words_of(quoted or span.rstrip("*"))
        if not words:
            continue
        term = Term(tuple(words), prefix)
        if prefix and len(fold(words[-1])) < MIN_PREFIX_CHARS:
            raise ValidationFailedError(
                f"q: a prefix search needs at least {MIN_PREFIX_CHARS} letters before the `*` "
                f"(got {span!r})"
            )
        terms.setdefault(term.key, term)
    count = sum(len(term.words) for term in terms.values())
    if count > MAX_QUERY_WORDS:
        raise ValidationFailedError(
            f"q: at most {MAX_QUERY_WORDS} different words per search (got {count})"
        )
    return list(terms.values())


def exact_id(query: str) -> str | None:
    """The normalised id when the whole query is one document id (`us-0024` -> `US0024`)."""
    text = query.strip()
    head = id_head(text)
    if head is None or _NON_ALNUM.sub("", text).upper() != head:
        return None
    return head


def fold(word: str) -> str:
    """A word as unicode61 compares it: lower case, a lone diacritic taken off a Latin letter."""
    return "".join(_fold_char(ch) for ch in word)


@cache
def _fold_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    # unicode61 (remove_diacritics 1) strips the diacritic of a Latin letter that has one.
    if len(decomposed) == 2 and decomposed[0].isascii() and unicodedata.combining(decomposed[1]):
        ch = decomposed[0]
    elif re.fullmatch(f"[{DIACRITICS}]", ch):
        return ""
    return ch.lower()
