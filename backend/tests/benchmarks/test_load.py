"""The load generator against a real HTTP server: counts, timeouts, closed connections."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.load import Traffic, run_load, run_traffic

RELEASE = threading.Event()


class Handler(BaseHTTPRequestHandler):
    """`/fast` answers at once, `/close` answers and closes, `/hang` answers at teardown."""

    protocol_version = "HTTP/1.1"  # keep-alive, as Uvicorn speaks it

    def do_GET(self) -> None:
        if self.path == "/hang":
            RELEASE.wait(30)
        body = b'{"status": "ok"}'
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    RELEASE.set()
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_count_of_requests_is_exactly_that_many_answers(base_url: str) -> None:
    result = run_load(base_url, ["/fast"], clients=3, requests=40)
    assert result.requests == 40
    assert result.statuses == {200: 40}
    assert result.errors == result.timeouts == 0


def test_headers_are_sent_with_every_request(base_url: str) -> None:
    result = run_load(
        base_url, ["/fast"], clients=2, requests=10, headers={"If-None-Match": '"v1"'}
    )
    assert result.statuses == {304: 10}


def test_an_answer_that_closes_the_connection_is_not_an_error(base_url: str) -> None:
    result = run_load(base_url, ["/close"], requests=10)
    assert result.statuses == {200: 10}
    assert result.errors == 0


def test_a_hanging_server_costs_the_timeout_not_the_run(base_url: str) -> None:
    started = time.perf_counter()
    hanging, answering = run_traffic(
        base_url,
        [Traffic(["/hang"], clients=2, timeout=0.3), Traffic(["/fast"])],
        seconds=1.0,
    )
    assert time.perf_counter() - started < 5  # the run's second plus the drain, not 30 s
    assert hanging.requests == 0
    assert hanging.timeouts >= 2
    assert answering.requests > 0 and set(answering.statuses) == {200}


def test_requests_still_waiting_at_the_end_are_counted_as_unfinished(base_url: str) -> None:
    (hanging,) = run_traffic(base_url, [Traffic(["/hang"], clients=3)], seconds=0.2)
    assert hanging.requests == 0
    assert hanging.unfinished == 3
