"""Slow and greedy clients against a real Uvicorn: deadlines for a request's head and body,
a dropped reader that never reads, a connection cap below the file-descriptor limit, and
Uvicorn's own 400 in the error envelope (issue 15, "Connections")."""

import json
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from harness import BACKEND_DIR
from harness.processes import Server, start_server
from sdlc_lens.healthcheck import HEALTH_PATH
from sdlc_lens.http_server import UVICORN_HTTP
from tests.helpers import migrate, write_tree

TIMEOUT = 1.5  # SDLC_LENS_CLIENT_TIMEOUT_SECONDS for these servers


def serve(tmp_path: Path, **settings: str) -> Iterator[Server]:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    running = start_server(
        database,
        tmp_path / "server.log",
        settings={"CLIENT_TIMEOUT_SECONDS": str(TIMEOUT), **settings},
        wrapper=("prlimit", "--nofile=256:256", "--"),
    )
    yield running
    running.stop(signal.SIGKILL)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from serve(tmp_path)


def connect(server: Server) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (fails after `timeout`)."""
    sock.settimeout(timeout)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def envelope(answer: bytes) -> tuple[int, dict[str, str]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, json.loads(body)["error"]


def test_a_client_trickling_its_headers_gets_408_and_is_closed(server: Server) -> None:
    sock = connect(server)
    started = time.monotonic()
    sock.sendall(b"GET /api/v1/projects HTTP/1.1\r\nHost: x\r\n")
    # A byte every half second: each would have reset Uvicorn's own keep-alive timer.
    with pytest.raises(OSError):
        for _ in range(40):
            sock.sendall(b"X")
            time.sleep(0.5)
    answer = read_until_closed(sock, timeout=5)
    assert time.monotonic() - started < TIMEOUT + 2
    status, error = envelope(answer)
    assert (status, error["code"]) == (408, "REQUEST_TIMEOUT")


def test_an_idle_connection_is_closed_without_an_answer(server: Server) -> None:
    sock = connect(server)
    assert read_until_closed(sock, timeout=TIMEOUT + 5) == b""


def test_a_body_that_arrives_too_slowly_is_cut_off(server: Server) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
        b"content-length: 100\r\n\r\n{"
    )
    started = time.monotonic()
    assert read_until_closed(sock, timeout=TIMEOUT + 5) == b""
    assert time.monotonic() - started < TIMEOUT + 2
    # Nothing was created from the half body, and the server serves on.
    assert httpx.get(server.base_url + "/api/v1/projects").json() == []


def test_a_client_that_never_reads_its_answer_is_dropped(server: Server, tmp_path: Path) -> None:
    big = "word " * 4_000_000  # a 20 MB document
    folder = write_tree(tmp_path / "big", {"prd.md": f"# PRD\n\n{big}\n"})
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        assert client.post("/api/v1/projects", json={"name": "Big", "sdlc_path": str(folder)})
        client.post("/api/v1/projects/big/sync")
        deadline = time.monotonic() + 30
        while client.get("/api/v1/projects/big").json()["sync_status"] == "syncing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    sock = connect(server)
    sock.sendall(b"GET /api/v1/projects/big/documents/prd/prd HTTP/1.1\r\nHost: x\r\n\r\n")
    # Read nothing until the server says it gave up (its send buffer is full all this time).
    log = server.wait_for_log("dropped a client that read nothing", timeout=TIMEOUT + 12)
    assert "dropped a client that read nothing" in log
    # The server gave up on the connection: what is left to read ends short of 20 MB.
    received = read_until_closed(sock, timeout=10)
    assert 0 < len(received) < 20_000_000


def test_connections_beyond_the_cap_get_503_and_the_service_recovers(server: Server) -> None:
    # 300 trickling sockets against a file-descriptor limit of 256 took the service down.
    # The cap is then 128 (half the limit): the others are answered 503 at once.
    with ExitStack() as stack:
        sockets = [stack.enter_context(connect(server)) for _ in range(300)]
        for sock in sockets:
            sock.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.5)
        answers = []
        for sock in sockets:
            sock.settimeout(0.01)
            try:
                answers.append(sock.recv(65536))
            except TimeoutError:
                answers.append(b"")
        codes = [envelope(answer)[1]["code"] for answer in answers if answer]
        assert codes.count("SERVICE_BUSY") >= 300 - 128
        # The admitted ones wait for their headers (408 once their time is up).
        assert set(codes) <= {"SERVICE_BUSY", "REQUEST_TIMEOUT"}
        assert server.process.poll() is None  # still running
    log = server.wait_for_log("connection(s) with 503")
    # Logged once, not once per refused connection.
    assert log.count("connection(s) with 503") == 1, log
    # Once the trickling clients time out (or leave), the service answers as before.
    deadline = time.monotonic() + TIMEOUT + 10
    while True:
        try:
            if httpx.get(server.base_url + HEALTH_PATH, timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.2)


def test_an_overlong_header_line_gets_400_in_the_envelope(server: Server) -> None:
    # Uvicorn refuses a request head that grows past 16 KiB before it is complete.
    sock = connect(server)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000)
    status, error = envelope(read_until_closed(sock, timeout=5))
    assert (status, error["code"]) == (400, "BAD_REQUEST")


def test_a_long_head_that_is_complete_and_a_large_body_are_served(
    server: Server, tmp_path: Path
) -> None:
    # The head limit counts an unfinished head only: a big body in the same packets is fine.
    body = json.dumps({"name": "Big Body", "sdlc_path": str(tmp_path), "x": "a" * 900_000})
    sock = connect(server)
    sock.sendall(
        b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + b"X-Padding: " + b"p" * 15_000 + b"\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body.encode()
    )  # fmt: skip
    assert read_until_closed(sock, timeout=10).startswith(b"HTTP/1.1 201 ")


def test_the_image_serves_with_the_same_guarded_protocol() -> None:
    # The tests' servers and the image's entrypoint start Uvicorn with one protocol class.
    entrypoint = (BACKEND_DIR / "docker-entrypoint.sh").read_text()
    assert f"--http {UVICORN_HTTP}" in entrypoint
