"""The run's workspace: nothing of a finished run stays on disk; a failed one stays to look at."""

from pathlib import Path

import pytest

from benchmarks.workspace import workspace


def test_a_finished_run_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    with workspace(folder) as work:
        (work / "corpus").mkdir()
        (work / "corpus" / "US0001.md").write_text("# US0001\n")
    assert not folder.exists()


def test_a_failed_run_keeps_its_files_and_the_next_run_starts_empty(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    with pytest.raises(RuntimeError), workspace(folder) as work:
        (work / "server.log").write_text("what went wrong")
        raise RuntimeError("a scenario failed")
    assert (folder / "server.log").exists()
    with workspace(folder) as work:
        assert list(work.iterdir()) == []
