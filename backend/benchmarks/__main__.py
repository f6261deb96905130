"""Run every benchmark:  uv run python -m benchmarks  (from backend/)

A full run writes BENCHMARKS.md. A --quick run is a trial of the harness: it prints its report
and writes no file unless --output says where. Generated corpora and the servers' databases
are removed at the end; only the build cache entries of the image build remain, as after any
`docker build`.
"""

import argparse
from pathlib import Path

from benchmarks.report import render
from benchmarks.results import Effort
from benchmarks.run import run_all
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
        "--output",
        type=Path,
        help="where to write the report; default BENCHMARKS.md, none for --quick",
    )
    args = parser.parse_args(argv)
    if args.output is None and not args.quick:
        args.output = BACKEND_DIR / "BENCHMARKS.md"
    return args


def main() -> None:
    args = parse_args()
    effort = Effort.quick() if args.quick else Effort()
    if args.huge:
        effort = effort.model_copy(update={"huge_corpus": True})
    results = run_all(effort, image=not args.skip_image)
    report = render(results)
    if args.output is None:
        print(report)
    else:
        args.output.write_text(report, encoding="utf-8")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
