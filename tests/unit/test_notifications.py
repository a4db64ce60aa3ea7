"""Notifications against a real HTTP receiver on loopback, the run history on SQLite: signed bodies the
README's snippet verifies, once per change of state across runs, one digest for 300 customers, a sink
that fails or never answers reported within a bounded time, and nothing secret in any payload."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import yaml

from operations.differences import FieldDrift
from operations.history.runs import store_for
from operations.notifications.conditions import Condition, from_status
from operations.notifications.config import Delivery, NotificationsError, Thresholds, plan
from operations.notifications.delivery import Outgoing, deliver
from operations.notifications.message import Source
from operations.notifications.notify import notify
from operations.notifications.store import last_per_sink, recent
from operations.status.data import CustomerStatus, DnsRecord, DriftView

from ..receiver import Receiver

REPO = Path(__file__).resolve().parents[2]
SECRET = "whsec-test-0123456789abcdef"          # the webhook's shared secret: never in a payload
SLACK_PATH = "/services/T000/B000/XoXoSecretPart"  # a Slack URL's path is its credential
SOURCE = Source(command="fleet drift", project="email-partners", run_at="2026-12-02T03:00:00+00:00")
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)


def readme_verify():
    """The README's verification snippet, as a receiver would paste it."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"<!-- readme-snippet: verify-webhook -->\n```python\n(.*?)```", text, re.S)
    assert block, "README: the verify-webhook snippet is missing"
    scope: dict = {}
    exec(compile(block.group(1), "README.md:verify-webhook", "exec"), scope)
    return scope["verify"]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project whose history is a file backend's SQLite (as a team's file backend keeps it)."""
    (tmp_path / "Pulumi.yaml").write_text("name: email-partners\nruntime: python\n")
    (tmp_path / "state").mkdir()
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "state").as_uri())
    return tmp_path


def settings(project: Path, receiver: Receiver, **extra) -> None:
    document = {"status_page": "https://ci.example/status.html",
                "delivery": {"attempts": 2, "timeout_seconds": 2, "backoff_seconds": 0.1, "deadline_seconds": 8},
                "sinks": [{"name": "ops", "type": "webhook", "url": receiver.url + "/hook",
                           "secret": {"env": "TEST_WEBHOOK_SECRET"}},
                          {"name": "chat", "type": "slack", "url": {"env": "TEST_SLACK_URL"}}], **extra}
    (project / "notifications.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def environ(receiver: Receiver) -> dict[str, str]:
    import os

    return {**os.environ, "TEST_WEBHOOK_SECRET": SECRET, "TEST_SLACK_URL": receiver.url + SLACK_PATH}


def row(stack: str, drift: list[FieldDrift] = (), repaired: bool = False, **fields) -> CustomerStatus:
    customer, _, environment = stack.partition(".")
    view = DriftView(checked_at="2026-12-02T03:00:00+00:00", checked_by="drift", fields=list(drift),
                     repaired_at="2026-12-02T04:00:00+00:00" if repaired else None)
    return CustomerStatus(stack=stack, customer=customer, environment=environment, platform="cakemail",
                          state="recorded", drift=view, **fields)


RENAMED = FieldDrift(type="SubAccount", resource="acme.production-account", field="name", recorded="Acme",
                     actual="Acme Renamed")
PASSWORD = FieldDrift(type="SubAccount", resource="acme.production-account", field="password",
                      recorded="old-secret-value", actual="new-secret-value")


def run(project: Path, receiver: Receiver, rows: list[CustomerStatus], **options):
    the_plan = plan(project, [], environ(receiver))
    observed = from_status(rows, the_plan.settings.thresholds, NOW)
    return notify(the_plan, observed, SOURCE, environ(receiver), **options)


def test_the_signature_verifies_with_the_shared_secret_and_fails_with_another(project):
    verify = readme_verify()
    with Receiver() as receiver:
        settings(project, receiver)
        outcome = run(project, receiver, [row("acme.production", [RENAMED])])
        (hook,) = receiver.at("/hook")
    assert [s.attempted.delivered for s in outcome.sent] == [True, True], outcome.lines()
    assert verify(SECRET, hook.headers, hook.body)
    assert not verify("another-secret", hook.headers, hook.body)
    assert not verify(SECRET, hook.headers, hook.body.replace(b"Renamed", b"Renamer"))  # a changed body
    old = {**hook.headers, "X-Email-Partners-Timestamp": str(int(time.time()) - 3600)}
    assert not verify(SECRET, old, hook.body)  # a replay an hour later
    body = hook.json()
    assert body["version"] == 1 and body["delivery"] == hook.headers["X-Email-Partners-Delivery"]
    assert hook.headers["X-Email-Partners-Event"] == "drift.found"
    (event,) = body["events"]
    assert event["type"] == "drift.found" and event["subject"] == "acme.production" and event["transition"] == "new"
    assert event["link"] == "https://ci.example/status.html#stack=acme.production"
    assert event["details"] == ['SubAccount acme.production-account name: "Acme" -> "Acme Renamed"']


def test_a_drift_is_announced_once_across_three_runs_and_its_resolution_once(project):
    with Receiver() as receiver:
        settings(project, receiver)
        first = run(project, receiver, [row("acme.production", [RENAMED]), row("shop.production")])
        second = run(project, receiver, [row("acme.production", [RENAMED]), row("shop.production")])
        third = run(project, receiver, [row("acme.production", [RENAMED], repaired=True), row("shop.production")])
        fourth = run(project, receiver, [row("acme.production"), row("shop.production")])
        hooks, chats = receiver.at("/hook"), receiver.at(SLACK_PATH)
    assert [len(o.sent) for o in (first, second, third, fourth)] == [2, 0, 2, 0]
    assert [[e["type"] for e in h.json()["events"]] for h in hooks] == [["drift.found"], ["drift.resolved"]]
    assert len(chats) == 2
    text = chats[0].json()["text"]
    assert "Drift found" in text and "*acme*" in text and "Acme Renamed" in text
    assert "<https://ci.example/status.html#stack=acme.production|status>" in text
    assert "Drift resolved" in chats[1].json()["text"]
    # Other fields drift: a change of state, told once more.
    other = FieldDrift(type="AccountFeatures", resource="acme.production-features", field="per_month",
                       recorded=100, actual=5)
    with Receiver() as receiver:
        settings(project, receiver)
        run(project, receiver, [row("acme.production", [RENAMED])])
        run(project, receiver, [row("acme.production", [RENAMED, other])])
        assert [h.json()["events"][0]["type"] for h in receiver.at("/hook")] == ["drift.found", "drift.changed"]


def test_300_customers_drifting_at_once_give_one_digest(project):
    rows = [row(f"shop-{i:03d}.production", [RENAMED]) for i in range(300)]
    with Receiver() as receiver:
        settings(project, receiver)
        outcome = run(project, receiver, rows)
        hooks, chats = receiver.at("/hook"), receiver.at(SLACK_PATH)
    assert len(hooks) == 1 and len(chats) == 1, outcome.lines()
    body = hooks[0].json()
    assert body["digest"] is True and body["counts"] == {"drift.found": 300} and len(body["events"]) == 300
    text = chats[0].json()["text"]
    assert "300 changes of state (digest)" in text and "Drift found: 300" in text and "and 290 more" in text
    assert len(text.splitlines()) < 10
    assert all(s.digest for s in outcome.sent) and "as a digest" in " ".join(outcome.lines())


def test_a_backend_copy_carries_what_each_sink_was_told(project, tmp_path):
    """`backend copy` moves the notifications with the runs: on the team's new store the next run knows
    what each sink was told (nothing is announced twice), and a copy run again adds nothing."""
    from operations.history.store import HistoryStore, Location
    from operations.notifications.store import copy_deliveries, last_told

    with Receiver() as receiver:
        settings(project, receiver)
        run(project, receiver, [row("acme.production", [RENAMED])])
    source, target = store_for(), HistoryStore(Location("sqlite", str(tmp_path / "team.sqlite")))
    assert copy_deliveries(source, target) == 2 and copy_deliveries(source, target) == 0
    assert last_per_sink(target) == last_per_sink(source) and len(last_per_sink(target)) == 2
    told = last_told(target, ["ops", "chat"], ["acme.production"])
    assert told == last_told(source, ["ops", "chat"], ["acme.production"]) and all(told.values())


def test_a_sink_answering_500_is_retried_reported_recorded_and_told_again_next_run(project):
    with Receiver(status=500) as failing:
        settings(project, failing)
        outcome = run(project, failing, [row("acme.production", [RENAMED])])
        assert len(failing.at("/hook")) == 2  # attempts: 2
    ops = next(s for s in outcome.sent if s.sink == "ops")
    assert not ops.attempted.delivered and "HTTP 500 after 2 attempt(s)" in ops.attempted.error
    assert any("ops: NOT delivered" in line and "unchanged" in line for line in outcome.lines())
    (last,) = [d for d in last_per_sink(store_for()) if d.sink == "ops"]
    assert not last.delivered and last.attempts == 2 and "HTTP 500" in last.error
    assert [d.delivered for d in recent(store_for(), 10)] == [False, False]  # the Slack sink is the same server
    with Receiver() as receiver:  # the next run: not told yet, so told now
        settings(project, receiver)
        run(project, receiver, [row("acme.production", [RENAMED])])
        assert [h.json()["events"][0]["type"] for h in receiver.at("/hook")] == ["drift.found"]


def test_a_sink_that_never_answers_is_given_up_within_its_deadline(project):
    with Receiver(hang=True) as silent:
        settings(project, silent, delivery={"attempts": 5, "timeout_seconds": 1, "backoff_seconds": 0.2,
                                            "deadline_seconds": 3})
        started = time.monotonic()
        outcome = run(project, silent, [row("acme.production", [RENAMED])])
        took = time.monotonic() - started
    assert took < 30, took  # bounded: the deadline (3 s) for both sinks at once, with room for a loaded machine
    for sink in outcome.sent:
        assert not sink.attempted.delivered and "no answer within" in sink.attempted.error


class FakeTime:
    def __init__(self):
        self.now, self.slept = 0.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class TimingOut:
    """A session whose every request times out after the attempt's whole timeout."""

    def __init__(self, time_: FakeTime):
        self.time, self.timeouts = time_, []

    def post(self, url, data, timeout, **kwargs):
        self.timeouts.append(timeout)
        self.time.now += timeout
        raise requests.Timeout("read timed out")


def test_the_deadline_bounds_attempts_backoff_and_each_attempts_timeout():
    """With an injected clock: 10 attempts of 5 s allowed, but 8 s in all."""
    fake = FakeTime()
    session = TimingOut(fake)
    policy = Delivery(attempts=10, timeout_seconds=5, backoff_seconds=1, deadline_seconds=8)
    result = deliver(Outgoing("ops", "http://127.0.0.1:9/hook", b"{}", lambda: {}), policy, clock=fake.clock,
                     sleep=fake.sleep, session=session)
    assert not result.delivered and result.seconds <= 8 and result.attempts == 2
    assert session.timeouts[0] == 5 and 2 <= session.timeouts[1] <= 2.5  # the second only had what was left
    assert 0.5 <= fake.slept[0] <= 1  # the backoff, with jitter
    assert "no answer within" in result.error and "deadline of 8 s reached" in result.error


def test_no_secret_in_any_payload(project):
    dns = [DnsRecord(domain="news.acme.example", name="x._domainkey.news.acme.example", type="TXT", value="v=DKIM1")]
    rows = [row("acme.production", [RENAMED, PASSWORD], dns_pending=dns,
                dns_pending_since=(NOW - timedelta(days=9)).isoformat())]
    with Receiver() as receiver:
        settings(project, receiver)
        run(project, receiver, rows)
        payloads = [r.body.decode() + json.dumps({k: v for k, v in r.headers.items()}) for r in receiver.received]
    assert len(payloads) == 2
    for text in payloads:
        for secret in (SECRET, SLACK_PATH, "XoXoSecretPart", "old-secret-value", "new-secret-value"):
            assert secret not in text
    [webhook] = [p for p in payloads if not p.startswith('{"text"')]  # not Slack's: the sinks are sent to at once
    assert "[secret]" in webhook and "dns.pending" in webhook


def test_dns_and_lock_conditions_wait_for_their_thresholds():
    dns = [DnsRecord(domain="d.example", name="d.example", type="TXT", value="x")]
    young = row("a.production", dns_pending=dns, dns_pending_since=(NOW - timedelta(days=1)).isoformat())
    old = row("b.production", dns_pending=dns, dns_pending_since=(NOW - timedelta(days=4)).isoformat())
    found = {(c.kind, c.subject): c.active for c in from_status([young, old], Thresholds(), NOW)}
    assert found[("dns", "a.production")] is False and found[("dns", "b.production")] is True
    from operations.backend.locks import Lock

    locked = row("c.production", lock=Lock(username="ci", hostname="runner", pid=7,
                                            since="2026-12-02T01:30:00.123456789Z"))
    (lock,) = [c for c in from_status([locked], Thresholds(lock_held_minutes=60), NOW) if c.kind == "lock"]
    assert lock.active and "email-partners recover c.production" in lock.summary


def test_failure_is_announced_once_and_its_recovery_once(project):
    def failure(active: bool) -> Condition:
        return Condition(kind="failure", subject="acme.production", active=active, customer="acme",
                         summary="fleet up failed" if active else "fleet up: changes")

    with Receiver() as receiver:
        settings(project, receiver, sinks=[{"name": "ops", "type": "webhook", "url": receiver.url + "/hook",
                                            "secret": {"env": "TEST_WEBHOOK_SECRET"}, "events": ["failure"]}])
        the_plan = plan(project, [], environ(receiver))
        for active in (True, True, False, False):
            notify(the_plan, [failure(active)], SOURCE, environ(receiver))
        assert [h.json()["events"][0]["type"] for h in receiver.at("/hook")] == ["run.failed", "run.recovered"]


def test_the_file_and_notify_are_checked_before_anything_runs(project, monkeypatch):
    def write(document):
        (project / "notifications.yaml").write_text(yaml.safe_dump(document))

    write({"sinks": [{"name": "chat", "type": "slack", "url": "https://hooks.example/services/x"}]})
    with pytest.raises(NotificationsError, match="credential: name its variable"):
        plan(project, [], {})
    write({"sinks": [{"name": "ops", "type": "webhook", "url": "https://ops.example/h"}]})
    with pytest.raises(NotificationsError, match="needs secret"):
        plan(project, [], {})
    write({"sinks": [{"name": "ops", "type": "webhook", "url": "https://ops.example/h", "secret": "clear-text"}]})
    with pytest.raises(NotificationsError, match="secret"):
        plan(project, [], {})
    write({"sinks": [{"name": "ops", "type": "webhook", "url": "https://ops.example/h", "secret": {"env": "S"}}],
           "colour": "red"})
    with pytest.raises(NotificationsError, match="colour"):
        plan(project, [], {})
    write({"sinks": [{"name": "ops", "type": "webhook", "url": "https://ops.example/h", "secret": {"env": "S"}}]})
    assert plan(project, [], {}).skipped == ["sink ops: S not set: skipped"]  # all: skipped, saying so
    with pytest.raises(NotificationsError, match="S not set"):
        plan(project, ["ops"], {})  # named: must be ready
    with pytest.raises(NotificationsError, match="no such sink"):
        plan(project, ["nope"], {"S": "x"})
    assert not plan(project, ["none"], {"S": "x"}).active
    assert [s.name for s in plan(project, ["ops"], {"S": "x"}).sinks] == ["ops"]
    assert repr(plan(project, [], {"S": "the-secret"}).sinks[0]).count("the-secret") == 0


def test_migrations_are_applied_when_versions_are_not_contiguous(tmp_path, monkeypatch):
    """Each branch of work adds its own migration: a store that has 1 and the newest still gets those between."""
    import sqlite3

    import operations.history.store as module
    from operations.history.store import MIGRATIONS, SCHEMA_TABLE, HistoryStore, Location

    store = HistoryStore(Location("sqlite", str(tmp_path / "h.sqlite")))
    monkeypatch.setattr(module, "MIGRATIONS", MIGRATIONS[:1])  # an older tool: version 1 only
    monkeypatch.setattr(module, "SCHEMA_VERSION", 1)
    with store.transaction(create=True):
        pass
    assert store.schema_version() == 1 and last_per_sink(store) == []  # no notifications table yet: none read
    newest = max(MIGRATIONS, key=lambda m: m.version)
    monkeypatch.setattr(module, "MIGRATIONS", (MIGRATIONS[0], newest))  # versions 1 and the newest: a gap between
    monkeypatch.setattr(module, "SCHEMA_VERSION", newest.version)
    with store.transaction(create=True):
        pass
    monkeypatch.setattr(module, "MIGRATIONS", MIGRATIONS)  # every one: those in the gap are applied
    with store.transaction(create=True):
        pass
    with sqlite3.connect(store.location.target) as conn:
        versions = [v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA_TABLE} ORDER BY version")]
        assert versions == sorted(m.version for m in MIGRATIONS) and len(versions) > 2


def test_the_readmes_example_and_the_projects_template_are_valid_files():
    from operations.notifications.config import NotificationsFile

    readme = (REPO / "README.md").read_text().split("### Notifications", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    assert [s.name for s in NotificationsFile.model_validate(yaml.safe_load(example)).sinks] == ["team-chat", "ops"]
    template = (REPO / "notifications.yaml").read_text()
    assert NotificationsFile.model_validate(yaml.safe_load(template) or {}).sinks == []  # all commented out
    settings_lines = [line[2:] for line in template.splitlines() if re.match(r"# ( |[a-z_]+:)", line)
                      and not line.startswith("# Where")]
    uncommented = NotificationsFile.model_validate(yaml.safe_load("\n".join(settings_lines)))
    assert [s.name for s in uncommented.sinks] == ["team-chat", "ops"]


def test_a_runs_failures_speak_only_for_the_customers_it_ran():
    from operations.fleet.models import CustomerResult, FleetReport
    from operations.notifications.conditions import from_fleet

    def result(stack: str, outcome: str, error: str | None = None) -> CustomerResult:
        return CustomerResult(stack=stack, customer=stack.split(".")[0], platform="cakemail", environment="production",
                              operation="up", result=outcome, error=error)

    report = FleetReport(operation="up", started_at="2026-12-02T03:00:00+00:00", duration_seconds=1, parallel=2,
                         exit_status=1, customers=[
                             result("a.production", "failed", "cannot reach postgres://team:s3cret@db.example/x"),
                             result("b.production", "changes"), result("c.production", "not deployed")])
    found = {c.subject: c for c in from_fleet(report)}
    assert set(found) == {"a.production", "b.production"}  # c ran nothing: it says nothing
    assert found["a.production"].active and not found["b.production"].active
    assert found["a.production"].details == ["cannot reach postgres://team:***@db.example/x"]
