"""A before/after table of two runs, from their JSON results or their BENCHMARKS.md.

    uv run python -m benchmarks.compare OLD NEW      # each a results .json or a report .md

Figures are matched by the report's section, row and column, so a BENCHMARKS.md written
before results were kept as JSON compares as well as a JSON file does.
"""

import re
import sys
from pathlib import Path

from benchmarks.report import render
from benchmarks.results import Results

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_BARE_NUMBER = re.compile(r"[-+]?[\d,.]+%?")
_UNIT = re.compile(r"\s*(\([^)]*\))$")
# Columns that judge a figure rather than give one.
_JUDGEMENTS = ("Target", "Verdict")


def load_figures(path: Path) -> dict[str, float]:
    """The numbers of a run's report, by '{section} > {row} > {column}'."""
    if path.suffix == ".json":
        return figures(render(Results.read_json(path)))
    return figures(path.read_text(encoding="utf-8"))


def figures(report: str) -> dict[str, float]:
    """Every number in every table of a markdown report (one per cell, or per `a / b` part)."""
    found: dict[str, float] = {}
    section, columns = "", None
    for line in report.splitlines():
        if not line.startswith("|"):
            columns = None
            if line.startswith("#"):
                section = line.lstrip("#").split(" (")[0].strip()
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if columns is None:
            columns = _unique(cells)
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the line under the header
        labelled = not _BARE_NUMBER.fullmatch(cells[0])  # else a row of figures only
        row = cells[0] if labelled else ""
        for column, cell in list(zip(columns, cells, strict=False))[1 if labelled else 0 :]:
            if column.startswith(_JUDGEMENTS):
                continue
            for name, part in _split(column, cell):
                value = _number(part)
                if value is not None:
                    found[" > ".join(p for p in (section, row, name) if p)] = value
    return found


def table(before: dict[str, float], after: dict[str, float]) -> str:
    """Markdown: each figure in both runs, before and after, and the change."""
    lines = ["| Figure | Before | After | Change |", "|---|---|---|---|"]
    for name, new in after.items():
        if name in before:
            old = before[name]
            change = f"{new / old - 1:+.0%}" if old else "-"
            lines.append(f"| {name} | {old:g} | {new:g} | {change} |")
    gone = [name for name in before if name not in after]
    if gone:
        lines += ["", f"In the old run only ({len(gone)}): " + "; ".join(gone)]
    added = sum(1 for name in after if name not in before)
    if added:
        lines += ["", f"New in this run: {added} figures."]
    return "\n".join(lines)


def _unique(columns: list[str]) -> list[str]:
    """A repeated name (`req/s` twice) qualified by the prefix of the column before it."""
    named = list(columns)
    for index, name in enumerate(columns):
        if index and columns.count(name) > 1:
            before = _split(columns[index - 1], columns[index - 1])[0][0]
            named[index] = f"{before.rsplit(' ', 2)[0]} {name}"
    return named


def _split(column: str, cell: str) -> list[tuple[str, str]]:
    """`p50 / p95 (ms)` with `1.0 / 2.0` -> [(`p50 (ms)`, `1.0`), (`p95 (ms)`, `2.0`)]."""
    names, parts = column.split(" / "), cell.split(" / ")
    if len(names) == 1 or len(names) != len(parts):
        return [(column, cell)]
    unit = _UNIT.search(names[-1])
    suffix = f" {unit[1]}" if unit else ""
    names[-1] = _UNIT.sub("", names[-1])
    prefix = names[0].rsplit(" ", 1)[0] + " " if " " in names[0] else ""
    names = [names[0] + suffix] + [prefix + name + suffix for name in names[1:]]
    return list(zip(names, parts, strict=True))


def _number(cell: str) -> float | None:
    match = _NUMBER.search(cell.replace(",", ""))
    return float(match[0]) if match else None


if __name__ == "__main__":
    old, new = (Path(arg) for arg in sys.argv[1:3])
    print(table(load_figures(old), load_figures(new)))
