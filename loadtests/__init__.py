"""The template's load-test baseline runner (make baseline)."""
