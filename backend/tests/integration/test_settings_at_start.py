"""Settings as a real server reads them from its environment: a misspelt variable is named
once at start, and the write token never reaches a log line or an answer."""

import signal
import socket
from pathlib import Path

import httpx

from harness.processes import start_server
from tests.helpers import migrate

TOKEN = "tok-0123456789-abcdefghij-SECRET"
WRONG = "tok-WRONG-0123456789-abcdefghij"


def test_an_unknown_variable_is_named_once_with_the_nearest_setting(tmp_path: Path) -> None:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    server = start_server(
        database,
        tmp_path / "server.log",
        settings={
            "LOG_LVL": "DEBUG",  # the typo
            "TEST_CORPUS": str(tmp_path),  # the test suite's, not the service's: no warning
            "SYNC_POLL_INTERVAL_SECONDS": "0",  # a later release's setting: accepted, ignored
        },
    )
    try:
        httpx.get(server.base_url + "/api/v1/projects", timeout=5)
    finally:
        server.stop(signal.SIGTERM)
    warnings = [line for line in server.log().splitlines() if " WARNING " in line]
    assert len(warnings) == 1, server.log()
    assert warnings[0].endswith(
        "WARNING [sdlc_lens.main] SDLC_LENS_LOG_LVL is not a setting and is ignored; "
        "did you mean SDLC_LENS_LOG_LEVEL?"
    )


def raw_post_then_get(base_url: str, body: bytes) -> list[bytes]:
    """A POST with a body and no token, then a GET, on one keep-alive connection: the status
    line of each answer (the refused body must not be read as the next request)."""
    host, port = base_url.removeprefix("http://").split(":")
    post = (
        f"POST /api/v1/projects HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    get = f"GET /api/v1/projects HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(post + get)
        reader = conn.makefile("rb")
        statuses = []
        for _ in range(2):
            statuses.append(reader.readline().strip())
            length = 0
            while (line := reader.readline().strip()) != b"":
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            reader.read(length)
        return statuses


def test_the_token_guards_changes_and_never_reaches_a_log_or_answer(tmp_path: Path) -> None:
    database = tmp_path / "lens.db"
    migrate(f"sqlite:///{database}")
    (tmp_path / "acme").mkdir()
    server = start_server(
        database, tmp_path / "server.log", log_level="DEBUG", settings={"API_TOKEN": TOKEN}
    )
    answers = []
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            body = {"name": "Acme", "sdlc_path": str(tmp_path / "acme")}
            for headers in ({}, {"Authorization": f"Bearer {WRONG}"}):
                answers.append(client.post("/api/v1/projects", json=body, headers=headers))
            answers.append(
                client.post(
                    "/api/v1/projects", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
                )
            )
            answers.append(client.get("/openapi.json"))
            answers.append(client.get("/api/v1/projects"))
        assert [a.status_code for a in answers] == [401, 401, 201, 200, 200]
        statuses = raw_post_then_get(server.base_url, b'{"name": "B", "sdlc_path": "/tmp"}')
        assert statuses == [b"HTTP/1.1 401 Unauthorized", b"HTTP/1.1 200 OK"]
    finally:
        server.stop(signal.SIGTERM)
    log = server.log()
    assert 'POST /api/v1/projects HTTP/1.1" 401' in log  # the refusals are logged...
    for secret in (TOKEN, WRONG):  # ...but neither the token nor a wrong guess
        assert secret not in log
        assert all(secret not in answer.text for answer in answers)
