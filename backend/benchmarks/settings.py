"""Sizes shared by the benchmark modules."""

SMALL, LARGE = 5_000, 20_000  # corpus sizes, in documents
CLIENTS = 20  # concurrent clients for throughput and the load check
