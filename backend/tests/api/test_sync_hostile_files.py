"""A project folder cannot hang, flood or leak into the service (issue 9 item 3).

Every file the sync opens (documents, `.config.yaml`, `.version`) is a regular file inside the
project, read up to a size limit; anything else is a per-file error that keeps what was stored
and lets the other documents sync. A regression here would hang the sync thread or exhaust
memory, so each test waits with a timeout and runs under a memory ceiling.
"""

import contextlib
import os
import resource
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdlc_lens.services.sources import folder as folder_source
from sdlc_lens.services.sources.source import Listing
from sdlc_lens.services.sync import changes as sync_changes
from sdlc_lens.services.sync import engine as sync_module
from tests.helpers import register, wait_for_sync, write_tree

# A tiny tree syncs in milliseconds; a sync still running after this is hung.
HANG_TIMEOUT = 15.0
GIB = 1024**3


def story(number: int, status: str = "Draft") -> str:
    return f"# US{number:04d}: Story {number}\n\n> **Status:** {status}\n\nBody {number}.\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "sdlc-studio",
        {
            "prd.md": "# PRD\n\n**Status:** Approved\n",
            "stories/US0001-one.md": story(1),
            "stories/US0002-two.md": story(2),
        },
    )


@pytest.fixture
def make_fifo(client: TestClient) -> Iterator[Callable[[Path], Path]]:
    """Create FIFOs; at teardown, release any sync thread blocked opening one.

    Depends on `client` so that it is torn down first: otherwise the app's shutdown would
    wait for ever on a sync thread stuck in open() (the failure this file guards against).
    """
    created: list[Path] = []

    def make(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        created.append(path)
        return path

    yield make
    for path in created:
        # Opening the write end lets a reader blocked in open() go on; it then reads EOF.
        # ENXIO means no reader is waiting on it: nothing to release.
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def memory_ceiling() -> Iterator[None]:
    """Cap the address space while the test runs, so that a regression that reads /dev/zero
    fails with MemoryError instead of taking the machine's memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with Path("/proc/self/status").open() as status:
        vm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm_kib * 1024 + 4 * GIB, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def sync_within_timeout(client: TestClient, slug: str, query: str = "") -> dict[str, Any]:
    response = client.post(f"/api/v1/projects/{slug}/sync{query}")
    assert response.status_code == 202, response.text
    return wait_for_sync(client, slug, timeout=HANG_TIMEOUT)


def stored_paths(client: TestClient) -> dict[str, str]:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT file_path, content FROM documents").all())


def one_file_failed(added: int, updated: int = 0, deleted: int = 0) -> str:
    """SPEC §6's message for one file that could not be synced."""
    return (
        f"1 file(s) could not be synced and were left unchanged; {added} added, "
        f"{updated} updated, {deleted} deleted. "
        "Their stored documents are preserved - see the server log for each path."
    )


def warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def swap_after_walk(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    """Change the folder between the walk and the reads, as a concurrent writer could."""
    real_walk = folder_source.walk_project

    def walk_then_swap(*args: Any, **kwargs: Any) -> Listing:
        walk = real_walk(*args, **kwargs)
        swap()
        return walk

    monkeypatch.setattr(folder_source, "walk_project", walk_then_swap)


# --- Settings files: .config.yaml and .version -------------------------------------------


@pytest.mark.parametrize("name", [".config.yaml", ".version"])
def test_settings_file_that_is_a_fifo_does_not_hang_any_sync(
    client: TestClient,
    tree: Path,
    tmp_path: Path,
    make_fifo: Callable[[Path], Path],
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    write_tree(tree, {".config.yaml": "profile: enterprise\nstatus_vocab:\n  story: [Gated]\n"})
    write_tree(tree, {".version": "schema_version: 2\n"})
    register(client, "Demo", tree)
    first = sync_within_timeout(client, "demo")
    assert (first["schema_version"], first["profile"]) == (2, "enterprise")

    (tree / name).unlink()
    make_fifo(tree / name)
    write_tree(tree, {"stories/US0003-three.md": story(3, status="gated")})
    result = sync_within_timeout(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == one_file_failed(added=1)
    assert result["document_count"] == 4
    # The settings that could not be read are kept as they were, and still applied.
    assert (result["schema_version"], result["profile"]) == (2, "enterprise")
    assert f"skipped '{name}': it is not a regular file (a FIFO)" in warnings(caplog)

    # The sync thread is free: another project syncs straight after.
    register(client, "Other", write_tree(tmp_path / "other", {"prd.md": "# Other PRD\n"}))
    assert sync_within_timeout(client, "other")["sync_status"] == "synced"


def test_kept_status_vocabulary_still_applies_when_its_file_is_unreadable(
    client: TestClient, tree: Path, make_fifo: Callable[[Path], Path]
) -> None:
    write_tree(tree, {".config.yaml": "status_vocab:\n  story: [Gated]\n"})
    register(client, "Demo", tree)
    sync_within_timeout(client, "demo")
    (tree / ".config.yaml").unlink()
    make_fifo(tree / ".config.yaml")
    write_tree(tree, {"stories/US0003-three.md": story(3, status="gated - waiting on legal")})
    assert sync_within_timeout(client, "demo")["sync_status"] == "error"
    response = client.get("/api/v1/projects/demo/documents/story/US0003-three")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "Gated"


def test_settings_file_linked_to_dev_zero_is_refused(
    client: TestClient, tree: Path, memory_ceiling: None, caplog: pytest.LogCaptureFixture
) -> None:
    (tree / ".version").symlink_to("/dev/zero")
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == one_file_failed(added=3)
    assert result["document_count"] == 3
    assert "skipped '.version': it points outside the project folder" in warnings(caplog)


def test_settings_file_that_is_a_character_device_is_refused(
    client: TestClient, tree: Path, memory_ceiling: None, caplog: pytest.LogCaptureFixture
) -> None:
    # The device /dev/zero is, made inside the project folder (tests run as root).
    os.mknod(tree / ".config.yaml", stat.S_IFCHR | 0o644, os.makedev(1, 5))
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_error"] == one_file_failed(added=3)
    assert "skipped '.config.yaml': it is not a regular file (a character device)" in warnings(
        caplog
    )


def test_settings_file_linked_out_of_the_project_is_not_used(
    client: TestClient, tree: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = write_tree(tmp_path / "elsewhere", {"config.yaml": "profile: leaked-secret\n"})
    (tree / ".config.yaml").symlink_to(secret / "config.yaml")
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["profile"] is None
    assert result["sync_error"] == one_file_failed(added=3)
    assert "leaked-secret" not in client.get("/api/v1/projects").text
    assert "skipped '.config.yaml': it points outside the project folder" in warnings(caplog)


def test_settings_file_linked_inside_the_project_is_read(client: TestClient, tree: Path) -> None:
    write_tree(tree, {"settings/lens.yaml": "profile: linked\n"})
    (tree / ".config.yaml").symlink_to("settings/lens.yaml")
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_status"] == "synced", result["sync_error"]
    assert result["profile"] == "linked"


def test_settings_file_over_its_size_limit_is_refused(
    client: TestClient,
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(sync_module, "CONFIG_SIZE_LIMIT", 64)
    write_tree(tree, {".version": "schema_version: 3\n" + "# padding\n" * 10})
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["schema_version"] is None
    assert result["sync_error"] == one_file_failed(added=3)
    assert "skipped '.version': it is larger than the 64 bytes limit" in warnings(caplog)


# --- Documents ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["a FIFO", "a character device"])
def test_document_that_is_not_a_regular_file_is_reported_and_the_others_sync(
    client: TestClient,
    tree: Path,
    make_fifo: Callable[[Path], Path],
    memory_ceiling: None,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    special = tree / "stories" / "x.md"
    if kind == "a FIFO":
        make_fifo(special)
    else:  # the device /dev/zero is, made inside the project folder (tests run as root)
        os.mknod(special, stat.S_IFCHR | 0o644, os.makedev(1, 5))
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"] == one_file_failed(added=3)
    assert set(stored_paths(client)) == {
        "prd.md",
        "stories/US0001-one.md",
        "stories/US0002-two.md",
    }
    assert f"skipped 'stories/x.md': it is not a regular file ({kind})" in warnings(caplog)


def test_document_swapped_for_a_fifo_after_the_walk_keeps_its_stored_text(
    client: TestClient,
    tree: Path,
    make_fifo: Callable[[Path], Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    register(client, "Demo", tree)
    sync_within_timeout(client, "demo")
    before = stored_paths(client)["stories/US0002-two.md"]
    target = tree / "stories" / "US0002-two.md"

    def to_fifo() -> None:
        target.unlink()
        make_fifo(target)

    write_tree(tree, {"stories/US0002-two.md": story(2, status="Done")})  # changed: re-read
    swap_after_walk(monkeypatch, to_fifo)
    result = sync_within_timeout(client, "demo")
    assert result["sync_error"] == one_file_failed(added=0)
    assert stored_paths(client)["stories/US0002-two.md"] == before
    assert "it is not a regular file (a FIFO)" in warnings(caplog)


def test_document_swapped_for_a_link_to_dev_zero_after_the_walk_is_refused(
    client: TestClient,
    tree: Path,
    memory_ceiling: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    big = write_tree(tree, {"big.md": "# Big\n"}) / "big.md"

    def to_dev_zero() -> None:
        big.unlink()
        big.symlink_to("/dev/zero")

    swap_after_walk(monkeypatch, to_dev_zero)
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_error"] == one_file_failed(added=3)
    assert "skipped 'big.md': it points outside the project folder" in warnings(caplog)


def test_document_linked_to_dev_zero_is_not_followed(
    client: TestClient, tree: Path, memory_ceiling: None
) -> None:
    (tree / "big.md").symlink_to("/dev/zero")
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_status"] == "synced"
    assert "big.md" not in stored_paths(client)


def test_folder_swapped_for_a_link_out_of_the_project_is_not_followed(
    client: TestClient,
    tree: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outside = write_tree(tmp_path / "outside", {"US0001-one.md": "# Leaked\n\nsecret words\n"})
    stories = tree / "stories"

    def to_link() -> None:
        stories.rename(tree / "moved-away")
        stories.symlink_to(outside)

    write_tree(tree, {"stories/US0001-one.md": story(1, status="Done")})
    swap_after_walk(monkeypatch, to_link)
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_status"] == "error"
    assert "secret words" not in "".join(stored_paths(client).values())
    assert "skipped 'stories/US0001-one.md': it points outside the project folder" in warnings(
        caplog
    )


def test_document_over_the_size_limit_keeps_its_stored_text(
    client: TestClient,
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(sync_changes, "MARKDOWN_SIZE_LIMIT", 1000)
    at_limit = "# US0003: At the limit\n\n" + "x" * (1000 - 25) + "\n"
    assert len(at_limit.encode()) == 1000
    write_tree(tree, {"stories/US0003-limit.md": at_limit})
    register(client, "Demo", tree)
    assert sync_within_timeout(client, "demo")["sync_status"] == "synced"
    before = stored_paths(client)["stories/US0001-one.md"]

    write_tree(tree, {"stories/US0001-one.md": story(1) + "y" * 1000})
    result = sync_within_timeout(client, "demo")
    assert result["sync_error"] == one_file_failed(added=0)
    assert stored_paths(client)["stories/US0001-one.md"] == before
    # Stored whole (content is the body: the file without its title line).
    assert stored_paths(client)["stories/US0003-limit.md"] == at_limit.removeprefix(
        "# US0003: At the limit\n\n"
    )
    assert "skipped 'stories/US0001-one.md': it is larger than the 1000 bytes limit" in warnings(
        caplog
    )


def test_file_name_that_is_not_utf8_is_reported_and_the_others_sync(
    client: TestClient, tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stories = os.fsencode(tree / "stories")  # bytes paths: names that are not UTF-8
    with open(stories + b"/US0004-caf\xe9.md", "wb") as handle:
        handle.write(story(4).encode())
    os.mkdir(stories + b"/old-\xff")
    with open(stories + b"/old-\xff/US0005-old.md", "wb") as handle:
        handle.write(story(5).encode())
    register(client, "Demo", tree)
    result = sync_within_timeout(client, "demo")
    assert result["sync_status"] == "error"
    assert result["sync_error"].startswith("2 file(s) could not be synced")
    assert result["document_count"] == 3
    logged = warnings(caplog)
    assert "skipped 'stories/US0004-caf\\\\xe9.md': it has a name that is not valid UTF-8" in logged
    assert "skipped 'stories/old-\\\\xff': it is a folder whose name is not valid UTF-8" in logged
