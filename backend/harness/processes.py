"""Real Uvicorn processes for the integration tests and the benchmarks."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness import BACKEND_DIR
from sdlc_lens.healthcheck import HEALTH_PATH
from sdlc_lens.http_server import UVICORN_HTTP

APP = "sdlc_lens.main:create_app"
# Uvicorn finishes its graceful shutdown, then re-raises SIGTERM so the exit status says why.
CLEAN_EXITS = {0, -signal.SIGTERM}


# Root reads any file whatever its mode. As root, Uvicorn is run without the capabilities that
# override file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH among all), so the modes apply to
# it as to the image's uid 10001; any other user is subject to them already.
WITHOUT_MODE_OVERRIDE: tuple[str, ...] = (
    ("setpriv", "--bounding-set", "-all", "--inh-caps", "-all", "--") if os.geteuid() == 0 else ()
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_sync(
    client: httpx.Client, slug: str, timeout: float = 60.0, interval: float = 0.02
) -> dict[str, Any]:
    """Poll a project until its sync has finished, as the frontend does; its JSON then.

    `client` is one for a real server, or the in-process TestClient (an httpx.Client).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        project = client.get(f"/api/v1/projects/{slug}").json()
        if project["sync_status"] != "syncing":
            return project
        time.sleep(interval)
    raise AssertionError(f"sync of {slug} did not finish within {timeout}s")


@dataclass
class Server:
    """A Uvicorn process serving on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    database: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 5) -> str:
        """The log once it contains `text` (lines land just after the state they report)."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return log

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def start_server(
    database: Path,
    log_path: Path,
    *,
    log_level: str = "INFO",
    app: str = APP,
    health_path: str = HEALTH_PATH,
    wrapper: Sequence[str] = (),
    settings: dict[str, str] | None = None,
) -> Server:
    """Start `uvicorn --factory <app>` on a free port; return once it answers 200.

    `wrapper` is a command prefix that runs Uvicorn, e.g. with fewer privileges; `settings`
    adds `SDLC_LENS_*` variables (`{"SEARCH_BUDGET_SECONDS": "0.2"}`).
    """
    port = free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(database.parent),
        "SDLC_LENS_DATABASE_URL": f"sqlite:///{database}",
        "SDLC_LENS_LOG_LEVEL": log_level,
        "PYTHONMALLOC": "malloc",  # as docker-entrypoint.sh starts Uvicorn
        **{f"SDLC_LENS_{name}": value for name, value in (settings or {}).items()},
    }
    command = [
        *wrapper, sys.executable, "-m", "uvicorn", "--factory", app,
        "--host", "127.0.0.1", "--port", str(port), "--log-level", log_level.lower(),
        "--http", UVICORN_HTTP,
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=BACKEND_DIR
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path, database)
    deadline = time.monotonic() + 20
    # One client for every look: making one costs about 20 ms of CPU (its TLS context), more
    # than the look itself, and a start takes a dozen looks.
    with httpx.Client(base_url=server.base_url, timeout=1) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"uvicorn exited early:\n{server.log()}")
            try:
                if client.get(health_path).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    server.stop(signal.SIGKILL)
    raise AssertionError(f"uvicorn never became healthy:\n{server.log()}")
