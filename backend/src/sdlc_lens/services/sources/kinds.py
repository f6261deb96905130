"""Which source serves a project, chosen by its `source_type` and opened once per sync."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sdlc_lens.services.sources.folder import FolderSource
from sdlc_lens.services.sources.repository_config import REMOTE_KINDS, RepositoryConfig
from sdlc_lens.services.sources.source import ProjectLocation, Source


def _never() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Sources:
    """Opens a project's source for the sync engine (its SourceOpener is `Sources(...).open`)."""

    allowed_base: Path | None  # SDLC_LENS_ALLOWED_PROJECT_BASE: folders outside it are refused
    repositories: RepositoryConfig  # where object stores live, and how to reach servers
    should_stop: Callable[[], bool] = _never  # the service stops: network waits end at once

    def open(self, project_id: int, location: ProjectLocation) -> Source:
        """The project's source; SourceError when it cannot be opened."""
        if location.source_type in REMOTE_KINDS:
            # Imported here: it brings dulwich and urllib3, which a start without repository
            # projects never needs.
            from sdlc_lens.services.sources.repository import RepositorySource

            return RepositorySource.open(project_id, location, self.repositories, self.should_stop)
        return FolderSource.open(location.sdlc_path, self.allowed_base)
