"""Repositories on a real git server for the tests: built with git, served by
`harness.git_server` (git's own http-backend), registered as `git` or `github` projects."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from harness.git_server import GitServer, commit_tree, git, make_repository
from sdlc_lens.config import Settings
from sdlc_lens.main import create_app
from tests.helpers import markdown, migrate, write_tree

STORIES = 30
# A file outside the document folder, larger than every document together, that does not
# compress: a server that can filter never sends it.
BIG_FILE = "assets/video.bin"
BIG_FILE_BYTES = 3_000_000


def documents(count: int = STORIES) -> dict[str, str]:
    """A document folder: a PRD, an epic and `count` stories, plus `.version`."""
    files = {
        "sdlc-studio/.version": "schema_version: 2\n",
        "sdlc-studio/prd.md": markdown("PRD: Shop"),
        "sdlc-studio/epics/EP0001-catalogue.md": markdown("EP0001: Catalogue", Status="Draft"),
    }
    for n in range(1, count + 1):
        files[f"sdlc-studio/stories/US{n:04d}-story.md"] = markdown(
            f"US{n:04d}: Story {n}", f"Story {n} body.\n", Status="Draft", Epic="EP0001"
        )
    return files


def documents_bytes(work: Path, folder: str = "sdlc-studio") -> int:
    """The size of the markdown files below `folder` of a work tree."""
    return sum(path.stat().st_size for path in (work / folder).rglob("*.md"))


@dataclass
class Repository:
    """A bare repository on the server and the work tree that pushes to it."""

    work: Path
    url: str

    def write(self, files: dict[str, str | bytes]) -> None:
        write_tree(self.work, files)

    def remove(self, *paths: str) -> None:
        for path in paths:
            (self.work / path).unlink()

    def commit(self, message: str = "change", *, force: bool = False) -> str:
        return commit_tree(self.work, message, force=force)

    def git(self, *args: str) -> str:
        return git(*args, cwd=self.work)


def new_repository(server: GitServer, name: str, files: dict[str, str | bytes]) -> Repository:
    """A repository `name` (may hold an owner: `acme/docs`) with `files` committed on main."""
    parent = server.root / Path(name).parent
    parent.mkdir(parents=True, exist_ok=True)
    work = make_repository(parent, Path(name).name)
    repository = Repository(work, f"{server.url}/{name}.git")
    repository.write(files)
    repository.commit("first")
    return repository


def standard_files() -> dict[str, str | bytes]:
    """The documents, a README and the big file outside the document folder."""
    return {
        **documents(),
        "README.md": "# Shop\n",
        BIG_FILE: os.urandom(BIG_FILE_BYTES),
    }


def make_remote(
    client: TestClient,
    name: str,
    repo_url: str,
    *,
    source_type: str = "git",
    branch: str = "main",
    folder: str = "sdlc-studio",
    token: str | None = None,
    auto_sync: bool = False,
) -> str:
    """Register a repository project through the API; its slug."""
    body = {
        "name": name,
        "source_type": source_type,
        "repo_url": repo_url,
        "repo_branch": branch,
        "repo_path": folder,
        "access_token": token,
        "auto_sync": auto_sync,
    }
    response = client.post("/api/v1/projects", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["slug"])


def set_source(client: TestClient, slug: str, **columns: Any) -> None:
    """Change a project's source columns as stored (what a PUT of them leaves)."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assignments = ", ".join(f"{column} = ?" for column in columns)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE projects SET {assignments} WHERE slug = ?",
            (*columns.values(), slug),
        )


def commit_of(client: TestClient, slug: str) -> str | None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return conn.exec_driver_sql(  # type: ignore[no-any-return]
            "SELECT last_synced_commit_sha FROM projects WHERE slug = ?", (slug,)
        ).scalar()


def stored_rows(client: TestClient, slug: str) -> dict[str, tuple[Any, ...]]:
    """path -> (blob_sha, synced_at, status) of a project's documents."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT d.file_path, d.blob_sha, d.synced_at, d.status FROM documents AS d "
            "JOIN projects AS p ON p.id = d.project_id WHERE p.slug = ?",
            (slug,),
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


@contextmanager
def app_client(folder: Path, **settings: Any) -> Iterator[TestClient]:
    """The app on a migrated database in `folder`, with these settings."""
    url = f"sqlite:///{folder / 'lens.db'}"
    migrate(url)
    settings = {"database_url": url, "log_level": "DEBUG", **settings}
    with TestClient(create_app(Settings(**settings))) as c:
        yield c
