"""Operator and developer scripts, run from the project root as `python -m scripts.<name>` (the Makefile wraps them)."""
