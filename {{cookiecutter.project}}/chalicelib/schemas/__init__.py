"""Pydantic models: API bodies, responses and event payloads."""
