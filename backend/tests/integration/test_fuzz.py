"""Schemathesis over the OpenAPI description, with every check, against a real Uvicorn that
serves a synced project: no server error, no answer the description does not allow, no
valid request refused and no invalid one accepted."""

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.github_api import GitHubStandIn, repo_json
from harness.processes import Server, wait_for_sync
from tests.fixtures import write_fixture_tree
from tests.helpers import db_file
from tests.integration.conftest import serve

pytestmark = pytest.mark.fuzz

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Cases per operation and phase: about 1,000 cases in all, 10-40 s on two cores. Fixed seed,
# one worker: the same cases in the same order on every run.
MAX_EXAMPLES = 50
SEED = 20261201
SUMMARY = re.compile(r"(\d+) generated, (\d+) passed")


@pytest.fixture
def synced_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A real server with the recipe-box tree synced as project `tasks`, its GitHub a
    stand-in that takes any token (so that connections get created, listed and deleted)."""
    tree = write_fixture_tree(tmp_path, "recipe-box")
    with GitHubStandIn(any_token_login="fuzzer") as github:
        github.user_repos["fuzzer"] = [repo_json("acme/web")]
        settings = {"GITHUB_API_URL": github.url}
        for server in serve(db_file(database_url), "WARNING", settings):
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                body = {"name": "Tasks", "sdlc_path": str(tree)}
                assert client.post("/api/v1/projects", json=body).status_code == 201
                assert client.post("/api/v1/projects/tasks/sync").status_code == 202
                assert wait_for_sync(client, "tasks")["sync_status"] == "synced"
            yield server


def test_schemathesis_with_all_checks_finds_nothing(synced_server: Server, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "st"), "--config-file", str(CONFIG),
        "run", f"{synced_server.base_url}/openapi.json",
        "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        "--workers", "1", "--output-truncate", "false",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=170, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = SUMMARY.search(output)
    assert summary, output
    generated, passed = map(int, summary.groups())
    assert generated == passed >= 300, summary.group()
    print(f"schemathesis: {summary.group()}")  # shown with `pytest -rP`
