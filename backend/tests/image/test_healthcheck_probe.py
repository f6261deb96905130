"""`python -m sdlc_lens.healthcheck` (the image's HEALTHCHECK), without Docker."""

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sdlc_lens import healthcheck
from sdlc_lens.config import Settings
from sdlc_lens.healthcheck import probe_address, probe_url


class _Health(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []  # noqa: RUF012 - shared with the test on purpose

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(self.status if self.path == healthcheck.HEALTH_PATH else 404)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Health]]:
    """A local health endpoint; the probe's settings point at it through the environment."""
    handler = type("Health", (_Health,), {"status": 200, "paths": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SDLC_LENS_HOST", "0.0.0.0")
    monkeypatch.setenv("SDLC_LENS_PORT", str(httpd.server_address[1]))
    try:
        yield handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0.0.0.0", "127.0.0.1"),
        ("::", "127.0.0.1"),
        ("", "127.0.0.1"),
        ("  ", "127.0.0.1"),
        ("127.0.0.2", "127.0.0.2"),
        ("::1", "[::1]"),
        ("lens.internal", "lens.internal"),
    ],
)
def test_probe_url_follows_host_and_port(host: str, expected: str) -> None:
    url = probe_url({"SDLC_LENS_HOST": host, "SDLC_LENS_PORT": "9123"})
    assert url == f"http://{expected}:9123/api/v1/system/health"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"SDLC_LENS_HOST": "", "SDLC_LENS_PORT": ""},
        {"SDLC_LENS_HOST": " 127.0.0.2 ", "SDLC_LENS_PORT": " 9001\n"},
        {"sdlc_lens_host": "::1", "Sdlc_Lens_Port": "9002"},
        {"SDLC_LENS_HOST": "lens.internal"},
        {"SDLC_LENS_PORT": "65535"},
    ],
)
def test_the_probe_reads_host_and_port_as_the_settings_do(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe reads the two variables without pydantic; the server it probes is the one
    these same variables start."""
    for name in ("SDLC_LENS_HOST", "SDLC_LENS_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    expected = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    assert probe_address(environ) == (expected, settings.port)


@pytest.mark.parametrize("port", ["0", "65536", "eighty"])
def test_a_port_the_settings_refuse_is_unhealthy(
    port: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SDLC_LENS_PORT", port)
    assert healthcheck.main() == 1
    assert "SDLC_LENS_PORT" in capsys.readouterr().err


def test_healthy_on_200(server: type[_Health], capsys: pytest.CaptureFixture[str]) -> None:
    assert healthcheck.main() == 0
    assert server.paths == ["/api/v1/system/health"]
    assert "healthy" in capsys.readouterr().out


def test_unhealthy_on_503(server: type[_Health], capsys: pytest.CaptureFixture[str]) -> None:
    server.status = 503
    assert healthcheck.main() == 1
    assert "answered 503" in capsys.readouterr().err


def test_unhealthy_when_nothing_listens(
    server: type[_Health], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    monkeypatch.setenv("SDLC_LENS_PORT", str(free))
    assert healthcheck.main() == 1
    assert server.paths == []


def test_ignores_http_proxy_settings(
    server: type[_Health], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert healthcheck.main() == 0


def test_unhealthy_when_the_answer_is_not_http(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setenv("SDLC_LENS_PORT", str(listener.getsockname()[1]))

        def garbage() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH\r\n")

        thread = threading.Thread(target=garbage, daemon=True)
        thread.start()
        assert healthcheck.main() == 1
        thread.join(5)


def test_the_probe_stays_light(monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs every few seconds in the container: it must not load pydantic (0.2 s of CPU
    per probe), SQLAlchemy or the app."""
    monkeypatch.setenv("SDLC_LENS_PORT", "1")  # nothing listens: the probe fails fast
    check = (
        "import sys, runpy\n"
        "try:\n"
        "    runpy.run_module('sdlc_lens.healthcheck', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'fastapi', 'pydantic')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
