"""One customer's run inside a fleet operation: the engine call, what its events say, one result.

The engine path: an Automation API operation on the project's program (operations/engine/), its
events read by operations/engine/events.py. Used by every fleet operation, and by `fleet drift`'s
sweep for the customers it leaves to the engine.
"""

from __future__ import annotations

import time
from typing import Callable

from ..engine.automation import init_stack_in_workspace, open_stack, run_operation
from ..engine.errors import StackNotFoundError, explained, one_line_error
from ..engine.events import EventCollector
from ..differences import CodeDifference
from ..project.stacks import CustomerStack
from .models import CustomerResult, Result

PENDING_RECORDS = "record(s) not validated yet"  # DomainVerification's message at its deadline


def customer_error(stack: str, exc: BaseException, collector: EventCollector) -> str:
    """The one line a fleet report shows: the mandatory policies that blocked the run, else the engine's
    reason; for a DomainVerification deadline, where to read the records in full (never a value cut short)."""
    error = "; ".join(collector.policy_violations) or one_line_error(exc, collector.errors)
    if PENDING_RECORDS in error:
        error = (error.split(PENDING_RECORDS, 1)[0] + PENDING_RECORDS
                 + f": `email-partners dns {stack} --pending` prints them in full.")
    return error


def run_customer(stack: CustomerStack, operation: str, workspace,
                 on_step: Callable[[str], None] = lambda _: None, refresh: bool = False,
                 policy_pack=None, program=None) -> CustomerResult:
    """Run one engine operation on one customer; never raises (a fleet goes on past a failure).
    A customer not yet in the backend is created there by preview and up (its stack file stays as
    written), and is "not deployed" for refresh and drift. `program`: engine/inline.py's."""
    started = time.monotonic()
    collector = EventCollector(on_step, refresh_ops_only=operation == "drift")
    base = dict(stack=stack.name, customer=stack.customer, platform=stack.platform,
                environment=stack.environment, operation=operation)
    try:
        try:
            run_operation(open_stack(workspace, stack.name), operation, collector,
                          refresh=refresh, policy_pack=policy_pack, program=program)
        except StackNotFoundError:
            if operation in ("refresh", "drift"):
                return CustomerResult(**base, result="not deployed",
                                      duration_seconds=round(time.monotonic() - started, 2))
            on_step("creating the stack in the backend")
            init_stack_in_workspace(workspace, stack.name)
            run_operation(open_stack(workspace, stack.name), operation, collector,
                          refresh=refresh, policy_pack=policy_pack, program=program)
    except Exception as exc:  # noqa: BLE001 - any failure belongs to this customer only
        return CustomerResult(**base, result="failed", changes=collector.counts, drift=collector.drift,
                              duration_seconds=round(time.monotonic() - started, 2),
                              error=explained(customer_error(stack.name, exc, collector), stack.name))
    differs = collector.planned if operation == "drift" else None
    if operation in ("refresh", "drift") and (collector.drift or differs):
        result: Result = "drift"
    elif operation == "up" and collector.adopting and set(collector.counts) == {"create"}:
        result = "adopted"  # the creates took over what exists: nothing new on the platform
    else:
        result = "changes" if collector.counts else "no changes"
    return CustomerResult(**base, result=result, changes=collector.counts, drift=collector.drift,
                          differs_from_code=differs, duration_seconds=round(time.monotonic() - started, 2),
                          plan=planned(collector) if operation in ("preview", "up") else None)


def planned(collector: EventCollector) -> list[CodeDifference]:
    """The plan's steps field by field, secrets masked, in a stable order (the engine runs steps in parallel)."""
    return sorted((d.masked() for d in collector.planned), key=lambda d: (d.resource, d.type, d.op, d.field or ""))
