"""Browsing a project's documents: the paginated list, one document in full, its relationships."""
