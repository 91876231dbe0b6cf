"""The one error type the `devstack` command reports as a single line: bad input, or a state it cannot work with.

Raise a `CommandError` (or a subclass: ProjectFileError, SettingsError, StartError) whose message
names the problem and its fix; `devstack`'s main prints `devstack: <message>` and exits with
`exit_code`, with no traceback. Commands need no try/except of their own for it.
"""


class CommandError(Exception):
    """Bad input or an unusable state; the message is one line naming the problem and the fix."""

    exit_code = 1
