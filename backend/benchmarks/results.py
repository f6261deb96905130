"""What one benchmark run measured, as plain data: written as JSON, read back to compare runs.

Times are in seconds and sizes in MB throughout; the report converts for display.
"""

import statistics
from pathlib import Path

from pydantic import BaseModel, Field

from benchmarks.load import LoadResult


class Effort(BaseModel, frozen=True):
    """How long and how often to measure."""

    sync_runs: int = 5
    sequential: int = 500
    concurrent_seconds: float = 10.0
    load_seconds: float = 60.0
    abuse_seconds: float = 20.0
    big_document_requests: int = 30
    image_runs: int = 10  # `docker run` to healthy: issue 18 asks for the median of 10
    huge_corpus: bool = True  # the 50,000-document memory case
    watch_writes: int = 20  # single writes timed until visible
    watch_bursts: int = 3  # 500-file bursts
    watch_idle_seconds: float = 60.0  # each idle CPU measurement
    trial: bool = False  # a quick trial of the harness, not figures to publish

    @classmethod
    def quick(cls) -> "Effort":
        """A short trial of the harness: its figures are not the ones to publish."""
        return cls(
            sync_runs=2,
            sequential=100,
            concurrent_seconds=2.0,
            load_seconds=10.0,
            abuse_seconds=5.0,
            big_document_requests=5,
            image_runs=3,
            huge_corpus=False,
            watch_writes=8,
            watch_bursts=1,
            watch_idle_seconds=10.0,
            trial=True,
        )


class Runs(BaseModel):
    """Repeated timings of one thing."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """The 95th percentile (nearest rank): the slowest sample for fewer than 20."""
        ordered = sorted(self.samples)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


class Latency(BaseModel):
    """One load run, summarised: percentiles, throughput and what the answers were."""

    requests: int
    wall: float
    p50: float | None  # None: nothing answered
    p95: float | None
    p99: float | None
    max: float | None
    statuses: dict[int, int] = Field(default_factory=dict)
    errors: int = 0  # broken connections
    timeouts: int = 0  # no answer within the client's timeout
    unfinished: int = 0  # still waiting when the run ended

    @classmethod
    def of(cls, load: LoadResult) -> "Latency":
        answered = bool(load.latencies)
        return cls(
            requests=load.requests,
            wall=load.wall,
            p50=load.p50 if answered else None,
            p95=load.percentile(95) if answered else None,
            p99=load.percentile(99) if answered else None,
            max=max(load.latencies) if answered else None,
            statuses=dict(sorted(load.statuses.items())),
            errors=load.errors,
            timeouts=load.timeouts,
            unfinished=load.unfinished,
        )

    @property
    def rps(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def failures(self) -> int:
        """Requests that got no 2xx answer."""
        non_2xx = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return non_2xx + self.errors + self.timeouts

    def count(self, *statuses: int) -> int:
        return sum(self.statuses.get(status, 0) for status in statuses)


class Memory(BaseModel):
    """A server's resident memory, split as /proc/PID/smaps_rollup reports it."""

    rss: float
    anonymous: float  # the heap: what the process allocated

    @property
    def file_backed(self) -> float:
        """Mapped files (the database, shared libraries) that the kernel may drop at will."""
        return self.rss - self.anonymous


class MemoryChange(BaseModel):
    before: Memory  # the server started on a migrated database, nothing synced
    after: Memory  # once the server's post-sync tidy-up is over (see servers.settled)
    settled_after: float = 0.0  # seconds from "synced" to that point


class SyncFigures(BaseModel):
    runs: dict[str, Runs]  # "cold 5k", "no change 5k", "10 edited 5k", "cold 20k"
    hash_baseline: Runs  # reading and hashing every file: the floor for any sync
    counts: dict[str, int]  # documents by type at 5,000
    memory_after_resyncs: Memory  # after 10 more syncs of 10 edited files each


class ApiFigures(BaseModel):
    frequent_word_share: float
    sequential: dict[str, Latency]
    concurrent: dict[str, Latency]
    large_p50: dict[str, float]  # at 20,000 documents
    # 20 clients sending the answer's ETag in If-None-Match: 304s from the answer cache.
    revalidated: dict[str, Latency] = Field(default_factory=dict)
    # Sequential, on a server with SDLC_LENS_RESPONSE_CACHE_MB=0: every answer computed.
    uncached: dict[str, Latency] = Field(default_factory=dict)


class LoadCheck(BaseModel):
    latency: Latency
    syncs: int


class SearchAbuse(BaseModel):
    """Hostile searches from many clients, and what the ordinary reads saw meanwhile."""

    queries: dict[str, str]  # attack name -> query text
    attacks: dict[str, Latency]
    reads: dict[str, Latency]  # "documents list", "project stats"


class BigDocumentSearch(BaseModel):
    megabytes: int
    word: str
    sync: float
    on_first_page: bool | None  # None when the first search got no answer in time
    latency: Latency | None
    timeout: float


class TreeFigures(BaseModel):
    """One whole tree: a real one (SDLC_LENS_TEST_CORPUS) or a generated fixture tree."""

    counts: dict[str, int]
    cold: float
    unchanged: Runs
    health_score: int | None = None
    findings: dict[str, int] | None = None  # health-check findings per rule
    parent_child_links: int | None = None  # children summed over every document's /related


class TreeReport(BaseModel):
    trees: dict[str, TreeFigures]
    largest: str
    largest_p50: dict[str, float]
    source: str = "the real trees"  # which trees; runs before it was recorded measured those


class RepositoryFigures(BaseModel):
    """A project in a git repository (scenarios/repository.py); sizes in MB."""

    documents: int
    documents_mb: float  # the markdown below repo_path
    other_mb: float  # the file outside repo_path
    folder_cold: Runs  # the same tree synced as a folder
    cold: Runs
    cold_mb: float  # bytes the server sent for one cold sync
    cold_round_trips: int
    unchanged: Runs
    unchanged_round_trips: int
    commit: Runs  # a commit of EDITED documents, synced
    commit_mb: float  # the most any of those syncs moved
    commit_documents_mb: float  # the size of the edited documents (the smallest run)
    commit_round_trips: int
    unfiltered_cold: float  # one cold sync from a server without partial clone
    unfiltered_mb: float
    poll_requests_per_interval: float


class ImageFigures(BaseModel):
    cold_build: Runs
    one_file_rebuild: Runs
    size: float
    base_size: float
    run_to_healthy: Runs
    stop: Runs


class WatchFigures(BaseModel):
    """Folder watching (issue 17), on the 5,000-document project unless said otherwise."""

    write_to_visible: Runs  # one new file written -> the API shows it
    burst_visible: Runs  # 500 new files written -> the API shows all of them
    burst_syncs: list[int]  # syncs each burst took
    idle_seconds: float
    idle_cpu: dict[str, float]  # share of one CPU while idle, by what is followed
    memory_per_project: float  # RSS each of 100 followed projects adds, beyond its sync
    inotify_watches: int  # with the 100 projects followed


class ScaleRun(BaseModel):
    """One size of the growth to 100,000 documents (scenarios/scale.py)."""

    documents: int
    cold: float
    unchanged: Runs
    edited: Runs  # 10 files edited
    full_change: float  # every file edited
    p50: dict[str, float]  # sequential p50 per read endpoint
    rss_after: Memory  # once the server settled after all of the syncs and reads
    writer_wait_cold: float  # the longest another writer waited for the lock, cold sync
    writer_wait_full_change: float  # ... and during the full-change re-sync


class Results(BaseModel):
    """Everything one run measured. A figure that could not be measured says why instead."""

    machine: dict[str, str]
    effort: Effort
    sync: SyncFigures | None = None
    memory: dict[str, MemoryChange] = Field(default_factory=dict)  # by corpus size
    wal: dict[str, float] = Field(default_factory=dict)  # WAL file size after a phase
    api: ApiFigures | None = None
    load: LoadCheck | None = None
    big_document: BigDocumentSearch | None = None
    abuse: SearchAbuse | None = None
    trees: TreeReport | None = None
    repository: RepositoryFigures | None = None
    image: ImageFigures | None = None
    watching: WatchFigures | None = None
    scale: dict[str, ScaleRun] = Field(default_factory=dict)  # by corpus size ("100,000")
    not_available: dict[str, str] = Field(default_factory=dict)  # figure -> why not

    def write_json(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read_json(cls, path: Path) -> "Results":
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
