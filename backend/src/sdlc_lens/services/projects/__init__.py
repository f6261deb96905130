"""The project registry: CRUD, slugs, the sync claim, source and path checks, PROJECTS_ROOT.

registry.py reads, deletes and claims projects; editing.py creates and changes them, with
sources.py's rules for where the documents are (a folder, or a repository's URL, branch and
folder) and paths.py's checks of a folder; discovery.py registers SDLC_LENS_PROJECTS_ROOT.
"""
