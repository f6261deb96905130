"""The folder a run works in: generated corpora and the servers' databases and logs."""

from pathlib import Path

WORK_DIR = Path(__file__).resolve().parent / ".corpora"  # git-ignored
