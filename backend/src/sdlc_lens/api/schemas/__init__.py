"""Request and response models: the JSON contract with the frontend (SPEC §3-§11)."""
