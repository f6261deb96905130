"""A fetched pack added to an object store in one pass, its blobs kept for the sync's reads.

dulwich's `add_thin_pack` inflates every object of a pack four times (copying the stream,
indexing, and a check that materialises each object, which walks the pack twice), and the
sync then inflates each blob once more to read it: for a cold sync of 5,000 documents that
was about a second. Here the pack, already spooled to a file beside the store's packs, is
read once with dulwich's `PackStreamReader` (which checks the pack's checksum): each object's
id, offset and CRC come from that one inflation, deltas are resolved against bases kept in
memory, commits and trees are parsed (as dulwich's check does), and the blobs' bytes are
handed back so that the sync reads them without inflating them again. The index is written by
dulwich's `write_pack_index` and the pack is named as dulwich names it, so a store holds the
same files either way.

What is kept in memory is bounded (KEEP_BYTES of inflated objects); past that, objects are
indexed but not kept. A pack that needs more than that (a delta whose base was not kept, a
base outside the pack as in a thin pack) goes through dulwich's `add_thin_pack` as before.
"""

import os
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from dulwich.errors import ApplyDeltaError, ChecksumMismatch, FileFormatException
from dulwich.object_store import DiskObjectStore
from dulwich.objects import Blob, ObjectID, ShaFile
from dulwich.pack import (
    DELTA_TYPES,
    OFS_DELTA,
    PackStreamReader,
    UnresolvedDeltas,
    apply_delta,
    iter_sha1,
    obj_sha,
    write_pack_index,
)

from sdlc_lens.services.sources.git_errors import DamagedPackError
from sdlc_lens.services.sources.source import MIB

# What dulwich raises for a pack that does not read back (it asserts on a bad header or a cut).
_DAMAGED = (
    ApplyDeltaError,
    AssertionError,
    ChecksumMismatch,
    FileFormatException,
    UnresolvedDeltas,
    zlib.error,
)

# The most inflated object bytes one pack keeps in memory, as delta bases and as blobs for the
# sync to read: a 5,000-document corpus is about 35 MB.
KEEP_BYTES = 64 * MIB
PACK_MODE = 0o444  # as dulwich leaves its packs: read-only


class _NeedsDulwich(Exception):
    """The pack cannot be added in one pass (a base not kept, or outside the pack)."""


def receive_pack(
    store: DiskObjectStore,
    fetch: Callable[[Callable[[bytes], int]], None],
    keep_bytes: int = KEEP_BYTES,
) -> dict[bytes, bytes]:
    """Add the pack that `fetch` writes (through the function it is given) to `store`; the
    bytes of its blobs, by hex id, as far as `keep_bytes` allows. The pack is spooled to a file
    beside the store's packs, which is moved in or removed. Errors are the fetch's, or
    DamagedPackError for a pack that does not read back."""
    fd, name = tempfile.mkstemp(dir=store.pack_dir, prefix="incoming-")
    path = Path(name)
    try:
        with os.fdopen(fd, "w+b") as pack:
            fetch(pack.write)
            if not pack.tell():
                return {}
            pack.seek(0)
            try:
                try:
                    entries, blobs, sha = _read_once(store, pack, keep_bytes)
                except _NeedsDulwich:
                    pack.seek(0)
                    store.add_thin_pack(pack.read, None)
                    return {}
            except _DAMAGED as exc:
                raise DamagedPackError(_damage(exc)) from exc
        _move_in(store, path, entries, sha)
        return blobs
    finally:
        path.unlink(missing_ok=True)  # unless moved in


def _damage(exc: BaseException) -> str:
    """`checksum mismatch`: what is wrong with a pack, briefly, for the sync_error line."""
    if isinstance(exc, ChecksumMismatch):
        return "checksum mismatch"
    if isinstance(exc, zlib.error):
        return "corrupt compressed data"
    detail = " ".join(str(exc).split())[:80]
    return detail or type(exc).__name__


def _read_once(
    store: DiskObjectStore, pack: IO[bytes], keep_bytes: int
) -> tuple[list[tuple[bytes, int, int | None]], dict[bytes, bytes], bytes]:
    hash_func = store.object_format.hash_func
    reader = PackStreamReader(hash_func, pack.read)
    entries: list[tuple[bytes, int, int | None]] = []
    kept: dict[int, tuple[int, bytes]] = {}  # offset -> (type, bytes), within keep_bytes
    offsets: dict[bytes, int] = {}  # binary id -> offset, for REF_DELTA bases
    blobs: dict[bytes, bytes] = {}
    kept_bytes = 0
    for unpacked in reader.read_objects(compute_crc32=True):
        offset = unpacked.offset
        assert offset is not None
        if unpacked.pack_type_num in DELTA_TYPES:
            base = unpacked.delta_base
            if unpacked.pack_type_num == OFS_DELTA:
                assert isinstance(base, int)
                found = kept.get(offset - base)
            else:
                assert isinstance(base, bytes)
                found = kept.get(offsets.get(base, -1))
            if found is None:
                raise _NeedsDulwich
            type_num = found[0]
            data = b"".join(apply_delta(found[1], unpacked.decomp_chunks))
        else:
            type_num = unpacked.pack_type_num
            data = b"".join(unpacked.decomp_chunks)
        sha = obj_sha(type_num, data, hash_func)
        entries.append((sha, offset, unpacked.crc32))
        offsets[sha] = offset
        if type_num != Blob.type_num:  # rejects a malformed commit or tree, as dulwich does
            ShaFile.from_raw_chunks(type_num, [data], object_format=store.object_format)
        if kept_bytes + len(data) <= keep_bytes:
            kept[offset] = (type_num, data)
            kept_bytes += len(data)
            if type_num == Blob.type_num:
                blobs[ObjectID(sha.hex().encode("ascii"))] = data
    pack_sha = reader.sha.digest()  # read_objects checked the trailer against it
    return entries, blobs, pack_sha


def _move_in(
    store: DiskObjectStore, path: Path, entries: list[tuple[bytes, int, int | None]], sha: bytes
) -> None:
    """Name the pack by its objects as dulwich does, then write its index (which makes it
    visible to the store); a pack the store already holds is dropped."""
    entries.sort()
    name = "pack-" + iter_sha1(entry[0] for entry in entries).decode("ascii")
    base = Path(store.pack_dir) / name
    if base.with_suffix(".idx").exists():
        return
    path.chmod(PACK_MODE)
    path.replace(base.with_suffix(".pack"))
    temporary = base.with_suffix(".idx-new")
    with temporary.open("wb") as index:
        write_pack_index(index, entries, sha, version=store.pack_index_version)
    temporary.chmod(PACK_MODE)
    temporary.replace(base.with_suffix(".idx"))
