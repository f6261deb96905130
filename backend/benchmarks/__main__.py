"""Run every benchmark:  uv run python -m benchmarks  (from backend/)

A full run (about 11 minutes on a quiet 2-core machine) writes BENCHMARKS.md and, next to
it, BENCHMARKS.json with the same figures as plain data. A --quick run (about 5 minutes)
is a trial of the harness, and --only SCENARIO runs one scenario: both print their report
and write no file unless --output says where. Generated corpora and the servers' databases
are removed at the end; only the build cache entries of the image build remain, as after
any `docker build`.
"""

import argparse
from pathlib import Path

from benchmarks.compare import figures, load_figures, table
from benchmarks.report import render
from benchmarks.results import Effort
from benchmarks.run import SCENARIOS, run_all
from harness import BACKEND_DIR


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; `output` is None when nothing is to be written."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs, shorter loads")
    parser.add_argument("--skip-image", action="store_true", help="leave out the Docker figures")
    parser.add_argument(
        "--huge", action="store_true", help="keep the 50,000-document memory case in --quick"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        metavar="SCENARIO",
        help=f"run this scenario only (repeatable): {', '.join(SCENARIOS)}; like --quick, "
        "writes no file unless --output says where",
    )
    parser.add_argument(
        "--corpora",
        type=Path,
        help="keep the growth scenario's generated corpora (up to 100,000 documents, ~1 GB) "
        "in this folder and reuse them in later runs",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the report (and its .json); default BENCHMARKS.md, none for --quick",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OLD",
        help="an earlier run's .json (or BENCHMARKS.md): print a before/after table at the end",
    )
    args = parser.parse_args(argv)
    if args.output is None and not args.quick and not args.only:
        args.output = BACKEND_DIR / "BENCHMARKS.md"
    return args


def main() -> None:
    args = parse_args()
    output = args.output
    before = load_figures(args.compare) if args.compare else None  # read before it is rewritten
    effort = Effort.quick() if args.quick else Effort()
    if args.huge:
        effort = effort.model_copy(update={"huge_corpus": True})

    only = frozenset(args.only) if args.only else None
    results = run_all(effort, image=not args.skip_image, only=only, corpora=args.corpora)
    report = render(results)
    if output is None:
        print(report)
    else:
        output.write_text(report, encoding="utf-8")
        results.write_json(output.with_suffix(".json"))
        print(f"wrote {output} and {output.with_suffix('.json').name}")
    if before is not None:
        print(table(before, figures(report)))


if __name__ == "__main__":
    main()
