"""Never stale: random writes, syncs of real folder edits, deletes and reads, every answer of
the cached app compared with the one an app without the cache computes from the same data."""

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import examples, markdown, migrate, served, wait_for_sync, write_tree

NAMES = ("Shop", "Mill", "Dock")
WORDS = ("shelf", "basket", "ledger", "invoice", "harbour")
STATUSES = ("Draft", "Done", "In Progress", "Blocked")
# The files a project folder may hold: (path, type, doc_id).
DOCUMENTS = (
    *((f"epics/EP000{n}-e.md", "epic", f"EP000{n}-e") for n in (1, 2)),
    *((f"stories/US000{n}-s.md", "story", f"US000{n}-s") for n in (1, 2, 3, 4)),
    ("prd.md", "prd", "prd"),
)


def document(path: str, status: str, word: str, epic: int) -> str:
    title = Path(path).stem.split("-")[0]
    return markdown(
        f"{title}: About {word}", f"All about the {word}.", Status=status, Epic=f"EP000{epic}"
    )


def answer_paths(slug: str) -> list[str]:
    """Every read of one project, and the reads over all projects."""
    base = f"/api/v1/projects/{slug}"
    paths = [
        base,
        f"{base}/documents",
        f"{base}/documents?type=story&sort=title&order=asc",
        f"{base}/documents?status=Done&per_page=2&page=2",
        f"{base}/stats",
        f"{base}/health-check",
        f"/api/v1/search?q={WORDS[0]}&project={slug}",
    ]
    for _path, doc_type, doc_id in DOCUMENTS[::2]:
        paths += [
            f"{base}/documents/{doc_type}/{doc_id}",
            f"{base}/documents/{doc_type}/{doc_id}/related",
        ]
    return paths


GLOBAL_PATHS = ["/api/v1/projects", "/api/v1/projects?limit=2&offset=1", "/api/v1/stats"] + [
    f"/api/v1/search?q={word}" for word in WORDS
]


def comparable(response: httpx.Response) -> Any:
    """What must agree: the status and the answer, less the moment a checkup was made."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("checked_at", None)
    return response.status_code, body


class CachedAnswers(RuleBasedStateMachine):
    """Two apps on one database, each behind a real Uvicorn: `cached` makes every change,
    `fresh` has no cache."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="lens-cache-"))
        url = f"sqlite:///{self.folder / 'lens.db'}"
        migrate(url)
        self.servers = ExitStack()
        self.cached = self.servers.enter_context(served(create_app(Settings(database_url=url))))
        self.fresh = self.servers.enter_context(
            served(create_app(Settings(database_url=url, response_cache_mb=0)))
        )
        self.projects: dict[str, Path] = {}  # slug -> its folder
        self.trees = 0
        self.tags: dict[str, bytes] = {}  # ETag -> the one body it stands for
        self.last_etag: dict[str, str] = {}  # path -> the last ETag the cached app gave

    def teardown(self) -> None:
        self.servers.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- changes ----------------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES), files=st.sets(st.sampled_from(range(len(DOCUMENTS)))))
    def create(self, name: str, files: set[int]) -> None:
        slug = name.lower()
        self.trees += 1
        root = self.folder / "trees" / str(self.trees)
        root.mkdir(parents=True)
        initial = {
            DOCUMENTS[n][0]: document(DOCUMENTS[n][0], "Draft", WORDS[n % 5], 1) for n in files
        }
        write_tree(root, initial)
        response = self.cached.post("/api/v1/projects", json={"name": name, "sdlc_path": str(root)})
        assert response.status_code == (409 if slug in self.projects else 201), response.text
        self.projects.setdefault(slug, root)

    @precondition(lambda self: self.projects)
    @rule(
        data=st.data(),
        which=st.sampled_from(range(len(DOCUMENTS))),
        status=st.sampled_from(STATUSES),
        word=st.sampled_from(WORDS),
        epic=st.sampled_from((1, 2)),
    )
    def edit(self, data: st.DataObject, which: int, status: str, word: str, epic: int) -> None:
        root = self.projects[data.draw(st.sampled_from(sorted(self.projects)))]
        path = DOCUMENTS[which][0]
        write_tree(root, {path: document(path, status, word, epic)})

    @precondition(lambda self: self.projects)
    @rule(data=st.data(), which=st.sampled_from(range(len(DOCUMENTS))))
    def remove_file(self, data: st.DataObject, which: int) -> None:
        root = self.projects[data.draw(st.sampled_from(sorted(self.projects)))]
        (root / DOCUMENTS[which][0]).unlink(missing_ok=True)

    @precondition(lambda self: self.projects)
    @rule(data=st.data(), allow_empty=st.booleans())
    def sync(self, data: st.DataObject, allow_empty: bool) -> None:
        slug = data.draw(st.sampled_from(sorted(self.projects)))
        started = self.cached.post(
            f"/api/v1/projects/{slug}/sync", params={"allow_empty": allow_empty}
        )
        assert started.status_code == 202, started.text
        # Read while the sync runs, as the frontend may: what gets cached now must not
        # outlive the sync's commit (the invariant compares after it).
        for path in answer_paths(slug):
            self.cached.get(path)
        wait_for_sync(self.cached, slug)

    @precondition(lambda self: self.projects)
    @rule(data=st.data(), name=st.sampled_from(("Renamed", "Another name")))
    def rename(self, data: st.DataObject, name: str) -> None:
        slug = data.draw(st.sampled_from(sorted(self.projects)))
        assert self.cached.put(f"/api/v1/projects/{slug}", json={"name": name}).status_code == 200

    @precondition(lambda self: len(self.projects) > 1)
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        slug, other = data.draw(st.permutations(sorted(self.projects)))[:2]
        moved = self.cached.put(
            f"/api/v1/projects/{slug}", json={"sdlc_path": str(self.projects[other])}
        )
        assert moved.status_code == 200, moved.text
        self.projects[slug] = self.projects[other]

    @precondition(lambda self: self.projects)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        slug = data.draw(st.sampled_from(sorted(self.projects)))
        assert self.cached.delete(f"/api/v1/projects/{slug}").status_code == 204
        del self.projects[slug]

    # ---- reads ------------------------------------------------------------------------

    @invariant()
    def every_answer_is_the_uncached_one(self) -> None:
        paths = list(GLOBAL_PATHS)
        for slug in (*self.projects, "gone"):
            paths += answer_paths(slug)
        for path in paths:
            fresh = self.fresh.get(path)
            etag = self.last_etag.get(path)
            headers = {} if etag is None else {"If-None-Match": etag}
            cached = self.cached.get(path, headers=headers)
            if cached.status_code == 304:
                # "Your copy is current": that copy must be what is true now.
                assert comparable(fresh) == (200, comparable_body(self.tags[etag])), path
                continue
            assert comparable(cached) == comparable(fresh), path
            if cached.status_code == 200:
                tag = cached.headers["etag"]
                # A strong ETag stands for one body, byte for byte.
                assert self.tags.setdefault(tag, cached.content) == cached.content, path
                self.last_etag[path] = tag


def comparable_body(content: bytes) -> Any:
    return comparable(httpx.Response(200, content=content))[1]


CachedAnswers.TestCase.settings = settings(
    max_examples=examples(10),
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCachedAnswers = CachedAnswers.TestCase
