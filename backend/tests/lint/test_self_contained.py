"""The repository is the whole project: nothing names a place outside it, and every relative
link of the documentation leads to a file (and a heading) inside it."""

import re
from pathlib import Path

import pytest

from tests.helpers import REPO_DIR

SCANNED = [REPO_DIR / "backend", REPO_DIR / "docs", REPO_DIR / "README.md"]
# This file names what it forbids.
THIS_FILE = Path(__file__).resolve()

# A sibling of the repository, as in `../shared/...` or `REPO.parent / "shared"`.
OUTSIDE = re.compile(r"\.\./shared\b|\.parent\s*/\s*[\"']shared[\"']")
# An absolute path into a person's or one machine's own space, starting a path (not inside a
# URL or a relative path): a home folder (`/home/NAME/`, `/Users/NAME/`, `/root/`), this
# kind of machine's workspace (`/work/`), or a Windows user folder. Placeholder homes of
# examples and test data (`/home/me/`, `/home/user/`) and the paths the image or an example
# defines are fine: `/data/db`, `/app`, `/tmp`, `/srv/acme`, `/mnt/c`, `/var/...`, and
# `/root/.cache/` (root's cache in the image's build stage).
MACHINE_PATH = re.compile(
    r"(?<![\w.~/-])"
    r"(?:/(?:home|Users)/(?!(?:me|user|you|example)/)[^/\s]+/|/root/(?!\.cache/)|/work/)"
    r"|\b[A-Za-z]:\\\\?(?:Users|home)\\"
)


def scanned_files() -> list[Path]:
    """Every text file below backend/ and docs/, and the README: hidden folders (.venv, caches,
    the benchmarks' work folder) and compiled files aside."""
    files: list[Path] = []
    for root in SCANNED:
        if root.is_file():
            files.append(root)
            continue
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            hidden = any(part.startswith(".") for part in parts[:-1])
            if hidden or "__pycache__" in parts or not path.is_file():
                continue
            if path.resolve() != THIS_FILE and b"\0" not in path.read_bytes()[:8192]:
                files.append(path)
    return files


def test_no_file_names_a_place_outside_the_repository_or_of_one_machine() -> None:
    """Fails on `../shared` (or a path built to it) and on absolute machine paths, see
    MACHINE_PATH for the rule: a plain clone must pass with nothing around it."""
    found = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line) or MACHINE_PATH.search(line):
                found.append(f"{path.relative_to(REPO_DIR)}:{number}: {line.strip()[:120]}")
    assert len(scanned_files()) > 100
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        "CORPUS = Path('/work/shared/corpus')",
        "see ../shared/SPEC.md",
        'BACKEND_DIR.parent.parent / "shared" / "corpus"',
        "UV_PYTHON=/root/.pyenv/versions/3.12.1/bin/python3",
        "open('/home/alice/project/x.md')",
        "/Users/bob/Desktop/tree",
        r"C:\Users\carol\tree",
        "cd /work/project && make",
    ],
)
def test_the_rule_catches_machine_paths(line: str) -> None:
    assert OUTSIDE.search(line) or MACHINE_PATH.search(line)


@pytest.mark.parametrize(
    "line",
    [
        "ENV SDLC_LENS_DATABASE_URL=sqlite:////data/db/sdlc_lens.db",
        "WORKDIR /app",
        "RUN --mount=type=cache,target=/root/.cache/uv",
        "-v /srv/acme/sdlc-studio:/data/projects/acme:ro",
        "tmpfs: /tmp",
        "https://example.com/home/page and ~/.local/share/sdlc-lens",
        "examples/bookshelf/sdlc-studio/ and ./work/notes",
        "41 22 0:41 / /home/me/remote rw - fuse.sshfs me@host:/ rw and /mnt/wsl",
    ],
)
def test_the_rule_leaves_container_and_example_paths_alone(line: str) -> None:
    assert not OUTSIDE.search(line) and not MACHINE_PATH.search(line)


# --- links -----------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[`~]*\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(markdown: str) -> str:
    """The text without fenced code blocks and code spans: links there are examples."""
    return CODE_SPAN.sub("", FENCE.sub("", markdown))


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to `-`,
    `-1`, `-2`, ... on repeats."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        candidate, repeat = slug, 0
        while candidate in found:
            repeat += 1
            candidate = f"{slug}-{repeat}"
        found.add(candidate)
    return found


DOCUMENTS = [REPO_DIR / "README.md", *sorted((REPO_DIR / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    broken = []
    for target in LINK.findall(prose(document.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        if not linked.is_relative_to(REPO_DIR) or not linked.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked.read_text())):
            broken.append(f"{target}: no heading #{anchor}")
    assert broken == []


def test_the_link_check_sees_links_and_anchors() -> None:
    text = "# A Title: here\n\n## Stopping\n\n## Stopping\n\n```\n[x](nowhere.md)\n```\n"
    assert anchors(text) == {"a-title-here", "stopping", "stopping-1"}
    assert LINK.findall(prose(text + "[ok](docs/api.md#x) `[no](code.md)`")) == ["docs/api.md#x"]
