"""The report's section on growth to 100,000 documents (scenarios/scale.py), judged by the
targets of issue 18: each 100,000 figure against its bound, some relative to the 5,000 one."""

from benchmarks.report import Table, Target, ms, spread, verdict
from benchmarks.results import Results, ScaleRun

COLD_RATIO = Target(22, "≤ 22 × cold 5k")
UNCHANGED = Target(1.5, "≤ 1.5 s")
EDITED = Target(2.0, "≤ 2 s")
WRITER_WAIT = Target(1.5, "≤ 1.5 s")
RSS_AFTER = Target(400, "≤ 400 MB")
P50_RATIO = {  # at 100,000, as a multiple of the 5,000 figure
    "documents list (per_page=50)": Target(1.5, "≤ 1.5 × 5k"),
    "document detail": Target(1.5, "≤ 1.5 × 5k"),
    "related (story, epic, plan)": Target(1.5, "≤ 1.5 × 5k"),
    "search: frequent word": Target(4, "≤ 4 × 5k"),
}


def scale_table(results: Results) -> Table | None:
    """One row per figure, one column per size, the target judged at the largest size."""
    if not results.scale:
        return None
    sizes = list(results.scale)
    runs = list(results.scale.values())
    base, top = runs[0], runs[-1]

    def row(name: str, cells: list[str], target: str = "") -> tuple[str, ...]:
        return (name, *cells, target)

    rows = [
        row(
            "cold sync",
            [f"{run.cold:.1f} s" for run in runs],
            f"{top.cold / base.cold:.1f} × {COLD_RATIO.judge(top.cold / base.cold)}",
        ),
        row(
            "no-change re-sync",
            [spread(run.unchanged) for run in runs],
            UNCHANGED.judge(top.unchanged.median),
        ),
        row(
            "10-edit re-sync",
            [spread(run.edited) for run in runs],
            EDITED.judge(top.edited.median),
        ),
        row("every file changed, re-sync", [f"{run.full_change:.1f} s" for run in runs]),
        row(
            "longest writer wait, cold sync",
            [f"{run.writer_wait_cold:.2f} s" for run in runs],
            WRITER_WAIT.judge(top.writer_wait_cold),
        ),
        row(
            "longest writer wait, full-change re-sync",
            [f"{run.writer_wait_full_change:.2f} s" for run in runs],
            WRITER_WAIT.judge(top.writer_wait_full_change),
        ),
    ]
    for name in base.p50:
        ratio = _ratio(base, top, name)
        target = P50_RATIO.get(name)
        judged = "" if target is None or ratio is None else f"{ratio:.2f} × {target.judge(ratio)}"
        rows.append(row(f"p50 {name}", [_p50(run, name) for run in runs], judged))
    rows.append(
        row(
            "RSS after the runs",
            [f"{run.rss_after.rss:.0f} MB" for run in runs],
            RSS_AFTER.judge(top.rss_after.rss),
        )
    )
    return Table(
        "Growth to 100,000 documents",
        ("Figure", *sizes, "Target at the largest"),
        rows,
        text=(
            "A fresh server per size: cold sync, no-change and 10-edit re-syncs (median, "
            "min–max), sequential p50 of each read endpoint, a re-sync with every file changed, "
            "RSS once the server settled. Writer wait: a probe connection asks for SQLite's "
            "write lock every 20 ms during the sync; the longest any request waited, which is "
            f"the longest the sync held the lock at a stretch. {verdict(True)} / "
            f"{verdict(False)} judge the largest size."
        ),
    )


def _p50(run: ScaleRun, name: str) -> str:
    value = run.p50.get(name)
    return "–" if value is None else f"{ms(value):.1f} ms"


def _ratio(base: ScaleRun, top: ScaleRun, name: str) -> float | None:
    low, high = base.p50.get(name), top.p50.get(name)
    return None if not low or high is None else high / low
