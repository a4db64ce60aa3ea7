"""The tool's exit statuses: one list, importing nothing of the tool (as pip's cli/status_codes.py).

Subcommands return one of these (or raise one of the tool's typed errors, which operations/cli.py
maps to one); the CLI's help lists them from here.
"""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    DANGEROUS = 3
    DRIFT = 4


MEANINGS = {
    ExitStatus.OK: "success: nothing dangerous, no drift",
    ExitStatus.FAILED: "an operation failed (a preview, an update, a stack of the fleet)",
    ExitStatus.USAGE: "bad usage or bad input (unknown stack or environment, invalid file): nothing was changed",
    ExitStatus.DANGEROUS: "`review`: a dangerous change is planned without its acknowledgement",
    ExitStatus.DRIFT: "`fleet drift`: drift was found",
}
