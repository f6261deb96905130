"""Run every benchmark and write backend/BENCHMARKS.md:  uv run python -m benchmarks

Options: --skip-image (no Docker figures), --quick (fewer runs, shorter loads; for trying the
harness, not for the numbers you commit), --output PATH.
"""

import argparse
from pathlib import Path

from benchmarks.report import render
from benchmarks.results import Effort
from benchmarks.run import run_all
from harness import BACKEND_DIR


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--skip-image", action="store_true", help="leave out the Docker figures")
    parser.add_argument("--quick", action="store_true", help="fewer runs, shorter loads")
    parser.add_argument("--output", type=Path, default=BACKEND_DIR / "BENCHMARKS.md")
    args = parser.parse_args()
    effort = Effort.quick() if args.quick else Effort()
    results = run_all(effort, image=not args.skip_image)
    args.output.write_text(render(results), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
