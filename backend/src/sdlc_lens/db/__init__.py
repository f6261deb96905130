"""Database access: engine and transactions, tables, the FTS index, the sync's staging SQL."""
