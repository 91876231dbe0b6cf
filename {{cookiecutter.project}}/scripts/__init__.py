"""Operator scripts run from the project root: `python -m scripts.<name>` (the Makefile wraps them)."""
