"""Application logic: plain functions over plain data, called by the thin API layer."""
