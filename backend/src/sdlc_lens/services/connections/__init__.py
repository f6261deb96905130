"""Stored GitHub connections (SPEC-3 §17): the store, GitHub's API, the repository picker."""
