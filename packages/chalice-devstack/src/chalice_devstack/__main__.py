"""`python -m chalice_devstack`: the same as the `devstack` command."""

from chalice_devstack.launch import main

main()
