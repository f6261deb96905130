"""Container health probe: `python -m sdlc_lens.healthcheck` exits 0 only on a 200 from health.

Docker runs it every few seconds for as long as the container lives, so it uses the standard
library's socket module only: a probe costs about 20 ms of CPU, where importing the settings
class (pydantic-settings) would take 0.2 s. For the same reason it reads the two variables it
needs itself, as `Settings` reads them (any case, surrounding whitespace ignored, empty means
unset, the defaults of sdlc_lens/listen_address.py); a test keeps both readings in agreement.
A wildcard bind address (0.0.0.0, ::, empty) is probed on 127.0.0.1.
"""

import os
import socket
import sys
from collections.abc import Mapping

from sdlc_lens.listen_address import DEFAULT_HOST, DEFAULT_PORT

HEALTH_PATH = "/api/v1/system/health"
TIMEOUT_SECONDS = 3.0
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - compared, not bound


def _setting(environ: Mapping[str, str], name: str) -> str:
    """The variable's value as `Settings` reads it: any case of the name, stripped."""
    values = [value for key, value in environ.items() if key.upper() == name]
    return values[-1].strip() if values else ""


def probe_address(environ: Mapping[str, str]) -> tuple[str, int]:
    """(host, port) of the server these variables start; ValueError for an unusable port."""
    host = _setting(environ, "SDLC_LENS_HOST") or DEFAULT_HOST
    port_text = _setting(environ, "SDLC_LENS_PORT")
    port = int(port_text) if port_text else DEFAULT_PORT
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range")
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    return host.removeprefix("[").removesuffix("]"), port


def probe_url(environ: Mapping[str, str]) -> str:
    """The health URL probed, for messages (an IPv6 literal in brackets)."""
    host, port = probe_address(environ)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{HEALTH_PATH}"


def probe(host: str, port: int, timeout: float = TIMEOUT_SECONDS) -> int:
    """The HTTP status health answers on (host, port); OSError when it does not answer.

    HTTP/1.0 with `Connection: close`: the server answers and closes, so the status line is
    all there is to read. Never through an HTTP proxy from the environment.
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = f"GET {HEALTH_PATH} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(request.encode("ascii"))
        status_line = conn.makefile("rb").readline(256)
    parts = status_line.split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise OSError(f"not an HTTP answer: {status_line[:80]!r}")
    return int(parts[1])


def main() -> int:
    try:
        url = probe_url(os.environ)
        status = probe(*probe_address(os.environ))
    except ValueError as exc:  # the server cannot start with these settings either
        print(f"unhealthy: invalid SDLC_LENS_HOST or SDLC_LENS_PORT: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # refused, timed out, unresolvable, not HTTP
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if status == 200:
        print(f"healthy: {url}")
        return 0
    print(f"unhealthy: {url} answered {status}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
