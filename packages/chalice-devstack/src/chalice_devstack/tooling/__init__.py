"""devstack's tooling around a Chalice project: package, check, bench, profile, load (`devstack --help`)."""

from chalice_devstack.tooling import commands  # registers the tooling's subcommands

__all__ = ["commands"]
