"""Snippets: the words FTS5 matched, marked and escaped, cut from the text at bounded cost."""

import io
import re
import sqlite3
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdlc_lens.db.fts import INDEXED_CHARS
from sdlc_lens.services.search.query import Term, parse_query
from sdlc_lens.services.search.snippets import (
    ELLIPSIS,
    MAX_SNIPPET_CHARS,
    SNIPPET_TOKENS,
    Matcher,
    TextReader,
    snippet,
)
from tests.helpers import examples

WORD = re.compile(r"\w+")
MARK = re.compile(r"</?mark>")

Highlight = Callable[[str, list[Term]], list[tuple[int, int]]]


def reader(text: str) -> TextReader:
    return TextReader(io.BytesIO(text.encode()))


def make_snippet(text: str, query: str) -> str:
    return snippet(reader(text), Matcher(parse_query(query)))


def words(text: str) -> list[str]:
    return WORD.findall(MARK.sub("", text))


@pytest.fixture(scope="module")
def highlight() -> Iterator[Highlight]:
    """The spans FTS5's own highlight() marks, in a table tokenized like the index."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(c, tokenize=\"unicode61 tokenchars '_'\")")

    def spans(text: str, terms: list[Term]) -> list[tuple[int, int]]:
        db.execute("DELETE FROM t")
        db.execute("INSERT INTO t(rowid, c) VALUES (1, ?)", (text,))
        match = " OR ".join(term.fts for term in terms)
        row = db.execute(
            "SELECT highlight(t, 0, char(1), char(2)) FROM t WHERE t MATCH ?", (match,)
        ).fetchone()
        found: list[tuple[int, int]] = []
        marked = row[0] if row else text
        offset = 0  # markers seen so far, to map positions back onto `text`
        for position, ch in enumerate(marked):
            if ch == "\x01":
                start = position - offset
                offset += 1
            elif ch == "\x02":
                found.append((start, position - offset))
                offset += 1
        return found

    yield spans
    db.close()


# --- the matcher agrees with FTS5 --------------------------------------------------------

VOCABULARY = [
    "pass", "password", "Passwörd", "PASS", "passé", "café", "cafe\u0301", "CAFÉ", "cafeteria",
    "snake_case", "snake", "x1y", "x1", "日本語", "naïve", "ﬁle", "Straße", "über",
]  # fmt: skip
SEPARATORS = [" ", ", ", "-", "\n", " (", ") ", "/", "**", ". "]
texts = st.lists(
    st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(SEPARATORS)), max_size=30
).map(lambda pairs: "".join(word + sep for word, sep in pairs))
queries = st.lists(
    st.tuples(st.sampled_from(["pass", "cafe", "snake", "naive", "uber", "日本語", "x1y"]),
              st.booleans()),
    min_size=1, max_size=3,
).map(lambda terms: " ".join(word + ("*" if prefix else "") for word, prefix in terms))  # fmt: skip


@settings(max_examples=examples(300), deadline=None)
@given(text=texts, query=queries)
def test_marks_are_the_spans_fts5_highlights(highlight: Highlight, text: str, query: str) -> None:
    terms = parse_query(query)
    matcher = Matcher(terms)
    assert [m.span() for m in matcher.pattern.finditer(text)] == highlight(text, terms)


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        ("the session ends; go", '"session ends"', "the <mark>session ends</mark>; go"),
        ("session, then ends", '"session ends"', "session, then ends"),
        ("Deployment DEPLOYS deploy", "deploy*", "<mark>Deployment</mark> <mark>DEPLOYS</mark> "
         "<mark>deploy</mark>"),
        ("sync_status and sync", "sync", "sync_status and <mark>sync</mark>"),
        ("Café and cafe\u0301", "cafe", "<mark>Café</mark> and <mark>cafe\u0301</mark>"),
        ("x-ray vision", "x-ray", "<mark>x-ray</mark> vision"),
    ],
)  # fmt: skip
def test_phrases_prefixes_and_word_boundaries(text: str, query: str, marked: str) -> None:
    assert make_snippet(text, query) == marked


# --- the window ---------------------------------------------------------------------------


def numbered(count: int) -> str:
    return " ".join(f"w{n}" for n in range(count))


def test_a_match_near_the_start_shows_the_start() -> None:
    text = "# Title\n\n" + numbered(100)
    result = make_snippet(text, "w3")
    assert result.startswith("# Title\n\nw0 w1 w2 <mark>w3</mark>")
    assert result.endswith(ELLIPSIS)
    assert len(words(result)) == SNIPPET_TOKENS


def test_a_match_in_the_middle_is_centred_and_cut_at_both_ends() -> None:
    result = make_snippet(numbered(1000), "w500")
    assert result.startswith(ELLIPSIS) and result.endswith(ELLIPSIS)
    shown = words(result)
    assert len(shown) == SNIPPET_TOKENS
    assert shown.index("w500") in (SNIPPET_TOKENS // 2 - 1, SNIPPET_TOKENS // 2)
    assert shown == [f"w{n}" for n in range(int(shown[0][1:]), int(shown[0][1:]) + 32)]


def test_a_match_near_the_end_fills_the_window_with_earlier_words() -> None:
    result = make_snippet(numbered(100) + ".\n", "w98")
    assert result.startswith(ELLIPSIS) and result.endswith("w98</mark> w99.\n")
    assert words(result) == [f"w{n}" for n in range(68, 100)]


def test_a_short_text_is_shown_whole() -> None:
    assert make_snippet("Only a few words here.", "few") == "Only a <mark>few</mark> words here."


def test_text_is_html_escaped_and_marks_are_the_only_tags() -> None:
    result = make_snippet("<b>bold</b> & <script>alert('x')</script> target", "target")
    assert result == (
        "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; "
        "<mark>target</mark>"
    )


def test_without_a_match_the_snippet_is_the_start() -> None:
    assert make_snippet(numbered(10), "absent") == numbered(10)
    long = make_snippet(numbered(100), "absent")
    assert long == numbered(SNIPPET_TOKENS) + ELLIPSIS
    assert snippet(reader(numbered(100)), None) == long


def test_absurdly_long_words_still_give_a_bounded_snippet() -> None:
    text = "a" * 50_000 + " needle " + "b" * 50_000
    result = make_snippet(text, "needle")
    assert "<mark>needle</mark>" in result
    assert len(result) <= MAX_SNIPPET_CHARS + len("<mark></mark>") + 2 * len(ELLIPSIS)


# --- bounded work -------------------------------------------------------------------------


def test_a_match_near_the_start_of_a_huge_text_reads_a_few_kilobytes() -> None:
    text = "intro needle " + numbered(1_000_000)  # about 7 MB
    source = reader(text)
    assert "<mark>needle</mark>" in snippet(source, Matcher(parse_query("needle")))
    assert source.bytes_read <= 16 * 1024


def test_a_match_deep_in_the_text_reads_up_to_it_and_not_further() -> None:
    text = numbered(100_000) + " needle " + numbered(1_000_000)
    source = reader(text)
    assert "<mark>needle</mark>" in snippet(source, Matcher(parse_query("needle")))
    position = text.index("needle")
    assert position < source.bytes_read <= 2 * position + 2 * MAX_SNIPPET_CHARS


def test_the_scan_stops_where_the_index_stops() -> None:
    text = numbered(1_000_000) + " needle"  # about 7 MB, the word past INDEXED_CHARS
    source = reader(text)
    assert snippet(source, Matcher(parse_query("needle"))) == numbered(32) + ELLIPSIS
    assert source.bytes_read <= 2 * INDEXED_CHARS


def test_reading_stops_when_the_budget_says_so() -> None:
    class Spent(Exception):
        pass

    calls = 0

    def check() -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise Spent

    source = TextReader(io.BytesIO(numbered(1_000_000).encode()), check)
    with pytest.raises(Spent):
        snippet(source, Matcher(parse_query("absent")))
    assert source.bytes_read < 1024 * 1024
