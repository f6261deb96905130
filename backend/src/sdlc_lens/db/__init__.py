"""Database access: engine and connection set-up, table definitions."""
