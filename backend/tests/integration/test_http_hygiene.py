"""HTTP behaviour that only a real server shows: oversized streamed bodies and connections
after an unexpected error, against a real Uvicorn on a real socket."""

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.processes import Server, start_server
from sdlc_lens.healthcheck import HEALTH_PATH
from tests.helpers import migrate
from tests.integration.failing_app import FAILING_PATH

MIB = 1024 * 1024


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The real app plus one failing route, served by Uvicorn."""
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    running = start_server(
        database, tmp_path / "server.log", app="tests.integration.failing_app:create_app"
    )
    yield running
    running.stop(signal.SIGKILL)


def peak_rss(pid: int) -> int:
    """The process's peak resident memory in bytes (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def test_a_streamed_body_over_the_limit_is_refused_with_bounded_memory(server: Server) -> None:
    """A chunked body (no Content-Length) of 64 MiB: 413 with the envelope, and the server
    never holds more than about the limit of it in memory."""

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Big", "sdlc_path": "/tmp", "padding": "'
        for _ in range(64 * 4):
            yield b"a" * (MIB // 4)
        yield b'"}'

    before = peak_rss(server.process.pid)
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        response = client.post(
            "/api/v1/projects", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert response.headers["connection"] == "close"
        assert client.get("/api/v1/projects").json() == []
    growth = peak_rss(server.process.pid) - before
    assert growth < 16 * MIB, f"peak memory grew by {growth / MIB:.0f} MiB"


def test_the_connection_stays_usable_after_an_unexpected_error(server: Server) -> None:
    """A keep-alive client's next request on the same connection is answered after a 500
    (or the 500 said `Connection: close`, so the client knew not to reuse it)."""
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        for _ in range(10):
            failed = client.get(FAILING_PATH)
            assert failed.status_code == 500
            assert failed.json() == {
                "error": {"code": "INTERNAL", "message": "Internal server error"}
            }
            kept_open = failed.headers.get("connection") != "close"
            after = client.get(HEALTH_PATH)
            assert after.status_code == 200
    log = server.log()
    assert "an unexpected failure with a secret detail" in log  # logged, never sent
    if kept_open:
        # One connection served all twenty requests: the client never had to reconnect.
        lines = log.splitlines()
        first = next(i for i, line in enumerate(lines) if f'"GET {FAILING_PATH}' in line)
        ports = {line.split()[1] for line in lines[first:] if '"GET /api/v1/' in line}
        assert len(ports) == 1, ports
