"""The `devstack` command's entry point: `devstack up` spawns its AWS endpoint child before its own imports.

The child imports moto (most of a start) while this process imports the CLI and reads the project;
it gets its settings once they are known (chalice_devstack.endpoint_child).
"""

import sys


def main() -> None:
    """Run the `devstack` command line."""
    arguments = sys.argv[1:]
    if arguments[:1] == ["up"] and not {"--single", "-h", "--help"} & set(arguments):
        from chalice_devstack.endpoint_child import start_early

        start_early()
    from chalice_devstack.cli import main as cli_main

    cli_main()
