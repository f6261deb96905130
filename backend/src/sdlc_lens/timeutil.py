"""Timestamps: stored and served as ISO-8601 UTC with an explicit offset."""

from datetime import UTC, datetime


def utc_now() -> str:
    """Now, as `2026-03-02T09:16:10.004211+00:00` (sorts correctly as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
