"""Real processes and databases for the tests and the benchmarks alike.

A migrated SQLite file and a Uvicorn server started as the image starts it. Neither `tests`
nor `benchmarks` owns these, so that the benchmarks need nothing from the test suite.
"""

from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
