"""Benchmarks: sync throughput, API latency, memory and image figures (see docs/benchmarks.md)."""
