"""The application's capabilities, one package each, called by the thin API layer.

Two modules stand alone: system_health.py (the health answer) and tokens.py (access tokens
at rest, and the token a sync of a repository uses).
"""
