"""SDLC Lens: a read-only API over sdlc-studio project documents."""

# Kept equal to [project].version in pyproject.toml (a test checks it). A constant rather than
# importlib.metadata, whose import costs ~0.1 s at every start of the app and of Alembic.
__version__ = "0.2.0"
