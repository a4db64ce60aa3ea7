"""What holds now, per customer (or shard), as a run can tell it: each a Condition, active or not.

A run speaks only for what it looked at: a customer it ran, a shard it merged. A condition it did not
observe is left as the sinks were last told it, so a shard, a `--select` or a review of two stacks
never "resolves" the rest of the fleet. Where each comes from:
- failure: the run's own result per customer (a fleet operation's, or a review's preview);
- danger: a review's dangerous changes without their acknowledgement;
- drift, dns, lock: the status page's rows of the run's customers (operations/status/), so a message
  says what the page shows: the last drift check and any `up` that put the code back (the run
  history), DNS records unvalidated since longer than the threshold and a lock older than its own
  (the backend's state and locks);
- shard: the shards a merged report has and lacks.
Nothing secret is put in a condition: drift values are masked by field name, URL passwords cut.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional, Sequence

from pydantic import BaseModel, Field

from ..fleet.models import FleetReport
from ..history.model import without_url_passwords
from ..review.models import StackReview
from ..status.data import CustomerStatus
from .config import Thresholds

DETAIL_LINES = 20
RAN = ("no changes", "changes", "adopted", "drift", "failed")  # the results of a customer an operation ran
DETAIL_LENGTH = 300


class Condition(BaseModel):
    """One thing a run observed about one subject: `active` when it holds now."""

    kind: str = Field(description="drift, failure, danger, dns, lock, shard")
    subject: str = Field(description="the customer's stack, or `shard K/N`")
    active: bool
    customer: Optional[str] = None
    environment: Optional[str] = None
    platform: Optional[str] = None
    fingerprint: str = Field("", description="what makes it the same condition from one run to the next")
    summary: str = ""
    details: list[str] = Field(default_factory=list)
    since: Optional[str] = None

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.subject


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _lines(lines: Iterable[str]) -> list[str]:
    out = [line if len(line) <= DETAIL_LENGTH else line[:DETAIL_LENGTH - 3] + "..." for line in lines]
    return out[:DETAIL_LINES] + ([f"... and {len(out) - DETAIL_LINES} more"] if len(out) > DETAIL_LINES else [])


def _value(value: object) -> str:
    return json.dumps(value, default=str)


def from_fleet(report: FleetReport) -> list[Condition]:
    """Failure, per customer the run ran: its operation failed, or did not. A customer it did not run (a
    drift check of a stack never deployed, one listed but left alone) says nothing either way."""
    found = []
    for c in report.customers:
        if c.result not in RAN:
            continue
        failed = c.result == "failed"
        error = without_url_passwords(c.error) or ""
        found.append(Condition(kind="failure", subject=c.stack, active=failed, customer=c.customer,
                               environment=c.environment, platform=c.platform,
                               summary=f"fleet {c.operation} failed" if failed else f"fleet {c.operation}: {c.result}",
                               details=_lines(error.splitlines()[:5]) if failed else []))
    return found


def from_reviews(reviews: Sequence[StackReview], environments: dict[str, Optional[str]]) -> list[Condition]:
    """Failure and danger, per reviewed stack (a stack whose file is gone has no preview: danger only)."""
    found = []
    for r in reviews:
        where = dict(customer=r.customer, environment=environments.get(r.stack), platform=r.platform)
        if r.file_change is None:
            errors = [without_url_passwords(p.message) or "" for p in r.problems if p.severity == "error"]
            found.append(Condition(kind="failure", subject=r.stack, active=r.failed, **where,
                                   summary="review: the preview failed" if r.failed else "review: the preview ran",
                                   details=_lines(errors) if r.failed else []))
            if r.failed:
                continue  # a failed preview shows no plan: its dangers are unknown, not gone
        dangers = r.unacknowledged
        found.append(Condition(
            kind="danger", subject=r.stack, active=bool(dangers), **where,
            fingerprint=fingerprint(sorted((d.kind, d.resource) for d in dangers)),
            summary=("a dangerous change without its acknowledgement: " + ", ".join(sorted({d.kind for d in dangers})))
            if dangers else "no unacknowledged dangerous change",
            details=_lines(f"{d.kind}: {d.reason} (acknowledge with {d.acknowledge_with})" for d in dangers)))
    return found


def _drift_lines(row: CustomerStatus) -> list[str]:
    lines = []
    for d in row.drift.fields:
        d = d.masked()
        lines.append(f"{d.type} {d.resource}: gone" if d.field is None
                     else f"{d.type} {d.resource} {d.field}: {_value(d.recorded)} -> {_value(d.actual)}")
    if not row.drift.fields:  # after a refresh the state is the platform: the code's view still shows it
        for d in row.drift.differs_from_code:
            d = d.masked()
            lines.append(f"{d.type} {d.resource}: {d.op}" if d.field is None
                         else f"{d.type} {d.resource} {d.field}: code {_value(d.declared)}, "
                              f"platform {_value(d.actual)}")
    return lines


def parse_time(text: Optional[str]) -> Optional[datetime]:
    """An RFC 3339 time as the engine and the history write it (nanoseconds and `Z` included)."""
    if not text:
        return None
    text = text.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # at most microseconds for fromisoformat
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits):]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def from_status(rows: Sequence[CustomerStatus], thresholds: Thresholds, now: datetime) -> list[Condition]:
    """Drift, DNS pending too long and a lock held too long, per customer row of the status page."""
    found = []
    for row in rows:
        where = dict(subject=row.stack, customer=row.customer, environment=row.environment, platform=row.platform)
        drift_keys = sorted({(d.type, d.resource, d.field) for d in [*row.drift.fields, *row.drift.differs_from_code]},
                            key=str)
        drifted = row.drift.drifted
        found.append(Condition(kind="drift", active=drifted, fingerprint=fingerprint(drift_keys) if drifted else "",
                               summary=(f"drift: {len(drift_keys)} field(s) differ from the code"
                                        if drifted else "no drift"),
                               details=_lines(_drift_lines(row)) if drifted else [],
                               since=row.drift.checked_at, **where))
        since = parse_time(row.dns_pending_since)
        old_enough = since is None or now - since >= timedelta(days=thresholds.dns_pending_days)
        pending = bool(row.dns_pending) and old_enough
        if row.state == "recorded":
            found.append(Condition(
                kind="dns", active=pending, since=row.dns_pending_since, **where,
                fingerprint=fingerprint(sorted((r.name, r.type) for r in row.dns_pending)) if pending else "",
                summary=(f"DNS: {len(row.dns_pending)} record(s) not validated for "
                         f"{thresholds.dns_pending_days:g}+ day(s) (`email-partners dns {row.stack} --pending`)")
                if pending else "DNS records validated",
                details=_lines(f"{r.type} {r.name} ({r.purpose or r.domain})" for r in row.dns_pending)
                if pending else []))
        lock_since = parse_time(row.lock.since) if row.lock else None
        held = lock_since is not None and now - lock_since >= timedelta(minutes=thresholds.lock_held_minutes)
        found.append(Condition(
            kind="lock", active=held, since=row.lock.since if held else None, **where,
            fingerprint=fingerprint(row.lock.username, row.lock.hostname, row.lock.pid, row.lock.since) if held else "",
            summary=(f"locked for {thresholds.lock_held_minutes:g}+ minute(s) by {row.lock}: if that run is gone, "
                     f"`email-partners recover {row.stack}`") if held else "not locked"))
    return found


def from_shards(present: Sequence[str], missing: Sequence[str]) -> list[Condition]:
    """Shard K/N reported, or not (a merged report's shards)."""
    found = [Condition(kind="shard", subject=f"shard {k}", active=False, summary="reported") for k in present]
    found += [Condition(kind="shard", subject=f"shard {k}", active=True,
                        summary=f"shard {k} did not report: its customers were not checked in this run")
              for k in missing]
    return found
