"""The audit trail: every step that creates, adopts, deletes or moves a customer's account, recorded
in the run history like any run (who, when, which commit), with the vendor objects it concerned and
what happened, in words.

`retire`, `recover`, `clone`, `discover`, `take-over` and `backend copy` record one run each here;
a fleet's adoptions are recorded with the fleet run (operations/fleet/record.py). A history that
cannot be written is a warning, never a failed step (runs.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from providers.naming import split_stack_name
from providers.ownership import VendorObject

from .model import RunEntry, now_utc, without_url_passwords
from .runs import record, run_fields


@dataclass
class Action:
    """What one step did to one stack."""

    stack: str
    result: str                                   # retired, recovered, cloned, written, skipped, taken over, ...
    objects: list[VendorObject] = field(default_factory=list)
    detail: Optional[str] = None
    error: Optional[str] = None
    platform: Optional[str] = None
    environment: Optional[str] = None


class Audit:
    """One step's run: started when made, recorded once with every stack it touched."""

    def __init__(self, operation: str, project_dir: Path, env: Optional[Mapping[str, str]] = None):
        self.operation, self.project_dir, self.env = operation, project_dir, env
        self.started_at, self._started = now_utc(), time.monotonic()
        self.actions: list[Action] = []

    def add(self, action: Action) -> Action:
        self.actions.append(action)
        return action

    def entries(self, exit_status: Optional[int] = None) -> list[RunEntry]:
        run = run_fields(self.project_dir, exit_status, self.started_at, self.env)
        duration = round(time.monotonic() - self._started, 2)
        return [RunEntry(operation=self.operation, stack=a.stack, customer=split_stack_name(a.stack)[0],
                         platform=a.platform, environment=a.environment or split_stack_name(a.stack)[1],
                         result=a.result, objects=list(a.objects), detail=without_url_passwords(a.detail),
                         error=without_url_passwords(a.error), duration_seconds=duration, **run)
                for a in self.actions]

    def record(self, exit_status: Optional[int] = None, **warn: Callable[[str], None]) -> bool:
        """Write the step's entries in one transaction (nothing when it touched no stack)."""
        return record(self.entries(exit_status), self.env, **warn) if self.actions else True


def objects_text(objects: Sequence[VendorObject]) -> str:
    return ", ".join(str(o) for o in objects) or "-"
