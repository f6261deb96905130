"""Reports over a project's documents: statistics and the checkup (SPEC-2 §15 "health check")."""
