"""Container health probe: `python -m sdlc_lens.healthcheck` exits 0 only on a 200 from health.

The image's HEALTHCHECK runs it every 10 s, so it stays light (no SQLAlchemy, no app). Host
and port come from the same settings object as the server's (`SDLC_LENS_HOST`,
`SDLC_LENS_PORT`), so moving the port moves the probe with it. A wildcard bind address
(0.0.0.0, ::, empty) is probed on 127.0.0.1.
"""

import sys
import urllib.error
import urllib.request

from sdlc_lens.config import Settings

HEALTH_PATH = "/api/v1/system/health"
TIMEOUT_SECONDS = 3.0
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - compared, not bound


def probe_url(settings: Settings) -> str:
    """The health URL of the server these settings start."""
    host = settings.host.strip()
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{settings.port}{HEALTH_PATH}"


def probe(url: str, timeout: float = TIMEOUT_SECONDS) -> tuple[bool, str]:
    """GET `url` directly (never through an HTTP proxy from the environment)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:  # refused, timed out, unresolvable, malformed
        return False, f"unhealthy: {url}: {exc}"
    if status == 200:
        return True, f"healthy: {url}"
    return False, f"unhealthy: {url} answered {status}"


def main() -> int:
    try:
        url = probe_url(Settings())
    except ValueError as exc:  # pydantic's ValidationError: the server cannot start either
        print(f"unhealthy: invalid SDLC_LENS_* settings: {exc}", file=sys.stderr)
        return 1
    healthy, message = probe(url)
    print(message, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
