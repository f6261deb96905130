"""The sync: a project's documents from its source into the database, in one transaction."""
