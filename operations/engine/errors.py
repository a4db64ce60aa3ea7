"""Engine failures, classified once, by the Automation API's own error types.

Every `pulumi` run the tool makes, through the Automation API or the CLI, ends as a CommandError of
the SDK when it fails: `ConcurrentUpdateError` (the stack is locked), `StackNotFoundError`,
`StackAlreadyExistsError`, `InlineSourceRuntimeError` (the program raised), or plain
`CommandError`. A CLI run is classified by the SDK's own `create_command_error`, so the tool asks
"is it locked?" with `isinstance`, never by reading the engine's words itself. What the SDK does
not classify, and only that, is named here: a wrong passphrase (`explained`).
"""

from __future__ import annotations

import re
import subprocess
from typing import Optional, Sequence

from pulumi.automation import CommandResult
from pulumi.automation.errors import (CommandError, ConcurrentUpdateError, InlineSourceRuntimeError,
                                      StackAlreadyExistsError, StackNotFoundError, create_command_error)

from ..errors import OperationError
from ..values import ANSI

__all__ = ["CommandError", "ConcurrentUpdateError", "StackNotFoundError", "StackAlreadyExistsError",
           "InlineSourceRuntimeError", "EngineError", "classified", "engine_words", "one_line_error", "explained"]

# How the SDK's in-process language server words a program's exception (automation/_server.py).
INLINE_ERROR_PREFIX = "python inline source runtime error: "


class EngineError(OperationError):
    """A `pulumi` command failed; the message holds its own explanation (never a secret value).
    `cause` is the SDK's classification of the failure."""

    def __init__(self, message: str, cause: Optional[CommandError] = None):
        super().__init__(message)
        self.cause = cause


def classified(result: subprocess.CompletedProcess) -> Optional[CommandError]:
    """The SDK's error type for a finished CLI run (None when it succeeded)."""
    if result.returncode == 0:
        return None
    return create_command_error(CommandResult(stdout=result.stdout or "", stderr=result.stderr or "",
                                              code=result.returncode))


def engine_words(exc: BaseException) -> str:
    """The engine's own words in a failure: a CommandError's text is "code: N / stdout: ... / stderr: ...",
    and the engine speaks in stderr."""
    raw = ANSI.sub("", str(exc))
    if "\n stderr: " not in raw:
        return raw
    head, stderr = raw.split("\n stderr: ", 1)
    return stderr.strip() or head.split(" stdout: ", 1)[-1]


def one_line_error(exc: BaseException, diagnostics: Sequence[str]) -> str:
    """The engine's own reason in one line: its error diagnostic, else the last `error:` line."""
    text = "\n".join(diagnostics) or engine_words(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meaningful = [line for line in lines if not re.match(r"(error: )?(update|preview|refresh) failed$", line)]
    errors = [line for line in meaningful if line.startswith("error:")]
    line = (errors or meaningful or [type(exc).__name__])[-1 if errors else 0]
    line = line.removeprefix("error: ").removeprefix(INLINE_ERROR_PREFIX).strip()
    return line if len(line) <= 300 else line[:297] + "..."


def explained(message: str, stack: str) -> str:
    """The engine's error, with what to do where its own words do not say it: a stack whose secrets
    another passphrase encrypted (the one failure the SDK has no type for)."""
    if "incorrect passphrase" in message:
        return (f"stack {stack}: its secrets are encrypted with another passphrase than the one PULUMI_CONFIG_PASSPHRASE "
                f"(or PULUMI_CONFIG_PASSPHRASE_FILE) gives; run it with its own, or re-encrypt it once with "
                f"`pulumi stack change-secrets-provider passphrase --stack {stack}` ({message})")
    return message
