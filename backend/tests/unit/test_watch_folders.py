"""What the folder watcher asks of a folder (services/freshness/folders.py), on real folders."""

import os
from pathlib import Path

import pytest

from sdlc_lens.services.freshness.folders import (
    count_folders,
    file_system_type,
    fingerprint,
    is_relevant,
    notification_blocker,
)
from tests.helpers import write_tree

# /proc/self/mountinfo as Linux writes it: the mount point is field 5, the type follows "-".
MOUNTINFO = "\n".join(
    [
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
        "40 22 0:40 / /srv/share rw,relatime shared:20 - nfs4 nas:/export rw,vers=4.2",
        "41 22 0:41 / /home/me/remote rw,nosuid - fuse.sshfs me@host:/ rw,user_id=1000",
        "42 22 8:17 / /mnt/windows rw,relatime - fuseblk /dev/sdb1 rw,user_id=0",
        r"43 22 0:43 / /mnt/my\040disk rw - cifs //server/disk rw",
        "44 40 0:44 / /srv/share/local rw - ext4 /dev/sdc1 rw",
        "45 22 0:45 / /mnt/wsl rw - 9p drvfs rw",
    ]
)


@pytest.mark.parametrize(
    ("path", "fs_type", "watched"),
    [
        ("/home/me/project", "ext4", True),
        ("/srv/share/acme/sdlc-studio", "nfs4", False),
        ("/srv/share", "nfs4", False),
        ("/srv/shared", "ext4", True),  # a longer name, not below /srv/share
        ("/srv/share/local/acme", "ext4", True),  # a local disk mounted inside the share
        ("/home/me/remote/acme", "fuse.sshfs", False),
        ("/mnt/windows/acme", "fuseblk", True),  # a local disk behind FUSE
        ("/mnt/my disk/acme", "cifs", False),  # mountinfo escapes the space
        ("/mnt/wsl/c/acme", "9p", False),
    ],
)
def test_the_file_system_decides_whether_notifications_are_used(
    path: str, fs_type: str, watched: bool
) -> None:
    assert file_system_type(path, MOUNTINFO) == fs_type
    blocker = notification_blocker(path, MOUNTINFO)
    assert (blocker is None) == watched
    if not watched:
        assert f"on a {fs_type} file system" in str(blocker)


def test_this_machines_temporary_folders_are_watched(tmp_path: Path) -> None:
    # Read from the real /proc/self/mountinfo: the test machine's disk is local.
    assert notification_blocker(str(tmp_path)) is None


def test_relevant_changes_are_those_a_sync_would_see(tmp_path: Path) -> None:
    root = str(write_tree(tmp_path / "p", {"stories/US0001.md": "x", "notes.txt": "x"}))
    (tmp_path / "p" / "epics").mkdir()
    relevant = [
        root,  # the folder itself: moved or removed
        f"{root}/stories/US0001.md",
        f"{root}/stories/US0002.MD",  # any case, gone or not
        f"{root}/.config.yaml",  # settings at the top
        f"{root}/.version",
        f"{root}/epics",  # a folder
        f"{root}/plans",  # gone: it may have been a folder
    ]
    irrelevant = [
        f"{root}/notes.txt",  # an existing file that is no document
        f"{root}/stories/.US0001.md.swp",  # hidden
        f"{root}/.git/index",
        f"{root}/node_modules/x/README.md",
        f"{root}/stories/_index.md",  # registries are not documents
        f"{root}/stories/.config.yaml",  # settings only count at the top
    ]
    assert [p for p in relevant if not is_relevant(root, p)] == []
    assert [p for p in irrelevant if is_relevant(root, p)] == []


def test_folders_are_counted_as_a_recursive_watch_takes_them(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"a/b/c.md": "x", ".git/objects/x": "x", "d/e.md": "x"})
    os.symlink(root / "a", root / "d" / "link-to-a")  # followed, but counted once
    os.symlink(root, root / "d" / "loop")  # a loop ends
    assert count_folders(str(root), limit=100) == 6  # p, a, a/b, .git, .git/objects, d
    assert count_folders(str(root), limit=2) == 3  # stops just past the limit


def test_count_of_a_huge_tree_stops_at_the_limit(tmp_path: Path) -> None:
    for index in range(3000):
        (tmp_path / "huge" / f"f{index}").mkdir(parents=True)
    assert count_folders(str(tmp_path / "huge"), limit=100) == 101


def test_the_fingerprint_changes_with_what_a_sync_would_see(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"stories/US0001.md": "one", "notes.txt": "x"})
    folder = str(root)
    seen = {fingerprint(folder)}

    def changed() -> bool:
        current = fingerprint(folder)
        new = current not in seen
        seen.add(current)
        return new

    (root / "notes.txt").write_text("not a document")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.md").write_text("hidden")
    assert not changed()
    (root / "stories" / "US0001.md").write_text("one, edited")
    assert changed()
    (root / "stories" / "US0002.md").write_text("two")
    assert changed()
    (root / "stories" / "US0002.md").rename(root / "stories" / "US0003.md")
    assert changed()
    (root / "stories").rename(root / "tales")
    assert changed()
    (root / ".config.yaml").write_text("version: 2\n")
    assert changed()
    (root / "stories").mkdir()  # an empty folder holds nothing a sync would store
    assert not changed()


def test_there_is_no_fingerprint_without_the_folder(tmp_path: Path) -> None:
    assert fingerprint(str(tmp_path / "missing")) is None
    assert fingerprint(str(write_tree(tmp_path, {"file.md": "x"}) / "file.md")) is None
