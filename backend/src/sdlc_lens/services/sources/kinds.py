"""Which source serves a project, chosen by its `source_type` and opened once per sync."""

from dataclasses import dataclass
from pathlib import Path

from sdlc_lens.services.sources.folder import FolderSource
from sdlc_lens.services.sources.source import ProjectLocation, Source


@dataclass(frozen=True, slots=True)
class Sources:
    """Opens a project's source for the sync engine (its SourceOpener is `Sources(...).open`)."""

    allowed_base: Path | None  # SDLC_LENS_ALLOWED_PROJECT_BASE: folders outside it are refused

    def open(self, location: ProjectLocation) -> Source:
        """The project's source; SourceError when it cannot be opened."""
        # Every project is read from its folder today, whatever its source_type; a repository
        # source (issue 16) is a module of its own and one branch here.
        return FolderSource.open(location.sdlc_path, self.allowed_base)
