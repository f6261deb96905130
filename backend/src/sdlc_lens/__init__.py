"""SDLC Lens: a read-only API over sdlc-studio project documents.

Where things are (layers from the top; each package's docstring says what it owns):

    main.py             the app factory: one settings object, one engine, the runners, routers
    config.py           every SDLC_LENS_* setting, read once
    errors.py           every domain error (api/errors.py maps each to a status and code)
    api/                thin routers (routes/) and the JSON contract (schemas/)
    services/projects/  registry (CRUD, slugs, the sync claim), folder paths, PROJECTS_ROOT
    services/sources/   the source seam (source.py) and its first kind, the folder
    services/sync/      the sync engine, a pipeline over one context; its runner and progress
    services/documents/ browsing: the document list, one document, its relationships
    services/search/    safe queries, ranked results with snippets, workers, index repair
    services/reports/   statistics and the project checkup (/health-check)
    services/system_health.py  readiness (/system/health, the container's HEALTHCHECK)
    parsing/            pure: markdown in, DocumentRecord out (the one definition of its fields)
    db/                 engine and transactions, tables, the FTS index, the sync's staging SQL
"""

# Kept equal to [project].version in pyproject.toml (a test checks it). A constant rather than
# importlib.metadata, whose import costs ~0.1 s at every start of the app and of Alembic.
__version__ = "0.4.0"
