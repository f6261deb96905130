"""Query words are the words SQLite's own tokenizer sees, so the word bound is a real bound."""

import re
import sqlite3
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdlc_lens.services.search.query import fold, words_of
from tests.helpers import examples

Tokenize = Callable[[str], list[str]]

# Where Python's and SQLite 3.40's Unicode tables fold case differently (the index folds
# these letters, the snippet matcher's case-insensitive regex treats them alike anyway).
CASE_FOLD_EXCEPTIONS = set("µſͿςϐϑϕϖϰϱϵẛ")
SCRIPTS = [
    *range(0x30, 0x250),  # ASCII letters and digits, Latin-1, Latin Extended-A and -B
    *range(0x370, 0x500),  # Greek, Cyrillic
    *range(0x1E00, 0x1F00),  # Latin Extended Additional (Vietnamese and more)
    *range(0x3040, 0x3100),  # Hiragana, Katakana
    *range(0x4E00, 0x4F00),  # CJK ideographs
]


@pytest.fixture(scope="module")
def tokenize() -> Iterator[Tokenize]:
    """SQLite's tokens of a text, through an FTS5 table built like the index."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(c, tokenize=\"unicode61 tokenchars '_'\")")
    db.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, t, instance)")

    def tokens(text: str) -> list[str]:
        db.execute("DELETE FROM t")
        db.execute("INSERT INTO t(rowid, c) VALUES (1, ?)", (text,))
        return [term for (term,) in db.execute("SELECT term FROM temp.v ORDER BY offset")]

    yield tokens
    db.close()


def test_words_and_folding_match_the_index_tokenizer(tokenize: Tokenize) -> None:
    letters = [chr(c) for c in SCRIPTS if re.fullmatch(r"\w", chr(c))]
    letters = [ch for ch in letters if ch not in CASE_FOLD_EXCEPTIONS]
    # One text, each letter between two `x` and separated by spaces: one word per letter.
    text = " ".join(f"x{ch}x" for ch in letters) + " cafe\u0301 _snake_case_ x\u0301y"
    assert [fold(word) for word in words_of(text)] == tokenize(text)


def test_letters_that_sqlite_takes_for_separators_split_words(tokenize: Tokenize) -> None:
    text = "a\u19b0b\u19c8c\u1cf2d"
    assert [fold(word) for word in words_of(text)] == tokenize(text) == ["a", "b", "c", "d"]


@settings(max_examples=examples(300), deadline=None)
@given(text=st.text(max_size=200))
def test_the_index_never_sees_more_words_than_a_query_counts(tokenize: Tokenize, text: str) -> None:
    words = words_of(text)
    assert len(tokenize(" ".join(words))) <= len(words)
