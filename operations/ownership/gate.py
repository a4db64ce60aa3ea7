"""A fleet operation's side of one owner per vendor object.

Before `fleet preview` or `fleet up` runs anything, the backend is read once (index.py) and each
selected customer whose declaration would take over an object another stack manages fails at once,
naming that stack and the take-over that would move it (claims.py): the engine never runs for it.
The index is written for the policy pack and the providers. After an `up`, the backend is read again:
the index follows what the run recorded, each customer that adopted gets the objects it now manages
(recorded in the run history), and an object any stack of the run shares with another is named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ..errors import OperationError
from ..fleet.models import CustomerResult, FleetReport
from ..project.stacks import CustomerStack
from .claims import conflicts
from .index import Ownership, refreshed


def refused_before_running(stacks: Sequence[CustomerStack], operation: str, project_dir: Path) -> \
        tuple[list[CustomerStack], list[CustomerResult], list[str]]:
    """(the stacks that may run, a failed result for each that may not, notes for the report)."""
    try:
        ownership = refreshed(project_dir)
    except OperationError as exc:
        return list(stacks), [], [f"ownership not checked before the run ({exc}); the providers still refuse "
                                  f"what the last ownership index names"]
    found = conflicts(stacks, ownership, project_dir)
    notes = [f"ownership: stack {name} could not be read ({why}): what it manages is not known" for name, why in
             sorted(ownership.unread.items())]
    results = [CustomerResult(stack=s.name, customer=s.customer, platform=s.platform, environment=s.environment,
                              operation=operation, result="failed",
                              error="; ".join(c.message(ownership) for c in found[s.name]),
                              objects=[c.object for c in found[s.name]])
               for s in stacks if s.name in found]
    return [s for s in stacks if s.name not in found], results, notes


def after_up(report: FleetReport, project_dir: Path) -> Optional[Ownership]:
    """Read the backend again once an `up` ran: the index follows, adopted objects are named."""
    try:
        ownership = refreshed(project_dir)
    except OperationError as exc:
        report.notes.append(f"ownership not read after the run: {exc}")
        return None
    ran = {c.stack for c in report.customers}
    for customer in report.customers:
        if customer.result == "adopted":
            customer.objects = ownership.objects_of(customer.stack)
            customer.detail = "adopted " + ", ".join(str(o) for o in customer.objects) + " (no write)"
    for entry in ownership.shared():
        stacks = sorted({o.stack for o in entry.owners})
        if ran & set(stacks):
            report.notes.append(f"ownership: {entry.object} is recorded by {len(stacks)} stacks ({', '.join(stacks)}): "
                                f"`email-partners owners` lists every such object; `email-partners take-over` leaves "
                                f"it to one")
    return ownership
