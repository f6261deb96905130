"""The folder a run works in: generated corpora and the servers' databases and logs."""

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

WORK_DIR = Path(__file__).resolve().parent / ".work"  # git-ignored


@contextlib.contextmanager
def workspace(folder: Path = WORK_DIR) -> Iterator[Path]:
    """`folder`, emptied first and removed after the run; kept for a look if the run fails."""
    shutil.rmtree(folder, ignore_errors=True)  # what an interrupted run left
    folder.mkdir(parents=True)
    try:
        yield folder
    except BaseException:
        print(f"kept {folder} (corpora, server logs) for a look; the next run empties it")
        raise
    shutil.rmtree(folder)
