"""One router per area, all mounted under /api/v1."""
