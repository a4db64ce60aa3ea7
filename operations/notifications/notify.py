"""After a run: what is new for each sink, sent at once, recorded in the run history.

A command plans the notifications before its run (config.plan: a wrong notifications.yaml or --notify
stops it before anything runs) and calls `after_fleet` or `after_review` once the run is done. Whatever
the sinks do, this never changes the run's result or exit status: a sink that fails is reported (the
outcome's lines, for the command's output, and a row in the history) within its bounded delivery
time, and its events are sent again by the next run. When the history cannot be read, nothing is
sent (what is new cannot be told) and the outcome says so.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from ..errors import ToolError
from ..fleet.models import FleetReport
from ..history.model import actor, git_commit, now_utc
from ..history.runs import store_for
from ..project.stacks import customer_stacks, project_name, split_stack_name
from ..review.models import StackReview
from ..status.read import read_status
from .conditions import Condition, from_fleet, from_reviews, from_shards, from_status
from .config import NotificationPlan, ReadySink
from .decide import Event, decide
from .delivery import Attempted, Outgoing, deliver_all
from .message import Source, slack_body, webhook_body
from .signing import DELIVERY_HEADER, EVENT_HEADER, signed_headers
from .store import last_told, record


@dataclass
class SinkOutcome:
    sink: str
    events: int
    digest: bool
    attempted: Attempted
    recorded: bool = True


@dataclass
class NotificationOutcome:
    """What the run's notifications did: per sink that had news, and notes (skipped sinks, problems)."""

    sent: list[SinkOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SinkOutcome]:
        return [s for s in self.sent if not s.attempted.delivered]

    def lines(self) -> list[str]:
        out = [f"notifications: {note}" for note in self.notes]
        for s in self.sent:
            what = f"{s.events} event(s){' as a digest' if s.digest else ''}"
            a = s.attempted
            if a.delivered:
                out.append(f"notifications: {s.sink}: {what} delivered ({a.attempts} attempt(s), {a.seconds:g} s)")
            else:
                out.append(f"notifications: {s.sink}: NOT delivered ({what}): {a.error}, {a.seconds:g} s; "
                           f"the run's result is unchanged and the next run sends them again")
            if not s.recorded:
                out.append(f"notifications: {s.sink}: the delivery could not be recorded in the run history")
        return out


def _message(sink: ReadySink, plan: NotificationPlan, events: Sequence[Event], source: Source, delivery: str,
             sent_at: str, clock: Callable[[], float]) -> Outgoing:
    digest_over = plan.settings.digest_over
    if sink.type == "slack":
        return Outgoing(sink.name, sink.url, slack_body(events, source, plan.status_page, digest_over), lambda: {})
    body = webhook_body(delivery, sent_at, source, events, plan.status_page, digest_over)
    kinds = ",".join(sorted({e.type for e in events}))
    secret = sink.secret or ""
    return Outgoing(sink.name, sink.url, body, lambda: {DELIVERY_HEADER: delivery, EVENT_HEADER: kinds,
                                                        **signed_headers(secret, int(clock()), body)})


def notify(plan: NotificationPlan, observed: Sequence[Condition], source: Source,
           env: Optional[Mapping[str, str]] = None, wall_clock: Callable[[], float] = time.time,
           **delivery_options) -> NotificationOutcome:
    """Decide, send and record, per sink ready in `plan`. `wall_clock` (Unix seconds) signs the bodies;
    `delivery_options` (clock, sleep, session) go to delivery.deliver."""
    outcome = NotificationOutcome(notes=list(plan.skipped))
    if not plan.active or not observed:
        return outcome
    store = store_for(env)
    try:
        told = last_told(store, [s.name for s in plan.sinks], sorted({c.subject for c in observed}))
    except ToolError as exc:
        outcome.notes.append(f"nothing sent: the run history, which tells what is new, cannot be read: {exc}")
        return outcome
    sent_at = now_utc()
    batches = []
    for sink in plan.sinks:
        events = decide(observed, told[sink.name], sink.events, plan.status_page)
        if events:
            delivery = uuid.uuid4().hex
            message = _message(sink, plan, events, source, delivery, sent_at, wall_clock)
            batches.append((sink, delivery, events, message))
    results = deliver_all([message for *_, message in batches], plan.settings.delivery, **delivery_options)
    for (sink, delivery, events, _), attempted in zip(batches, results):
        item = SinkOutcome(sink.name, len(events), len(events) > plan.settings.digest_over, attempted)
        try:
            record(store, delivery, sent_at, sink.name, source.command, events, attempted.delivered,
                   attempted.attempts, attempted.error)
        except (ToolError, OSError):
            item.recorded = False
        outcome.sent.append(item)
    return outcome


def source_of(command: str, project_dir: Path, run_at: str, env: Mapping[str, str]) -> Source:
    return Source(command=command, project=project_name(project_dir), run_at=run_at,
                  commit=git_commit(project_dir, env), actor=actor(env))


def after_fleet(plan: NotificationPlan, report: FleetReport, project_dir: Path, env: Mapping[str, str],
                shards: Sequence[str] = (), now: Optional[datetime] = None, **options) -> NotificationOutcome:
    """A fleet operation's (or a merged report's: `shards`, the shards it has) notifications."""
    if not plan.active:
        return NotificationOutcome(notes=list(plan.skipped))
    observed, notes = from_fleet(report), []
    names = {c.stack for c in report.customers}
    try:
        stacks = [s for s in customer_stacks(project_dir) if s.name in names]
        page = read_status(project_dir, stacks, env)
        observed += from_status(page.customers, plan.settings.thresholds, now or datetime.now(timezone.utc))
    except ToolError as exc:
        notes.append(f"drift, DNS and locks not judged (only failures): {exc}")
    if shards or report.missing_shards:
        observed += from_shards(shards, report.missing_shards)
    command = "fleet report" if report.missing_shards or shards else f"fleet {report.operation}"
    outcome = notify(plan, observed, source_of(command, project_dir, report.started_at, env), env, **options)
    outcome.notes[:0] = notes
    return outcome


def after_review(plan: NotificationPlan, reviews: Sequence[StackReview], project_dir: Path, env: Mapping[str, str],
                 run_at: Optional[str] = None, **options) -> NotificationOutcome:
    """A review's notifications: a failed preview, a dangerous change no reviewer acknowledged."""
    if not plan.active:
        return NotificationOutcome(notes=list(plan.skipped))
    try:
        environments = {s.name: s.environment for s in customer_stacks(project_dir)}
    except ToolError:
        environments = {}
    for review in reviews:
        environments.setdefault(review.stack, split_stack_name(review.stack)[1])
    observed = from_reviews(reviews, environments)
    return notify(plan, observed, source_of("review", project_dir, run_at or now_utc(), env), env, **options)
