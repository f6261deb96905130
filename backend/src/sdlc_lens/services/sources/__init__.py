"""Where documents come from: the source seam (source.py) and the project folder, its first kind."""
