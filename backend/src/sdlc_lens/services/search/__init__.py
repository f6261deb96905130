"""Full-text search: safe queries, bounded workers, ranked results, snippets, index repair."""
