"""chalice-devstack: a Chalice app's API and event sources, offline."""

__version__ = "0.1.0"
