"""Emulators. Each module defines ``start(lab) -> dict`` (and optionally ``ORDER``); see runtime.py."""
