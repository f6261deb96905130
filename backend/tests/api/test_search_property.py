"""No query text can break search: every input is a 200, or a 422 for a query over a bound
(length, words, prefix letters), or a 503 with `Retry-After` if a search outlasts its budget;
never a 500."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import examples

SEARCH = "/api/v1/search"

# FTS5 syntax and the characters most likely to upset a naive query builder.
FRAGMENTS = [
    "AND", "OR", "NOT", "NEAR", "NEAR(", "NEAR/3", "and", "or", "not", "near",
    '"', '""', "'", "*", "**", "^", "+", "-", ":", "title:", "content:", "{title}",
    "{title content}:", "(", ")", "()", "[", "]", "{", "}", "\\", "/", ".", ",", ";",
    "\x00", "\x01", "\x1b", "\x7f", "\x85", "\t", "\n", "\r\n", " ", "\u00a0", "\u200b",
    "\u2028", "\ufeff", "\ufdd0", "\ufdd1", "<mark>", "</mark>", "<script>", "&amp;",
    "%", "%00", "?", "#", "&", "=", "US0003", "BG-01KX8BFP", "us-0001", "docker", "the",
    "task*", "é", "ß", "İ", "ﬁ", "日本語", "\U0001d518\U0001d52b\U0001d526", "😀", "\u0301",
    "²", "٣",
]  # fmt: skip

fragment_lists = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), min_size=1, max_size=40
).map("".join)
queries = st.one_of(
    st.text(min_size=1, max_size=500),
    fragment_lists,
    # Dense runs of single syntax characters: quotes, stars, brackets, controls.
    st.text(alphabet=[f for f in FRAGMENTS if len(f) == 1], min_size=1, max_size=60),
)


def check(client: TestClient, q: str, **params: Any) -> None:
    response = client.get(SEARCH, params={"q": q, **params})
    if not 1 <= len(q) <= 500:
        assert response.status_code == 422, (q, response.text)
        return
    if response.status_code == 422:
        # Over the word or prefix bound: the envelope says which, about `q`.
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", (q, response.text)
        assert error["message"].startswith("q: "), (q, response.text)
        return
    if response.status_code == 503:
        # Over its time budget (a slow host): a clear envelope and when to retry.
        assert response.json()["error"]["code"] == "SEARCH_TOO_COSTLY", (q, response.text)
        assert int(response.headers["Retry-After"]) >= 1
        return
    assert response.status_code == 200, (q, response.text)
    body = response.json()
    assert body["query"] == q
    assert body["total"] >= len(body["items"])
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    for item in body["items"]:
        snippet = item["snippet"]
        assert snippet.count("<mark>") == snippet.count("</mark>")
        assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")


@settings(
    max_examples=examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=queries)
def test_any_query_text_is_answered(corpus: TestClient, q: str) -> None:
    check(corpus, q)


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    q=st.one_of(st.text(max_size=520), fragment_lists),
    project=st.one_of(st.none(), st.just("recipe-box"), st.text(max_size=10)),
    doc_type=st.one_of(st.none(), st.sampled_from(["story", "epic", "prd"]), st.text(max_size=6)),
    status=st.one_of(st.none(), st.sampled_from(["Done", "none", "Complete"]), st.text(max_size=6)),
    page=st.integers(min_value=1, max_value=2**63 - 1),
    per_page=st.integers(min_value=1, max_value=50),
)
def test_any_filters_and_pages_are_answered(
    corpus: TestClient,
    q: str,
    project: str | None,
    doc_type: str | None,
    status: str | None,
    page: int,
    per_page: int,
) -> None:
    params = {"project": project, "type": doc_type, "status": status}
    check(
        corpus,
        q,
        page=page,
        per_page=per_page,
        **{key: value for key, value in params.items() if value is not None},
    )


@pytest.mark.parametrize(
    "q",
    [
        "\x00",
        "docker\x00compose",
        '"unterminated',
        'a"b"c',
        "NEAR(docker compose, 2)",
        "title:docker",
        "{title}: docker",
        "docker -compose",
        "^docker",
        "docker + compose",
        "*docker",
        "doc*ker",
        '"docker"*',
        "((((",
        "x" * 500,
        " " * 500,
    ],
)
def test_known_troublemakers(corpus: TestClient, q: str) -> None:
    check(corpus, q)
