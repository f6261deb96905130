"""Keeping projects current without a click (SPEC-3 §19): polling remote heads, watching folders."""
