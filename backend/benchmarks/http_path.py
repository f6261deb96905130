"""The HTTP path alone: one server stack against another, on the constant-answer floor and on
warm (cached) list and detail answers, 20 clients, the stacks measured in turn, in rounds.

    uv run python -m benchmarks.http_path [--seconds 4] [--rounds 2] [STACK ...]

A stack is a Uvicorn `--loop` and `--http` pair and the answer cache on or off; the report
(stdout) gives req/s per round. It is a tool for deciding between stacks on one machine in
one session, not part of the suite. The uvloop stacks need `uv pip install uvloop` first (it
is not a dependency: BENCHMARKS.md, "The HTTP path").
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from benchmarks import floor_app
from benchmarks.corpus import generate
from benchmarks.load import run_load
from benchmarks.servers import PROJECT, register, timed_sync
from benchmarks.settings import CLIENTS, SMALL
from benchmarks.workspace import WORK_DIR
from harness import BACKEND_DIR
from harness.database import migrate
from harness.processes import free_port
from sdlc_lens.api.middleware import install_middleware

H11 = "sdlc_lens.http_server:GuardedH11Protocol"
HTTPTOOLS = "sdlc_lens.http_server:GuardedHttpToolsProtocol"
# name: (loop, protocol, SDLC_LENS_RESPONSE_CACHE_MB)
STACKS = {
    "before: h11, no answer cache": ("asyncio", H11, "0"),
    "h11, answer cache": ("asyncio", H11, "64"),
    "httptools, no answer cache": ("asyncio", HTTPTOOLS, "0"),
    "httptools, answer cache": ("asyncio", HTTPTOOLS, "64"),
    "httptools+uvloop, answer cache": ("uvloop", HTTPTOOLS, "64"),
    "h11+uvloop, answer cache": ("uvloop", H11, "64"),
}


def floor_with_middleware() -> FastAPI:
    """The floor behind the app's own middleware stack: what the stack costs."""
    app = floor_app.create_app()
    install_middleware(app, [], None)
    return app


def serve(
    app: str, database: Path, loop: str, http: str, health: str, cache_mb: str = "64"
) -> subprocess.Popen[bytes]:
    port = free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(database.parent),
        "SDLC_LENS_DATABASE_URL": f"sqlite:///{database}",
        "SDLC_LENS_LOG_LEVEL": "WARNING",
        "PYTHONMALLOC": "malloc",
        "SDLC_LENS_RESPONSE_CACHE_MB": cache_mb,
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port),
        "--host", "127.0.0.1", "--log-level", "warning", "--loop", loop, "--http", http,
    ]  # fmt: skip
    log = (database.parent / "server.log").open("ab")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=BACKEND_DIR)
    process.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(process.base_url + health, timeout=1).status_code == 200:  # type: ignore[attr-defined]
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("stacks", nargs="*", default=list(STACKS), choices=list(STACKS))
    args = parser.parse_args()
    folder = WORK_DIR / "http-path"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = folder / "lens.db"
    migrate(f"sqlite:///{database}")
    corpus = generate(SMALL, folder / "corpus")
    first = serve("sdlc_lens.main:create_app", database, "asyncio", H11, "/api/v1/system/health")
    with httpx.Client(base_url=first.base_url, timeout=600) as client:  # type: ignore[attr-defined]
        register(client, "bench", corpus)
        timed_sync(client, "bench")
        story = client.get(f"{PROJECT}/documents", params={"type": "story"}).json()["items"][0]
    first.send_signal(signal.SIGTERM)
    first.wait()
    paths = {
        "floor": ("benchmarks.floor_app:create_app", "/floor"),
        "floor+mw": ("benchmarks.http_path:floor_with_middleware", "/floor"),
        "list": ("sdlc_lens.main:create_app", f"{PROJECT}/documents?per_page=50"),
        "detail": ("sdlc_lens.main:create_app", f"{PROJECT}/documents/story/{story['doc_id']}"),
    }
    print(f"{os.cpu_count()} cores; {CLIENTS} clients, {args.seconds}s per figure (req/s)")
    for round_ in range(1, args.rounds + 1):
        for stack in args.stacks:
            loop, http, cache_mb = STACKS[stack]
            figures = []
            for name, (app, path) in paths.items():
                health = "/floor" if name.startswith("floor") else "/api/v1/system/health"
                process = serve(app, database, loop, http, health, cache_mb)
                try:
                    run_load(process.base_url, [path], requests=200)  # type: ignore[attr-defined]
                    load = run_load(
                        process.base_url,  # type: ignore[attr-defined]
                        [path],
                        clients=CLIENTS,
                        seconds=args.seconds,
                    )
                    figures.append(f"{name} {load.requests / load.wall:7.0f}")
                finally:
                    process.send_signal(signal.SIGTERM)
                    process.wait()
            print(f"round {round_} {stack:32s} " + "  ".join(figures), flush=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
