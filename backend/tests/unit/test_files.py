"""ProjectFolder.read: the one way a sync opens a file (services/sources/files.py)."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdlc_lens.services.sources.files import ProjectFolder, RefusedFileError, read_at_most
from tests.helpers import write_tree


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "project",
        {"prd.md": "# PRD\n", "stories/US0001-one.md": "# One\n", "deep/a/b/c.md": "deep\n"},
    )


@pytest.fixture
def folder(root: Path) -> Iterator[ProjectFolder]:
    with ProjectFolder(str(root)) as opened:
        yield opened


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_reads_files_at_any_depth(folder: ProjectFolder) -> None:
    assert folder.read("prd.md", 100) == b"# PRD\n"
    assert folder.read("deep/a/b/c.md", 100) == b"deep\n"
    assert folder.read("stories/US0001-one.md", 100) == b"# One\n"
    assert folder.read("deep/a/b/c.md", 100) == b"deep\n"


def test_follows_symlinks_that_stay_inside(root: Path, folder: ProjectFolder) -> None:
    (root / "alias.md").symlink_to("stories/US0001-one.md")
    (root / "linked").symlink_to(root / "deep" / "a")
    assert folder.read("alias.md", 100) == b"# One\n"
    assert folder.read("linked/b/c.md", 100) == b"deep\n"


def test_refuses_symlinks_that_lead_outside(
    root: Path, tmp_path: Path, folder: ProjectFolder
) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.md": "secret\n"})
    (root / "leak.md").symlink_to(outside / "secret.md")
    (root / "escape").symlink_to(outside)
    (root / "up.md").symlink_to("../outside/secret.md")
    for rel_path in ("leak.md", "escape/secret.md", "up.md"):
        with pytest.raises(RefusedFileError, match="points outside the project folder"):
            folder.read(rel_path, 100)


def test_refuses_what_is_not_a_regular_file(root: Path, folder: ProjectFolder) -> None:
    os.mkfifo(root / "pipe.md")
    (root / "loop.md").symlink_to("loop.md")
    with pytest.raises(RefusedFileError, match=r"is not a regular file \(a FIFO\)"):
        folder.read("pipe.md", 100)
    with pytest.raises(RefusedFileError, match=r"is not a regular file \(a directory\)"):
        folder.read("stories", 100)
    with pytest.raises(RefusedFileError, match="is a symbolic link loop"):
        folder.read("loop.md", 100)


def test_missing_files_raise_file_not_found(root: Path, folder: ProjectFolder) -> None:
    (root / "dangling.md").symlink_to("nowhere.md")
    for rel_path in ("absent.md", "dangling.md", "no/such/folder.md"):
        with pytest.raises(FileNotFoundError):
            folder.read(rel_path, 100)


def test_size_limit_is_inclusive(root: Path, folder: ProjectFolder) -> None:
    write_tree(root, {"ten.md": "0123456789"})
    assert folder.read("ten.md", 10) == b"0123456789"
    with pytest.raises(RefusedFileError, match="is larger than the 9 bytes limit"):
        folder.read("ten.md", 9)


def test_a_file_that_grew_after_its_stat_is_still_capped(tmp_path: Path) -> None:
    path = tmp_path / "growing.md"
    path.write_bytes(b"x" * 5000)
    fd = os.open(path, os.O_RDONLY)
    try:
        # fstat said 10 bytes when the file was opened; it is 5000 bytes by the time of the read.
        with pytest.raises(RefusedFileError, match="is larger than the 4096 bytes limit"):
            read_at_most(fd, 10, 4096)
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_at_most(fd, 10, 5000) == b"x" * 5000
    finally:
        os.close(fd)


def test_descriptors_are_closed(root: Path) -> None:
    before = open_descriptors()
    with ProjectFolder(str(root)) as folder:
        for rel_path in ("prd.md", "deep/a/b/c.md", "stories/US0001-one.md", "absent.md") * 3:
            with contextlib.suppress(FileNotFoundError):
                folder.read(rel_path, 100)
    assert open_descriptors() == before
