"""Keeping projects current without a click: repository heads polled, folders followed."""
