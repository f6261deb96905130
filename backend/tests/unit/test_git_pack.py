"""Fetched packs added to a project's object store in one pass (services/sources/git_pack.py).

Packs are made by git itself (`git pack-objects`, with deltas between similar documents,
as offsets and as ids, and thin ones against a stored commit) and compared with what
dulwich's own `add_thin_pack` stores: a store written by an earlier version, which used
that, must stay usable, and a store written now must be what that version would read.
"""

import subprocess
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dulwich.errors import ChecksumMismatch
from dulwich.object_store import DiskObjectStore
from dulwich.objects import ObjectID

from harness.git_server import GIT, commit_tree, git, make_repository
from sdlc_lens.services.sources.git_errors import DamagedPackError
from sdlc_lens.services.sources.git_pack import receive_pack
from tests.helpers import write_tree

# Similar documents: git stores all but one as deltas.
SHARED = "".join(f"Acceptance criterion {n}: the shop shows the basket.\n" for n in range(80))


def documents(version: int) -> dict[str, str | bytes]:
    return {f"docs/US{n:04d}.md": f"# US{n:04d} v{version}\n{SHARED}" for n in range(1, 31)}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    work = make_repository(served, "docs")
    write_tree(work, documents(1))
    commit_tree(work, "first")
    return work


def blob_ids(work: Path, rev: str = "HEAD") -> list[str]:
    return git("ls-tree", "-r", "--object-only", rev, "docs", cwd=work).split()


def pack_of(work: Path, stdin: str, *options: str) -> bytes:
    """A pack written by git: the objects named on `stdin` (ids, or revisions with --revs)."""
    return subprocess.run(
        [GIT, "pack-objects", "--stdout", "-q", *options],
        cwd=work,
        input=stdin.encode(),
        capture_output=True,
        check=True,
    ).stdout


def deltas_in(work: Path, pack: bytes, tmp_path: Path) -> int:
    """How many objects of `pack` are deltas, as git counts them."""
    path = tmp_path / "check.pack"
    path.write_bytes(pack)
    git("index-pack", str(path), cwd=work)
    listing = git("verify-pack", "-v", str(path), cwd=work).splitlines()
    return sum(1 for line in listing if len(line.split()) == 7)  # with depth and base


def new_store(path: Path) -> DiskObjectStore:
    path.mkdir()
    return DiskObjectStore.init(str(path))


def sending(pack: bytes) -> Callable[[Callable[[bytes], int]], None]:
    """A fetch that writes `pack` in pieces, as a server's answer arrives."""

    def fetch(write: Callable[[bytes], int]) -> None:
        for start in range(0, len(pack), 1000):
            write(pack[start : start + 1000])

    return fetch


def pack_files(store: DiskObjectStore) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(store.pack_dir).iterdir())}


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[DiskObjectStore, DiskObjectStore]]:
    ours, dulwichs = new_store(tmp_path / "ours"), new_store(tmp_path / "dulwich")
    yield ours, dulwichs
    ours.close()
    dulwichs.close()


# Deltas naming their base by its offset in the pack, or by its id.
@pytest.mark.parametrize("deltas", ["--delta-base-offset", "--no-reuse-delta"])
def test_a_pack_is_stored_as_dulwich_stores_it_and_its_blobs_handed_back(
    work: Path, tmp_path: Path, stores: tuple[DiskObjectStore, DiskObjectStore], deltas: str
) -> None:
    ids = blob_ids(work)
    pack = pack_of(work, "\n".join(ids) + "\n", deltas)
    assert deltas_in(work, pack, tmp_path) >= len(ids) // 2  # the case worth testing
    ours, dulwichs = stores
    blobs = receive_pack(ours, sending(pack))
    with (tmp_path / "spooled").open("w+b") as spooled:
        spooled.write(pack)
        spooled.seek(0)
        dulwichs.add_thin_pack(spooled.read, None)
    assert pack_files(ours) == pack_files(dulwichs)  # same names, same bytes
    assert len(pack_files(ours)) == 2  # a pack and its index, nothing left over
    for blob in ids:
        content = git("cat-file", "blob", blob, cwd=work).encode() + b"\n"
        assert blobs[blob.encode()] == content
        assert ours[ObjectID(blob.encode())].as_raw_string() == content


def test_a_thin_pack_is_completed_from_the_store(
    work: Path, stores: tuple[DiskObjectStore, DiskObjectStore]
) -> None:
    ours, _ = stores
    first = git("rev-parse", "HEAD", cwd=work)
    receive_pack(ours, sending(pack_of(work, f"{first}\n", "--revs")))
    write_tree(work, documents(2))
    second = commit_tree(work, "second")
    thin = pack_of(work, f"{second}\n^{first}\n", "--revs", "--thin")
    receive_pack(ours, sending(thin))
    for blob in blob_ids(work, second):
        content = git("cat-file", "blob", blob, cwd=work).encode() + b"\n"
        assert ours[ObjectID(blob.encode())].as_raw_string() == content
    for pack in Path(ours.pack_dir).glob("*.pack"):  # each stands alone, as git needs
        git("verify-pack", str(pack.with_suffix(".idx")), cwd=work)


def test_past_the_memory_bound_blobs_are_stored_not_kept(
    work: Path, stores: tuple[DiskObjectStore, DiskObjectStore]
) -> None:
    ours, _ = stores
    ids = blob_ids(work)
    pack = pack_of(work, "\n".join(ids) + "\n", "--delta-base-offset")
    blobs = receive_pack(ours, sending(pack), keep_bytes=len(SHARED) * 3)
    assert len(blobs) <= 3
    for blob in ids:
        content = git("cat-file", "blob", blob, cwd=work).encode() + b"\n"
        assert ours[ObjectID(blob.encode())].as_raw_string() == content


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "checksum", "not a pack"])
def test_a_damaged_pack_is_refused_and_leaves_the_store_as_it_was(
    work: Path, stores: tuple[DiskObjectStore, DiskObjectStore], damage: str
) -> None:
    ours, _ = stores
    pack = bytearray(pack_of(work, "\n".join(blob_ids(work)) + "\n", "--delta-base-offset"))
    if damage == "truncated":  # the server died mid-way
        pack = pack[: len(pack) // 2]
    elif damage == "flipped byte":
        pack[len(pack) // 2] ^= 0xFF
    elif damage == "checksum":
        pack[-1] ^= 0xFF
    else:  # a proxy's error page where the pack should be
        pack = bytearray(b"<html><body>502 Bad Gateway</body></html>\n" * 20)
    with pytest.raises(DamagedPackError) as refused:
        receive_pack(ours, sending(bytes(pack)))
    # What dulwich found is kept as the cause, for the log's traceback.
    assert isinstance(refused.value.__cause__, zlib.error | ChecksumMismatch | AssertionError)
    assert pack_files(ours) == {}
    assert list(ours.packs) == []


def test_an_empty_answer_adds_nothing(stores: tuple[DiskObjectStore, DiskObjectStore]) -> None:
    ours, _ = stores
    assert receive_pack(ours, lambda write: None) == {}
    assert pack_files(ours) == {}


def test_a_pack_the_store_holds_already_is_not_added_twice(
    work: Path, stores: tuple[DiskObjectStore, DiskObjectStore]
) -> None:
    ours, _ = stores
    pack = pack_of(work, "\n".join(blob_ids(work)) + "\n", "--delta-base-offset")
    receive_pack(ours, sending(pack))
    before = pack_files(ours)
    blobs = receive_pack(ours, sending(pack))
    assert pack_files(ours) == before
    assert len(blobs) == len(blob_ids(work))  # still handed back
