"""The status page's data: one row per customer, the counts by health, each customer's details.

Everything comes from what is already recorded, read in one pass: the backend's state of every
selected stack (operations/backend/state.py, as `fleet drift`'s sweep reads it), the engine's locks
(operations/backend/locks.py), and the run history (two queries for the whole fleet). No vendor is
asked anything. "Needs up" is the sweep's own code-against-state verdict (operations/drift/read.py's
code_verdict: the declaration checked and diffed by the providers, in this process).

Health, per customer (a customer can have several):
- failed: its last run (any operation, or a review) failed; a drift check or refresh that found the
  stack not deployed ran nothing, so it is not the last run;
- drifted: the last drift check (`fleet drift`, the sweep, or `fleet refresh`) found drift, and no
  `up` succeeded after it (an `up` puts the code's values back; an `up` whose one pass read the platform
  and found nothing to do, `unchanged (not run)`, counts too);
- dns pending: a sending domain's records are not all validated, as last recorded;
- not deployed: the stack file exists, the backend has no resources for it;
- needs up: the stack file declares something other than what was last deployed;
- healthy: deployed, and none of the above.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Optional, Sequence

from pydantic import BaseModel, Field

from ..backend.locks import Lock
from ..backend.state import RecordedResource, RecordedStack
from ..differences import CodeDifference, FieldDrift
from ..history.model import PolicyFinding, RunEntry
from ..notifications.store import Delivered
from ..project.stacks import CustomerStack
from ..promotion.check import PromotionStatus
from ..values import changes_text, masked

HEALTH = ("healthy", "drifted", "failed", "dns pending", "not deployed", "needs up")
MORE_COUNTS = ("suspended", "locked", "state unread")
DRIFT_CHECKS = ("drift", "refresh")
RUNS_SHOWN = 5
SUCCEEDED = ("changes", "no changes")
UNCHANGED = "unchanged (not run)"  # the one pass's verdict (operations/changes/): the engine was not run
HIDDEN_OUTPUTS = ("__provider",)

# What the page asks of the places it reads; the real ones are in build_page's caller (read.py).
NeedsUp = Callable[[CustomerStack, RecordedStack], list[CodeDifference]]


class DnsRecord(BaseModel):
    domain: str
    name: str
    type: str
    value: str
    purpose: Optional[str] = None


class ResourceView(BaseModel):
    type: str
    name: str
    id: Optional[str] = None
    outputs: dict[str, Any] = Field(default_factory=dict)


class RunView(BaseModel):
    operation: str
    result: str
    when: str
    by: Optional[str] = None
    commit: Optional[str] = None
    changes: str = "-"
    duration_seconds: float = 0.0
    error: Optional[str] = None
    reason: Optional[str] = Field(None, description="why the engine ran it (the one pass of `fleet preview|up`)")

    @classmethod
    def of(cls, entry: RunEntry) -> "RunView":
        return cls(operation=entry.operation, result=entry.result, when=entry.started_at, by=entry.actor,
                   commit=entry.git_commit, changes=changes_text(entry.changes), duration_seconds=entry.duration_seconds,
                   error=entry.error, reason=entry.reason)


class DriftView(BaseModel):
    checked_at: Optional[str] = Field(None, description="the last drift check; None: never checked")
    checked_by: Optional[str] = Field(None, description="its operation: drift or refresh")
    fields: list[FieldDrift] = Field(default_factory=list, description="what changed on the platform since the state")
    differs_from_code: list[CodeDifference] = Field(default_factory=list,
                                                    description="where the platform is not what the code says")
    repaired_at: Optional[str] = Field(None, description="an `up` that succeeded after it")

    @property
    def drifted(self) -> bool:
        return bool(self.fields or self.differs_from_code) and self.repaired_at is None


class CustomerStatus(BaseModel):
    stack: str
    customer: str
    platform: Optional[str] = None
    environment: Optional[str] = None
    account_name: Optional[str] = None
    account_id: Optional[str] = None
    account_status: Optional[str] = Field(None, description="active, suspended, trial: as last recorded")
    state: str = Field(description="recorded, not deployed, engine (only the engine reads it), unreadable")
    state_reason: Optional[str] = None
    resources_in_state: int = 0
    last_run: Optional[RunView] = None
    drift: DriftView = Field(default_factory=DriftView)
    dns_pending: list[DnsRecord] = Field(default_factory=list)
    dns_pending_since: Optional[str] = Field(None, description="the oldest pending domain's records last changed")
    policy: list[PolicyFinding] = Field(default_factory=list)
    policy_checked_at: Optional[str] = None
    needs_up: list[CodeDifference] = Field(default_factory=list, description="the declaration against the state")
    needs_up_unknown: Optional[str] = Field(None, description="why it could not be told")
    lock: Optional[Lock] = None
    promotion: Optional[PromotionStatus] = Field(None, description="as a copy: its change not yet promoted; as a "
                                                                   "target: the last promotion into it")
    health: list[str] = Field(default_factory=list)
    resources: list[ResourceView] = Field(default_factory=list)
    runs: list[RunView] = Field(default_factory=list)


class StatusPage(BaseModel):
    """The document behind the page and `status --format json`."""

    generated_at: str
    project: str
    backend: Optional[str] = Field(None, description="the state backend read (no password)")
    history_store: Optional[str] = Field(None, description="where the run history was read")
    selection: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    customers: list[CustomerStatus] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    notifications: list[Delivered] = Field(default_factory=list,
                                           description="each sink's last notification: its events link to rows")


# --- from recorded state -----------------------------------------------------------------------------

def resource_views(resources: Sequence[RecordedResource]) -> list[ResourceView]:
    return [ResourceView(type=r.kind, name=r.name, id=r.id,
                         outputs={k: masked(k, v) for k, v in r.outputs.items() if k not in HIDDEN_OUTPUTS})
            for r in resources if r.managed]


def account_facts(resources: Sequence[RecordedResource]) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(name, id, status) of the sub-account as last recorded."""
    account = next((r for r in resources if r.managed and r.kind == "SubAccount"), None)
    if account is None:
        return None, None, None
    out = account.outputs
    name = out.get("name") or (out.get("initial") or {}).get("sending_domain")
    status = out.get("status")
    if status not in ("active", "suspended", "trial"):
        status = "suspended" if out.get("suspended") else "trial" if out.get("trial") else status or "active"
    account_id = out.get("account_id") or account.id
    return (str(name) if name is not None else None), (str(account_id) if account_id else None), status


def dns_pending(resources: Sequence[RecordedResource]) -> list[DnsRecord]:
    pending = []
    for r in resources:
        if not r.managed or r.kind != "SendingDomain":
            continue
        for record in r.outputs.get("records") or []:
            if isinstance(record, dict) and not record.get("validated"):
                pending.append(DnsRecord(domain=str(r.outputs.get("domain") or r.inputs.get("domain") or ""),
                                         name=str(record.get("name", "")), type=str(record.get("type", "")),
                                         value=str(record.get("value", "")), purpose=record.get("purpose")))
    return pending


def dns_pending_since(resources: Sequence[RecordedResource]) -> Optional[str]:
    """When the oldest sending domain with unvalidated records last had its records recorded changing."""
    times = [r.modified or r.created for r in resources if r.managed and r.kind == "SendingDomain"
             and any(isinstance(x, dict) and not x.get("validated") for x in r.outputs.get("records") or [])]
    return min((t for t in times if t), default=None)


# --- from the history ------------------------------------------------------------------------------------

def drift_view(latest: Mapping[str, RunEntry]) -> DriftView:
    """`latest`: the stack's newest entry per operation."""
    checks = [latest[op] for op in DRIFT_CHECKS if op in latest and latest[op].result not in ("failed", "not deployed")]
    if not checks:
        return DriftView()
    check = max(checks, key=lambda e: e.started_at)
    up = latest.get("up")
    read_and_unchanged = up is not None and up.result == UNCHANGED and up.basis is not None and up.basis.read_platform
    repaired = (up.started_at if up and (up.result in SUCCEEDED or read_and_unchanged)
                and up.started_at > check.started_at else None)
    return DriftView(checked_at=check.started_at, checked_by=check.operation, fields=check.drift,
                     differs_from_code=check.differs_from_code, repaired_at=repaired)


def policy_of(latest: Mapping[str, RunEntry]) -> tuple[list[PolicyFinding], Optional[str]]:
    """The findings of the newest run that reports any, or of the newest review (which runs the pack)."""
    candidates = [e for e in latest.values() if e.policy or e.operation == "review"]
    if not candidates:
        return [], None
    newest = max(candidates, key=lambda e: e.started_at)
    return newest.policy, newest.started_at


# --- one customer, and the page ----------------------------------------------------------------------------

def last_run(runs: Sequence[RunEntry]) -> Optional[RunView]:
    """The newest run that did something (see the module docstring); the newest of all else."""
    ran = [e for e in runs if e.result != "not deployed"] or list(runs)
    return RunView.of(ran[0]) if ran else None


def customer_status(stack: CustomerStack, state: RecordedStack, runs: Sequence[RunEntry],
                    latest: Mapping[str, RunEntry], lock: Optional[Lock], needs_up: NeedsUp) -> CustomerStatus:
    resources = [r for r in state.resources if r.managed]
    name, account_id, status = account_facts(state.resources)
    policy, policy_at = policy_of(latest)
    row = CustomerStatus(
        stack=stack.name, customer=stack.customer, platform=stack.platform, environment=stack.environment,
        account_name=name if name is not None else stack.declaration.get("account", {}).get("name"),
        account_id=account_id, account_status=status, state=state.status, state_reason=state.reason,
        resources_in_state=len(resources), last_run=last_run(runs), drift=drift_view(latest),
        dns_pending=dns_pending(state.resources), policy=policy, policy_checked_at=policy_at, lock=lock,
        dns_pending_since=dns_pending_since(state.resources),
        resources=resource_views(state.resources), runs=[RunView.of(e) for e in runs[:RUNS_SHOWN]])
    if state.status == "recorded":
        try:
            row.needs_up = needs_up(stack, state)
        except Exception as exc:  # noqa: BLE001 - one customer's problem stays on its row
            row.needs_up_unknown = f"cannot compare the declaration with the state: {exc}"
    elif state.status != "not deployed":
        row.needs_up_unknown = state.reason or f"state {state.status}"
    row.health = health_of(row)
    return row


def health_of(row: CustomerStatus) -> list[str]:
    tags = []
    if row.last_run is not None and row.last_run.result == "failed":
        tags.append("failed")
    if row.drift.drifted:
        tags.append("drifted")
    if row.dns_pending:
        tags.append("dns pending")
    if row.state == "not deployed":
        tags.append("not deployed")
    if row.needs_up:
        tags.append("needs up")
    if row.state in ("engine", "unreadable"):
        tags.append("state unread")
    if not tags:
        tags.append("healthy")
    if row.account_status == "suspended":
        tags.append("suspended")
    if row.lock is not None:
        tags.append("locked")
    return tags


def counts_of(rows: Sequence[CustomerStatus]) -> dict[str, int]:
    found = Counter(tag for row in rows for tag in row.health)
    return {tag: found.get(tag, 0) for tag in (*HEALTH, *MORE_COUNTS)}


def build_page(stacks: Sequence[CustomerStack], states: Mapping[str, RecordedStack],
               recent: Mapping[str, Sequence[RunEntry]], latest: Mapping[str, Mapping[str, RunEntry]],
               locks: Mapping[str, Lock], needs_up: NeedsUp, project: str,
               promotions: Optional[Mapping[str, PromotionStatus]] = None, **about: Any) -> StatusPage:
    """The page from what was read: `recent` holds each stack's newest entries (newest first),
    `latest` each stack's newest entry per operation, `promotions` each copy's and target's facts."""
    rows = []
    for stack in stacks:
        state = states.get(stack.name) or RecordedStack(name=stack.name, status="not deployed")
        rows.append(customer_status(stack, state, recent.get(stack.name, ()), latest.get(stack.name, {}),
                                    locks.get(stack.name), needs_up))
        rows[-1].promotion = (promotions or {}).get(stack.name)
    return StatusPage(generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), project=project,
                      counts=counts_of(rows), customers=rows, **about)
