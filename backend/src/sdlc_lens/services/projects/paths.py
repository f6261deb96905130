"""A project's folder: where `sdlc_path` points, whether the service may read it, and the
messages that say why not (SPEC §3-§4), each with the hint that fits its cause: a missing
folder (in a container: not mounted) gets the mount hint, an unreadable one the chmod/chown
hint naming the service's uid, a file neither."""

import os
import re
import stat
from pathlib import Path

from sdlc_lens.container import running_in_container
from sdlc_lens.errors import (
    PathNotADirectoryError,
    PathNotFoundError,
    PathNotReadableError,
    PathOutsideBaseError,
)

# Each message starts with its problem; PATH_MISSING and PATH_OUTSIDE_BASE are SPEC §3's
# sentences, which clients match as substrings.
PATH_MISSING = "Project sdlc-studio path does not exist on filesystem"
PATH_NOT_A_FOLDER = "Project sdlc-studio path is a file, not a folder"
PATH_NOT_READABLE = "Project sdlc-studio path is not readable by the service user"
PATH_OUTSIDE_BASE = "sdlc_path must be within the allowed base"
CONTAINER_HINT = (
    "paths are as the container sees them: mount the host folder into the container, "
    "e.g. -v /host/path:/data/projects/name:ro, and register /data/projects/name"
)
# Long enough for any real path; a 5,000-character one is cut in the message.
_SHOWN_PATH_CHARS = 300
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def resolve_project_path(raw_path: str, allowed_base: Path | None) -> str:
    """The absolute, symlink-free form of `raw_path`, checked to be a folder this service can
    read; else the error that names the failed check and the resolved path.

    A relative path is taken from the server's working directory (SPEC §4). The allow-list is
    checked first, on the resolved path: a symlink cannot lead out of the base, and nothing is
    told about the filesystem outside it.
    """
    try:
        resolved = Path(raw_path).expanduser().resolve()
    except (OSError, ValueError, RuntimeError):
        # A NUL byte or a name the OS cannot encode: nothing can exist there.
        raise PathNotFoundError(mount_message(PATH_MISSING, raw_path)) from None
    if allowed_base is not None and not is_within(resolved, allowed_base):
        base = allowed_base.expanduser().resolve()
        raise PathOutsideBaseError(
            # A host path given to a container is the usual cause: the mount hint fits.
            mount_message(f"{PATH_OUTSIDE_BASE} {base} (SDLC_LENS_ALLOWED_PROJECT_BASE)", resolved)
        )
    try:
        mode = resolved.stat().st_mode
    except PermissionError:
        raise PathNotReadableError(_not_readable(resolved)) from None
    except (OSError, ValueError):
        # Missing, name too long, symlink loop: all "not there".
        raise PathNotFoundError(mount_message(PATH_MISSING, resolved)) from None
    if not stat.S_ISDIR(mode):
        raise PathNotADirectoryError(path_message(PATH_NOT_A_FOLDER, resolved))
    # The sync lists the folder (read) and opens what is in it (search).
    if not os.access(resolved, os.R_OK | os.X_OK):
        raise PathNotReadableError(_not_readable(resolved))
    return str(resolved)


def path_message(problem: str, path: str | Path) -> str:
    """`<problem>: <path>`, the path on one line and cut to a readable length."""
    return f"{problem}: {printable_path(path)}"


def mount_message(problem: str, path: str | Path) -> str:
    """`path_message`, with the mount hint where paths are the container's: a path that is
    not there, in a container, is most often one that was never mounted."""
    message = path_message(problem, path)
    return f"{message} ({CONTAINER_HINT})" if running_in_container() else message


def readable_hint(path: str | Path) -> str:
    """What lets the service's user read `path`: its mode or its owner, changed on the host
    when the folder is mounted into a container (named by uid: the host may not know it)."""
    uid = os.geteuid()
    folder = "<host folder>" if running_in_container() else printable_path(path)
    where = "on the host, " if running_in_container() else ""
    return (
        f"{where}let uid {uid} read it and enter the folders above it: "
        f"chmod -R a+rX {folder}, or chown -R {uid} {folder}"
    )


def printable_path(path: str | Path) -> str:
    """The path on one line (control characters as `\\xNN`), cut to a readable length."""
    shown = _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", str(path))
    if len(shown) > _SHOWN_PATH_CHARS:
        shown = shown[:_SHOWN_PATH_CHARS] + "..."
    return shown


def _not_readable(path: Path) -> str:
    message = path_message(f"{PATH_NOT_READABLE} (uid {os.geteuid()})", path)
    return f"{message} ({readable_hint(path)})"


def is_within(path: Path, base: Path) -> bool:
    """Whether `path` is `base` or below it, both compared in resolved form."""
    try:
        real_base = base.expanduser().resolve()
    except (OSError, RuntimeError):
        return False
    return path == real_base or path.is_relative_to(real_base)
