"""Whether the service runs inside a container, where paths are the container's, not the host's."""

from pathlib import Path

# Files the container engines create at the root of every container: Docker, and Podman/CRI-O.
CONTAINER_MARKERS = (Path("/.dockerenv"), Path("/run/.containerenv"))


def running_in_container() -> bool:
    """Whether one of the engines' marker files exists."""
    return any(marker.exists() for marker in CONTAINER_MARKERS)
