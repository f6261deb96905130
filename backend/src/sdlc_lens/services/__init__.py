"""The application's capabilities, one package each, called by the thin API layer."""
