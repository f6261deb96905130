"""Real processes, databases and generated sdlc-studio trees for the tests and the
benchmarks alike.

A migrated SQLite file, a Uvicorn server started as the image starts it, and the document
trees written by code (fixture trees, realistic projects, scaled corpora). Neither `tests`
nor `benchmarks` owns these, so that the benchmarks need nothing from the test suite.
"""

from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
