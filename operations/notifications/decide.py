"""Once per change of state, not once per run: what is new for a sink since what it was last told.

A sink was last told, per (kind, subject), that the condition held (with its fingerprint) or no longer
held; only what was delivered counts (store.py), so a sink that failed hears of it on the next run.
A condition that appears is news, and so is one whose fingerprint changed (other fields drifted,
another danger); one that persists is not; one that was announced and no longer holds is news once
more (resolved). A condition never announced that does not hold is nothing.
"""

from __future__ import annotations

from typing import Literal, Mapping, Optional, Sequence
from urllib.parse import quote

from pydantic import BaseModel, Field

from .conditions import Condition
from .store import Told

Transition = Literal["new", "changed", "resolved"]
# The event type of each kind's transitions: (new, changed, resolved).
TYPES: dict[str, tuple[str, str, str]] = {
    "drift": ("drift.found", "drift.changed", "drift.resolved"),
    "failure": ("run.failed", "run.failed", "run.recovered"),
    "danger": ("review.dangerous", "review.dangerous", "review.cleared"),
    "dns": ("dns.pending", "dns.pending", "dns.validated"),
    "lock": ("lock.held", "lock.held", "lock.released"),
    "shard": ("shard.missing", "shard.missing", "shard.reported"),
}
TITLES = {
    "drift.found": "Drift found", "drift.changed": "Drift changed", "drift.resolved": "Drift resolved",
    "run.failed": "Run failed", "run.recovered": "Runs succeed again",
    "review.dangerous": "Dangerous change not acknowledged", "review.cleared": "No unacknowledged danger any more",
    "dns.pending": "DNS records still unpublished", "dns.validated": "DNS records validated",
    "lock.held": "Lock held too long", "lock.released": "Lock released",
    "shard.missing": "Shard did not report", "shard.reported": "Shard reports again",
}


class Event(BaseModel):
    """One change of state, as the JSON body carries it (version 1: message.py)."""

    type: str = Field(description="drift.found, drift.changed, drift.resolved, run.failed, run.recovered, ...")
    kind: str
    transition: Transition
    subject: str
    customer: Optional[str] = None
    environment: Optional[str] = None
    platform: Optional[str] = None
    summary: str
    details: list[str] = Field(default_factory=list)
    since: Optional[str] = None
    link: Optional[str] = Field(None, description="the status page at this customer's row")
    fingerprint: str = Field("", exclude=True)

    @property
    def title(self) -> str:
        return TITLES[self.type]

    @property
    def active(self) -> bool:
        return self.transition != "resolved"


def link_to(status_page: Optional[str], condition: Condition) -> Optional[str]:
    if not status_page or condition.kind == "shard":
        return status_page or None
    return f"{status_page}#stack={quote(condition.subject, safe='')}"


def decide(observed: Sequence[Condition], told: Mapping[tuple[str, str], Told], kinds: Sequence[str],
           status_page: Optional[str] = None) -> list[Event]:
    """The events for one sink: each observed condition of a kind it hears of, against what it was told."""
    events = []
    for condition in observed:
        if condition.kind not in kinds:
            continue
        last = told.get(condition.key)
        was_active = last is not None and last.active
        if condition.active and not was_active:
            transition: Optional[Transition] = "new"
        elif condition.active and last.fingerprint != condition.fingerprint:
            transition = "changed"
        elif not condition.active and was_active:
            transition = "resolved"
        else:
            continue
        new, changed, resolved = TYPES[condition.kind]
        events.append(Event(
            type={"new": new, "changed": changed, "resolved": resolved}[transition], kind=condition.kind,
            transition=transition, subject=condition.subject, customer=condition.customer,
            environment=condition.environment, platform=condition.platform, summary=condition.summary,
            details=condition.details, since=condition.since, link=link_to(status_page, condition),
            fingerprint=condition.fingerprint))
    order = {kind: i for i, kind in enumerate(TYPES)}
    return sorted(events, key=lambda e: (order[e.kind], e.transition == "resolved", e.subject))
