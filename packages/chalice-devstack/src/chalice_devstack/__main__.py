"""`python -m chalice_devstack`: the same as the `devstack` command."""

from chalice_devstack.cli import main

main()
