"""A real git server over smart HTTP for the tests and the benchmarks: git's own
`git http-backend` (CGI) behind a small threaded HTTP server on 127.0.0.1.

It serves the bare repositories below its root (`/<name>.git`), and records what a client
costs it: every request (a round trip) and the bytes of every answer. Each instance is one
kind of server:

- `allow_filter`: partial clone (`uploadpack.allowFilter`), as GitHub, GitLab and Gitea offer;
- `protocol_v2`: the `Git-Protocol` header is passed on; without it git answers in protocol v0,
  as an old server does;
- `credentials`: (user, password) that basic auth must carry, else 401 as a forge answers;
- `stall_after_bytes`: the answer stops after that many bytes of its body and the connection
  hangs (a server that stalls), until the server is closed;
- `damage_packs`: every pack sent has one byte flipped in its middle (a corrupting proxy).

`make_repository` and `commit_tree` build the repositories with the git command line.
"""

import base64
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

GIT = shutil.which("git") or "git"
_COPY_CHUNK = 64 * 1024
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Lens Tests",
    "GIT_AUTHOR_EMAIL": "lens@example.invalid",
    "GIT_COMMITTER_NAME": "Lens Tests",
    "GIT_COMMITTER_EMAIL": "lens@example.invalid",
}


@dataclass(frozen=True)
class Request:
    """One request the server answered."""

    method: str
    path: str  # without the query
    query: str
    status: int
    bytes_sent: int  # the answer's body
    git_protocol: str  # the client's Git-Protocol header ("" without)
    at: float = field(default_factory=time.monotonic)  # when it was answered


@dataclass
class Traffic:
    """What the server has answered since the last `reset`."""

    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    @property
    def round_trips(self) -> int:
        with self.lock:
            return len(self.requests)

    @property
    def bytes_sent(self) -> int:
        with self.lock:
            return sum(request.bytes_sent for request in self.requests)

    def snapshot(self) -> list[Request]:
        with self.lock:
            return list(self.requests)


class GitServer:
    """`git http-backend` on 127.0.0.1, serving the bare repositories below `root`."""

    def __init__(
        self,
        root: Path,
        *,
        allow_filter: bool = True,
        protocol_v2: bool = True,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.root = root
        self.allow_filter = allow_filter
        self.protocol_v2 = protocol_v2
        self.credentials = credentials
        self.stall_after_bytes: int | None = None
        self.damage_packs = False
        # (status, headers) every request is answered with instead, e.g. (429, {...}).
        self.refuse_with: tuple[int, dict[str, str]] | None = None
        self.traffic = Traffic()
        self._closing = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.git = self
        self._thread = threading.Thread(
            # Looks for a stop every 10 ms (the default, half a second, is what every test
            # using a server would wait at its end).
            target=self._httpd.serve_forever,
            args=(0.01,),
            name="git-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`: a repository's URL is this plus `/<name>.git`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "GitServer":
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; a stalled answer is released and its connection closed."""
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> "GitServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def config_env(self) -> dict[str, str]:
        """git's configuration for one request, as environment variables."""
        config = {"uploadpack.allowFilter": "true" if self.allow_filter else "false"}
        env = {"GIT_CONFIG_COUNT": str(len(config))}
        for index, (key, value) in enumerate(config.items()):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env

    def authorised(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (user, password) == self.credentials

    def stall(self) -> None:
        """Hold the connection open without a byte more, until the server closes."""
        self._closing.wait()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    git: GitServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a sync cut off by its time limit) is no server error."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Request and answer lines are recorded in `traffic`, not printed.
    log_message: ClassVar[Any] = lambda *_args: None

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        git = self.server.git
        path, _, query = self.path.partition("?")
        protocol = self.headers.get("Git-Protocol", "")
        length = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body_in = _read_chunked(self.rfile)
        refusal = git.refuse_with
        if refusal is None and not git.authorised(self.headers.get("Authorization")):
            refusal = (401, {"WWW-Authenticate": 'Basic realm="git"'})
        if refusal is not None:
            body = b"Refused\n"
            self.send_response(refusal[0])
            for name, value in refusal[1].items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # Recorded before the last byte goes: the client may act on the answer at once.
            git.traffic.add(Request(self.command, path, query, refusal[0], len(body), protocol))
            self.wfile.write(body)
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(git.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body_in)),
            "REMOTE_ADDR": "127.0.0.1",
            **git.config_env(),
        }
        if git.protocol_v2 and protocol:
            env["GIT_PROTOCOL"] = protocol
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        process = subprocess.Popen(
            [GIT, "http-backend"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(body_in)
        process.stdin.close()
        try:
            status, headers = _cgi_headers(process.stdout)
            self._answer(
                status,
                headers,
                process.stdout,
                lambda sent: git.traffic.add(
                    Request(self.command, path, query, status, sent, protocol)
                ),
            )
        finally:
            process.stdout.close()
            process.wait()

    def _answer(
        self,
        status: int,
        headers: Mapping[str, str],
        body: BinaryIO,
        record: Callable[[int], None],
    ) -> None:
        """Send the CGI's answer chunked as it comes; `record` the body bytes sent before
        the last chunk goes (the client may act on the answer at once)."""
        git = self.server.git
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        chunks: Iterator[bytes] = _chunks(body)
        if git.damage_packs and self.path.partition("?")[0].endswith("/git-upload-pack"):
            chunks = iter([_damaged(body.read())])
        for chunk in chunks:
            if git.stall_after_bytes is not None and sent + len(chunk) > git.stall_after_bytes:
                part = chunk[: max(0, git.stall_after_bytes - sent)]
                if part:
                    self._write_chunk(part)
                    sent += len(part)
                record(sent)
                git.stall()
                self.close_connection = True
                return
            self._write_chunk(chunk)
            sent += len(chunk)
        record(sent)
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _damaged(answer: bytes) -> bytes:
    """`answer` with one byte flipped in the middle of its largest pack-data packet (side
    band 1), so that the pkt-line framing stays sound and only the pack is wrong."""
    largest: tuple[int, int] = (0, 0)  # (payload length, payload start)
    position = 0
    while position + 4 <= len(answer):
        length = int(answer[position : position + 4], 16)
        if length <= 4:  # flush, delimiter, response end
            position += 4
            continue
        start = position + 4
        if answer[start : start + 1] == b"\x01" and length - 5 > largest[0]:
            largest = (length - 5, start + 1)
        position += length
    if not largest[0]:
        return answer
    damaged = bytearray(answer)
    damaged[largest[1] + largest[0] // 2] ^= 0xFF
    return bytes(damaged)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read1(_COPY_CHUNK):  # type: ignore[attr-defined]
        yield chunk


def _cgi_headers(stream: BinaryIO) -> tuple[int, dict[str, str]]:
    status = 200
    headers: dict[str, str] = {}
    while (line := stream.readline().rstrip(b"\r\n")) != b"":
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        else:
            headers[name.strip()] = value.strip()
    return status, headers


def _read_chunked(stream: BinaryIO) -> bytes:
    parts = []
    while (size := int(stream.readline().split(b";")[0], 16)) > 0:
        parts.append(stream.read(size))
        stream.readline()
    stream.readline()
    return b"".join(parts)


# Building repositories with the git command line.


def git(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run git in `cwd`; its standard output."""
    return subprocess.run(
        [GIT, *args],
        cwd=cwd,
        env={**os.environ, **_GIT_IDENTITY, **(env or {})},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_repository(root: Path, name: str, branch: str = "main") -> Path:
    """An empty bare repository `root/<name>.git`, and its work tree `root/<name>.work`."""
    bare = root / f"{name}.git"
    work = root / f"{name}.work"
    git("init", "-q", "--bare", "-b", branch, str(bare), cwd=root)
    git("init", "-q", "-b", branch, str(work), cwd=root)
    git("remote", "add", "origin", str(bare), cwd=work)
    return work


def commit_tree(work: Path, message: str = "change", *, force: bool = False) -> str:
    """Commit everything in the work tree and push it to the bare repository; the commit id."""
    git("add", "-A", cwd=work)
    git("commit", "-q", "--allow-empty", "-m", message, cwd=work)
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=work)
    git("push", "-q", *(["--force"] if force else []), "origin", branch, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    """Poll `condition()` until it is true or `timeout` passes; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())
