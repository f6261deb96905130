"""A git server over smart HTTP, through dulwich: the branch head in one round trip, depth-1
fetches with a partial-clone filter, and blobs by id.

Why dulwich: it is pure Python (no git binary in the image) and maintained, and it speaks
what a partial fetch needs: protocol v2, `deepen 1`, `filter blob:none` and wants of blob ids.
Its HTTP client (urllib3) is subclassed only at `_http_request`, the method dulwich names for
HTTP implementations, to count, bound and classify every request.

Every exchange with the server (asking for the head, one fetch) runs in a worker thread with
a wall-clock bound, SDLC_LENS_GIT_TIMEOUT_SECONDS, and stops within a fraction of a second
when the service stops: the connection is cut (a stalling server cannot hold the sync, nor the
shutdown), and a worker stuck in a DNS look-up or a connect is left behind. The bytes of every
answer count against SDLC_LENS_GIT_MAX_FETCH_MB for the whole sync. Every failure is a
SourceError with one line for `sync_error`, naming the URL without credentials, never the
token.
"""

import contextlib
import logging
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from functools import partial
from io import BytesIO
from typing import Any, TypeVar

import urllib3
from dulwich.client import Urllib3HttpGitClient, default_urllib3_manager
from dulwich.errors import GitProtocolError, HangupException
from dulwich.object_store import DiskObjectStore, ObjectStoreGraphWalker
from dulwich.objects import ObjectID
from dulwich.protocol import CAPABILITY_FETCH, CAPABILITY_FILTER, Protocol, pkt_line
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from sdlc_lens.errors import SourceError, SyncCancelledError
from sdlc_lens.services.sources.git_errors import FetchTooLargeError, HttpStatusError, explain
from sdlc_lens.services.sources.git_pack import receive_pack
from sdlc_lens.services.sources.repository_config import RemoteOptions
from sdlc_lens.services.sources.source import MIB

# dulwich logs every packet it reads at DEBUG (whole packs) and warns about servers without
# filters, which this module handles itself.
logging.getLogger("dulwich").setLevel(logging.ERROR)

T = TypeVar("T")

FETCHING = "fetching from the git server"
# How long a worker may take to notice that its connection was cut before it is left behind.
UNWIND_SECONDS = 1.0
_TICK = 0.05
CONNECT_TIMEOUT = 10.0
# The most a branch-head answer may hold: one ref line, or a protocol v0 server's whole list.
HEAD_ANSWER_LIMIT = 4 * MIB
_UPLOAD_PACK = "git-upload-pack"
_V2_HEADERS = {
    "Content-Type": f"application/x-{_UPLOAD_PACK}-request",
    "Accept": f"application/x-{_UPLOAD_PACK}-result",
    "Git-Protocol": "version=2",
}
_FILTER = b"blob:none"
# No retries of a failed connection or read: the caller reports it, the next sync tries again.
_RETRIES = urllib3.Retry(total=3, connect=0, read=0, status=0, redirect=3)


class Remote:
    """One repository on a git server, used by one sync (or one freshness poll)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        options: RemoteOptions,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.url = url  # never with credentials: it names the repository in errors
        self._token = token
        self._options = options
        self._should_stop = should_stop
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._left_behind: list[threading.Thread] = []
        self.round_trips = 0
        self.received = 0  # bytes of every answer so far, bounded by max_fetch_bytes
        self.filtered: bool | None = None  # whether the last fetch's server applied the filter
        self.speaks_v2 = True  # whether the server answered the last head check in protocol v2
        self._client = _Client(self, token)

    def head(self, branch: str, *, try_v2: bool = True) -> str:
        """The commit at the head of `branch` (40 hex); SourceError when there is none.

        One round trip to a protocol v2 server (`ls-refs` for that one ref); a server that
        speaks only protocol v0 answers that with nothing, and is then asked for its full list
        (`speaks_v2` says which it was; `try_v2` False goes straight to the list).
        """
        ref = f"refs/heads/{branch}".encode()
        refs = self._exchange(lambda: self._client.ls_ref(ref)) if try_v2 else None
        self.speaks_v2 = refs is not None
        if refs is None:
            refs = self._exchange(lambda: self._client.v0_refs())
        commit = refs.get(ref)
        if commit is None:
            raise SourceError(f"branch '{branch}' not found in {self.url}")
        return commit.decode("ascii")

    def fetch(
        self,
        store: DiskObjectStore,
        wants: list[str],
        *,
        have: str | None = None,
        depth: int | None = None,
        filter_blobs: bool = False,
    ) -> dict[bytes, bytes]:
        """Fetch `wants` (commits or blobs) and what they need into `store`, as one pack; the
        bytes of the blobs it brought, by hex id, as far as git_pack.KEEP_BYTES allows.

        `have` is the commit the store already holds with everything it reaches that the
        store needs: what it shares with `wants` is not sent again, and what changed comes as
        deltas against it (a thin pack). `depth` 1 fetches a commit without its history;
        `filter_blobs` asks for trees without blobs (`self.filtered` then says whether the
        server could).
        """
        ids = [ObjectID(want.encode("ascii")) for want in wants]
        shallow = {ObjectID(have.encode("ascii"))} if have else set()
        walker = ObjectStoreGraphWalker(shallow, lambda _sha: [], shallow=set(shallow))

        def fetch(write: Callable[[bytes], int]) -> None:
            self._client.fetch_pack(
                b"",
                lambda _refs, depth=None: ids,
                walker,
                write,
                depth=depth,
                filter_spec=_FILTER if filter_blobs else None,
            )

        self.filtered = None
        # Spooled beside the packs (bounded by max_fetch_bytes), then added in one pass.
        return self._exchange(lambda: receive_pack(store, fetch))

    def close(self) -> None:
        """Close the connections; wait a moment for workers that were left behind."""
        for thread in self._left_behind:
            thread.join(UNWIND_SECONDS)
        self._client.pool_manager.clear()

    @property
    def busy(self) -> bool:
        """Whether a worker left behind is still running (it may still write to a store)."""
        return any(thread.is_alive() for thread in self._left_behind)

    def scrub(self, text: str) -> str:
        """`text` with the token masked, should a server have echoed it."""
        return text.replace(self._token, "****") if self._token else text

    # The bounded exchange.

    def _exchange(self, work: Callable[[], T]) -> T:
        """Run `work` in a worker thread within the time limit; SourceError on failure."""
        if self._should_stop():
            raise SyncCancelledError(FETCHING)
        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append((True, work()))
            except BaseException as exc:
                outcome.append((False, exc))

        worker = threading.Thread(target=run, name="git-exchange", daemon=True)
        deadline = time.monotonic() + self._options.timeout
        worker.start()
        while worker.is_alive():
            worker.join(_TICK)
            stopping = self._should_stop()
            if worker.is_alive() and (stopping or time.monotonic() > deadline):
                self._cut(worker)
                if stopping:
                    raise SyncCancelledError(FETCHING)
                raise SourceError(
                    f"{self.url} did not answer within {self._options.timeout:g} s "
                    "(SDLC_LENS_GIT_TIMEOUT_SECONDS)"
                )
        finished, value = outcome[0]
        if finished:
            return value  # type: ignore[no-any-return]
        message = explain(value, self.url, self._token is not None)
        if message is None:
            raise value
        raise SourceError(self.scrub(message)) from None

    def _cut(self, worker: threading.Thread) -> None:
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)
        worker.join(UNWIND_SECONDS)
        if worker.is_alive():
            self._left_behind.append(worker)

    def watch(self, sock: socket.socket) -> None:
        """Remember a connection, to cut it when the time is up or the service stops."""
        self._sockets.add(sock)

    def count(self, data: bytes) -> bytes:
        """Count bytes received; FetchTooLargeError past the limit."""
        self.received += len(data)
        if self.received > self._options.max_fetch_bytes:
            raise FetchTooLargeError(self._options.max_fetch_bytes)
        return data


class _Client(Urllib3HttpGitClient):
    """dulwich's HTTP client, each request counted, bounded and classified by its Remote."""

    def __init__(self, remote: Remote, token: str | None) -> None:
        self._remote = remote
        self._discovered: tuple[Any, Any] | None = None
        self.discovered_protocol = 0
        options = remote._options
        # The wall-clock bound is the exchange's; the socket's own bounds only end a worker
        # that was left behind, so they come later.
        timeout = urllib3.Timeout(
            connect=min(CONNECT_TIMEOUT, options.timeout + 1), read=options.timeout + 5
        )
        manager = default_urllib3_manager(
            None,
            pool_manager_cls=partial(_PoolManager, remote=remote),  # type: ignore[arg-type]
            proxy_manager_cls=partial(_ProxyManager, remote=remote),  # type: ignore[arg-type]
            base_url=remote.url,
            timeout=timeout,  # type: ignore[arg-type]
        )
        super().__init__(
            remote.url,
            pool_manager=manager,
            username=options.username if token else None,
            password=token,
        )

    def _http_request(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        data: bytes | Iterator[bytes] | None = None,
        raise_for_status: bool = True,
    ) -> tuple[Any, Callable[[int], bytes]]:
        self._remote.round_trips += 1
        resp, read = super()._http_request(url, headers, data, raise_for_status=False)
        if resp.status != 200:
            error = HttpStatusError(resp.status, dict(resp.headers))
            resp.close()
            raise error
        count = self._remote.count
        return resp, lambda size: count(read(size))

    def _discover_references(self, service: bytes, base_url: str, *args: Any, **kwargs: Any) -> Any:
        """The server's capabilities and refs, asked once per sync (two round trips in protocol
        v2): a sync's second fetch, of blobs by id, needs neither again. dulwich has no public
        hook for this; the tests against a real server would catch a change of its shape."""
        key = (service, base_url)
        if self._discovered is None or self._discovered[0] != key:
            found = super()._discover_references(service, base_url, *args, **kwargs)
            self._discovered = (key, found)
            self.discovered_protocol = self.protocol_version
        else:
            self.protocol_version = self.discovered_protocol
        return self._discovered[1]

    def _negotiate_upload_pack_capabilities(
        self, server_capabilities: set[bytes]
    ) -> tuple[set[bytes], Any, bytes | None]:
        negotiated = super()._negotiate_upload_pack_capabilities(server_capabilities)
        self._remote.filtered = any(
            c.startswith(CAPABILITY_FETCH + b"=") and CAPABILITY_FILTER in c.split(b"=")[1].split()
            for c in negotiated[0]
        )
        return negotiated

    def ls_ref(self, ref: bytes) -> dict[bytes, bytes] | None:
        """`ls-refs` for one ref, sent straight away in protocol v2; None from a server that
        does not speak v2 (it answers with nothing)."""
        body = (
            pkt_line(b"command=ls-refs\n")
            + b"0001"
            + pkt_line(b"ref-prefix " + ref + b"\n")
            + b"0000"
        )
        resp, read = self._http_request(self._base_url + _UPLOAD_PACK, dict(_V2_HEADERS), body)
        try:
            answer = _read_at_most(read, HEAD_ANSWER_LIMIT)
        finally:
            resp.close()
        if not answer:
            return None
        refs = {}
        try:
            for line in Protocol(BytesIO(answer).read, None).read_pkt_seq():  # type: ignore[arg-type]
                commit, _, name = line.rstrip(b"\n").partition(b" ")
                if commit == b"ERR":
                    raise GitProtocolError(name.decode("utf-8", "replace"))
                refs[name.split(b" ")[0]] = commit
        except (HangupException, ValueError, StopIteration) as exc:
            raise GitProtocolError("the server's list of branches is malformed") from exc
        return refs

    def v0_refs(self) -> dict[bytes, bytes]:
        """Every ref, from the advertisement of a protocol v0 server (one round trip)."""
        result = self.get_refs(b"", protocol_version=0)
        return {ref: sha for ref, sha in result.refs.items() if sha is not None}


def _read_at_most(read: Callable[[int], bytes], limit: int) -> bytes:
    chunks = []
    total = 0
    while chunk := read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise GitProtocolError("the server's list of branches is too long")
        chunks.append(chunk)
    return b"".join(chunks)


def _guarded(remote: Remote) -> dict[str, type]:
    """Connection pools whose connections are watched by `remote` (to be cut)."""

    class Connection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            remote.watch(self.sock)

    class SecureConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            remote.watch(self.sock)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = SecureConnection

    return {"http": Pool, "https": SecurePool}


class _PoolManager(urllib3.PoolManager):
    def __init__(self, *args: Any, remote: Remote, **kwargs: Any) -> None:
        super().__init__(*args, retries=_RETRIES, **kwargs)
        self.pool_classes_by_scheme = _guarded(remote)


class _ProxyManager(urllib3.ProxyManager):
    def __init__(self, *args: Any, remote: Remote, **kwargs: Any) -> None:
        super().__init__(*args, retries=_RETRIES, **kwargs)
        self.pool_classes_by_scheme = _guarded(remote)
