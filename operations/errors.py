"""The tool's typed errors: two kinds, one per exit status (as pip keeps its status codes in a leaf).

Workflows raise a subclass of one of these with a message for the user; operations/cli.py maps the
kind to its exit status, in one table, and prints `error: <message>`. Nothing here imports the tool.
"""


class ToolError(Exception):
    """An error of the tool whose message is meant for the user (never a secret value)."""


class UsageError(ToolError):
    """Bad usage or bad input (an unknown stack, an invalid file, a refused guard): nothing was changed."""


class OperationError(ToolError):
    """An operation was attempted and failed (the engine, the backend, the history store)."""
