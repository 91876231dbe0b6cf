"""The `devstack` command's entry point: `devstack up` spawns its AWS endpoint child before its own imports.

The child imports moto (most of a start) while this process imports the CLI and reads the project;
it gets its settings once they are known (chalice_devstack.endpoint_child).
"""

import gc
import sys


def main() -> None:
    """Run the `devstack` command line."""
    arguments = sys.argv[1:]
    if arguments[:1] == ["up"]:
        pause_collection()  # `devstack up` resumes it once ready
        if not {"--single", "-h", "--help"} & set(arguments):
            from chalice_devstack.endpoint_child import start_early

            start_early()
    from chalice_devstack.cli import main as cli_main

    cli_main()


def pause_collection() -> None:
    """Stop the cyclic garbage collector for start-up.

    Imports and a snapshot's restore make objects that live as long as the process; the collector
    walked them again and again as they piled up: a tenth of a restored start, in each process.
    """
    gc.disable()


def resume_collection() -> None:
    """Start-up is over: its objects move where the collector no longer walks them (gc.freeze), and it runs again."""
    gc.freeze()
    gc.enable()
