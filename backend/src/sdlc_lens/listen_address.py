"""Where the server listens unless `SDLC_LENS_HOST` / `SDLC_LENS_PORT` say otherwise.

A module of its own, free of pydantic, because the container's health probe needs these too
and runs every few seconds: importing the settings class alone would cost it 0.2 s of CPU.
"""

DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - a LAN service listens on all interfaces by default
DEFAULT_PORT = 8000
