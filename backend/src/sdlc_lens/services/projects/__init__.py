"""The project registry: CRUD, slugs, the sync claim, path checks, and SDLC_LENS_PROJECTS_ROOT."""
