"""Large documents against a real Uvicorn: clients that ask for one and never read cost a
bounded buffer each, not the whole answer, and the service stays responsive meanwhile."""

import socket
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from harness.processes import Server, wait_for_sync
from sdlc_lens.healthcheck import HEALTH_PATH
from tests.helpers import write_tree

CLIENTS = 20
TEXT_MB = 16


def anonymous_rss_mb(server: Server) -> float:
    """The server's resident memory that is not file-backed (mapped database pages aside)."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon")


def test_clients_that_never_read_a_large_document_cost_a_bounded_buffer(
    server: Server, tmp_path: Path
) -> None:
    line = 'Fifty-odd bytes of text, "quoted", naïve, per line.\n'
    text = line * (TEXT_MB * 1024 * 1024 // len(line.encode()))
    folder = write_tree(tmp_path / "big", {"prd.md": f"# PRD\n\n{text}"})
    path = "/api/v1/projects/big/documents/prd/prd"
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        client.post("/api/v1/projects", json={"name": "Big", "sdlc_path": str(folder)})
        client.post("/api/v1/projects/big/sync")
        assert wait_for_sync(client, "big")["sync_status"] == "synced"
        assert len(client.get(path).content) > TEXT_MB * 1_000_000  # one reader, in full
        before = anonymous_rss_mb(server)
        host, port = server.base_url.removeprefix("http://").split(":")
        with ExitStack() as stack:
            for _ in range(CLIENTS):
                sock = stack.enter_context(socket.create_connection((host, int(port))))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            # Within the client timeout (10 s): every one of them is still connected.
            peak, slowest = before, 0.0
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert client.get(HEALTH_PATH).status_code == 200
                slowest = max(slowest, time.monotonic() - started)
                peak = max(peak, anonymous_rss_mb(server))
                time.sleep(0.1)
    # The whole answer was 3 copies of 16 MB per client; now it is a piece and a buffer.
    assert peak - before < 3 * TEXT_MB, (before, peak)
    assert slowest < 1.0
