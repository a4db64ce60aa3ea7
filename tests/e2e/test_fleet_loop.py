"""scripts/fleet-loop.sh end to end, as the CI files in docs/ call it: a project in a local git repository,
a file state backend, the emulator, the real engine, and a real HTTP receiver on loopback for the
notifications (a signed webhook and a Slack-compatible one).

One small fleet (two customers on Cakemail, one on Sign-Up.to, one on SendGrid) is deployed once.
Scheduled drift is told once across runs and its resolution once; a sink answering 500 leaves the result unchanged and is
reported; sharded drift's merge names a missing shard; a pull request's review honours its labels;
apply on merge applies only what a commit changed, and not an unacknowledged dangerous change. No
credential, password or API key is in any payload or output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import yaml

from providers.cakemail import CakemailClient
from providers.cakemail.models import PatchAccount

from ..conftest import Control
from ..receiver import Receiver
from ..vendors import fleet_partners, vendor
from .pulumi_cli import REPO, Result
from .test_fleet import FAST_RETRY, PASSPHRASE, Fleet, add_sendgrid_customer, cakemail_customer, signupto_customer

SECRET = "loop-webhook-secret-0123456789"
SLACK_PATH = "/services/T0LOOP/B0LOOP/slackUrlSecretPart"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=Merger", "-c", "user.email=merger@example.test", *args], cwd=root,
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def loop(tmp_path_factory, pulumi_bin, emulator):
    """Four customers deployed on a file backend, in a git repository whose main branch holds them."""
    control = Control(emulator.url)
    partners = fleet_partners(control, "loop")
    base = tmp_path_factory.mktemp("loop")
    (base / "state").mkdir()
    project = Fleet(base / "project", pulumi_bin, (base / "state").as_uri(), partners.env)
    project.add("bakery.loop", cakemail_customer("Loop Bakery"))
    project.add("florist.loop", cakemail_customer("Loop Florist"))
    project.add("books.loop", signupto_customer("Loop Books"))
    add_sendgrid_customer(project, "mail.loop", project.env, "loop")
    (project.root / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "fleet-loop.sh", project.root / "scripts" / "fleet-loop.sh")
    receiver = Receiver().__enter__()
    (project.root / "notifications.yaml").write_text(yaml.safe_dump({
        "status_page": {"env": "TEST_STATUS_URL"},
        "delivery": {"attempts": 2, "timeout_seconds": 5, "backoff_seconds": 0.1, "deadline_seconds": 15},
        "sinks": [{"name": "ops", "type": "webhook", "url": receiver.url + "/hook", "secret": {"env": "TEST_SECRET"}},
                  {"name": "chat", "type": "slack", "url": {"env": "TEST_SLACK_URL"}}]}, sort_keys=False))
    (project.root / ".gitignore").write_text("home/\nfleet-out/\n__pycache__/\n")
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "four customers")
    project.fleet("up", "--yes", "--parallel", "2", "--notify", "none", expect=0)
    project.control, project.receiver, project.partners = control, receiver, partners.of
    project.cakemail_api = CakemailClient(control.url + "/cakemail", partners.of["cakemail"]["username"],
                                          partners.of["cakemail"]["password"], retry=FAST_RETRY)
    project.outputs = []
    yield project
    receiver.__exit__(None, None, None)


def commit_change(project: Fleet, stack: str, change: Callable[[dict], object], message: str) -> None:
    """A customer's declaration edited in its stack file and committed, as a pull request would merge it."""
    path = project.root / "stacks" / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data["config"]["email-partners:customer"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    git(project.root, "commit", "-qam", message)


def loop_script(project: Fleet, *args: str, env: dict | None = None) -> Result:
    """`bash scripts/fleet-loop.sh ARGS` in the project, as a CI job runs it."""
    full = {**project.env, "EMAIL_PARTNERS": f"{sys.executable} -m operations", "FLEET_OUT": "fleet-out",
            "FLEET_PARALLEL": "2", "TEST_SECRET": SECRET, "TEST_SLACK_URL": project.receiver.url + SLACK_PATH,
            "TEST_STATUS_URL": "https://ci.example/run/7/status.html", **(env or {})}
    cmd = ["bash", str(project.root / "scripts" / "fleet-loop.sh"), *args]
    proc = subprocess.run(cmd, cwd=project.root, env=full, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    result = Result(cmd, proc.returncode, proc.stdout, proc.stderr)
    project.outputs.append(result.output)
    return result


def events(project: Fleet, since: int) -> list[tuple[str, str]]:
    """(type, subject) of every event the webhook received since the `since`-th message."""
    return [(e["type"], e["subject"]) for r in project.receiver.at("/hook")[since:] for e in r.json()["events"]]


def account_id(project: Fleet, name: str) -> str:
    (account,) = project.cakemail_api.accounts_named(name)
    return account.id


def assert_no_secret(project: Fleet, emulator) -> None:
    texts = [r.body.decode() + json.dumps(r.headers) for r in project.receiver.received] + project.outputs
    texts.append((project.root / "fleet-out" / "status.html").read_text())
    assert project.receiver.received
    for platform, partner in project.partners.items():
        assert vendor(platform).leaked(partner, emulator, *texts) == [], platform
    for secret in (SECRET, SLACK_PATH, "slackUrlSecretPart", PASSPHRASE, *vendor("sendgrid").SECRETS.values()):
        assert not any(secret in text for text in texts), secret


def test_scheduled_drift_is_told_once_and_its_resolution_once(loop, emulator):
    loop.cakemail_api.patch_account(account_id(loop, "Loop Bakery"), PatchAccount(name="Bakery Renamed"))
    seen, chats = len(loop.receiver.at("/hook")), len(loop.receiver.at(SLACK_PATH))

    first = loop_script(loop, "drift")
    assert first.returncode == 4, first.output
    assert events(loop, seen) == [("drift.found", "bakery.loop")], first.output
    hook = loop.receiver.at("/hook")[-1]
    body = hook.json()
    assert body["source"]["command"] == "fleet drift" and body["events"][0]["customer"] == "bakery"
    assert body["events"][0]["link"] == "https://ci.example/run/7/status.html#stack=bakery.loop"
    assert any('"Loop Bakery" -> "Bakery Renamed"' in line for line in body["events"][0]["details"])
    assert hook.headers["X-Email-Partners-Signature"].startswith("sha256=")
    chat = loop.receiver.at(SLACK_PATH)[chats:]
    assert len(chat) == 1 and "Drift found" in chat[0].json()["text"] and "*bakery*" in chat[0].json()["text"]
    page = (loop.root / "fleet-out" / "status.html").read_text()
    assert "bakery.loop" in page and "drift.found" in page  # the page shows the last notification sent

    second = loop_script(loop, "drift")
    assert second.returncode == 4 and events(loop, seen) == [("drift.found", "bakery.loop")], second.output

    loop.fleet("up", "--select", "bakery.loop", "--yes", "--notify", "none", expect=0)  # put back by hand
    third = loop_script(loop, "drift")
    assert third.returncode == 0, third.output
    assert events(loop, seen) == [("drift.found", "bakery.loop"), ("drift.resolved", "bakery.loop")]
    assert len(loop.receiver.at(SLACK_PATH)[chats:]) == 2
    assert_no_secret(loop, emulator)


def test_a_sink_answering_500_leaves_the_result_unchanged_and_is_reported(loop):
    florist = account_id(loop, "Loop Florist")
    loop.cakemail_api.patch_account(florist, PatchAccount(name="Florist Renamed"))
    loop.receiver.status = 500
    try:
        failing = loop_script(loop, "drift")
    finally:
        loop.receiver.status = 200
    assert failing.returncode == 4, failing.output  # drift found, as without any sink
    assert "ops: NOT delivered" in failing.stderr and "HTTP 500" in failing.stderr, failing.stderr
    listed = subprocess.run([sys.executable, "-m", "operations", "--project-dir", str(loop.root), "history",
                             "--notifications", "--format", "json"], env=loop.env, capture_output=True, text=True)
    newest = {d["sink"]: d for d in reversed(json.loads(listed.stdout)["notifications"])}
    assert newest["ops"]["delivered"] is False and "HTTP 500" in newest["ops"]["error"]
    seen = len(loop.receiver.at("/hook"))
    told = loop_script(loop, "drift")  # the sink answers again: told now, since it was not before
    assert told.returncode == 4 and events(loop, seen) == [("drift.found", "florist.loop")], told.output
    loop.cakemail_api.patch_account(florist, PatchAccount(name="Loop Florist"))


def test_sharded_drift_is_merged_and_a_missing_shard_told(loop):
    out = loop.root / "fleet-out"
    for old in out.glob("shard-*.json"):
        old.unlink()
    seen = len(loop.receiver.received)
    for shard in ("1/2", "2/2"):
        result = loop_script(loop, "drift-shard", shard)
        assert result.returncode == 0, result.output  # drift (4) is the merge's verdict to give
    assert len(loop.receiver.received) == seen  # a shard tells no one
    (out / "shard-2.json").rename(loop.root / "shard-2.json")
    merged = loop_script(loop, "drift-report")
    assert merged.returncode == 1 and "no report for shard(s) 2/2" in merged.output, merged.output
    hook = len(loop.receiver.at("/hook"))
    assert ("shard.missing", "shard 2/2") in events(loop, hook - 1)
    (loop.root / "shard-2.json").rename(out / "shard-2.json")
    again = loop_script(loop, "drift-report")
    assert again.returncode in (0, 4), again.output
    assert ("shard.reported", "shard 2/2") in events(loop, hook)
    assert json.loads((out / "drift.json").read_text())["missing_shards"] == []


def test_a_pull_requests_review_honours_its_labels(loop):
    git(loop.root, "checkout", "-q", "-b", "suspend-books")
    try:
        commit_change(loop, "florist.loop", lambda c: c["account"].update(suspended=True), "suspend the florist")
        seen = len(loop.receiver.at("/hook"))
        dangerous = loop_script(loop, "review", env={"FLEET_BASE": "main", "FLEET_LABELS": "bug"})
        assert dangerous.returncode == 3, dangerous.output
        assert "florist.loop" in dangerous.stdout and "account-suspended" in dangerous.stdout
        assert (loop.root / "fleet-out" / "review.md").read_text() in dangerous.stdout
        assert events(loop, seen) == [("review.dangerous", "florist.loop")]
        accepted = loop_script(loop, "review", env={"FLEET_BASE": "main",
                                                    "FLEET_LABELS": "bug,\nacknowledge:account-suspended"})
        assert accepted.returncode == 0, accepted.output
        assert events(loop, seen) == [("review.dangerous", "florist.loop"), ("review.cleared", "florist.loop")]
    finally:
        git(loop.root, "checkout", "-q", "main")


def updates(project: Fleet, stack: str) -> int:
    history = json.loads(project.pulumi("stack", "history", "--stack", stack, "--json").stdout)
    return sum(1 for h in history if h["kind"] == "update")


def test_apply_on_merge_applies_what_a_commit_changed_and_not_an_unacknowledged_danger(loop, emulator):
    stacks = ["bakery.loop", "books.loop", "florist.loop", "mail.loop"]
    before = {s: updates(loop, s) for s in stacks}

    # A commit that edits one customer: applied, and only that customer goes through the engine.
    commit_change(loop, "bakery.loop", lambda c: c["features"].update(per_month=30000), "bakery: 30000 a month")
    applied = loop_script(loop, "apply")
    assert applied.returncode == 0, applied.output
    after = {s: updates(loop, s) for s in stacks}
    assert after == {**before, "bakery.loop": before["bakery.loop"] + 1}, applied.output
    account = loop.cakemail_api.get_account(account_id(loop, "Loop Bakery"))
    assert account.usage_limits.get("per_month") == 30000
    report = json.loads((loop.root / "fleet-out" / "apply.json").read_text())
    ran = [c["stack"] for c in report["customers"] if c["result"] in ("changes", "no changes", "failed")]
    assert ran == ["bakery.loop"], report

    # A commit with a dangerous change no reviewer acknowledged: not applied, and it says why.
    commit_change(loop, "florist.loop", lambda c: c["account"].update(suspended=True), "suspend the florist")
    seen = len(loop.receiver.at("/hook"))
    held = loop_script(loop, "apply", env={"FLEET_LABELS": "bug"})
    assert held.returncode == 3, held.output
    assert "NOT APPLIED" in held.stderr and "acknowledge:KIND" in held.stderr and "account-suspended" in held.stdout
    assert {s: updates(loop, s) for s in stacks} == after
    assert not loop.cakemail_api.get_account(account_id(loop, "Loop Florist")).suspended
    assert ("review.dangerous", "florist.loop") in events(loop, seen)

    # The label added to the merged pull request, the job run again: applied.
    acknowledged = loop_script(loop, "apply", env={"FLEET_LABELS": "acknowledge:account-suspended"})
    assert acknowledged.returncode == 0, acknowledged.output
    assert loop.cakemail_api.get_account(account_id(loop, "Loop Florist")).suspended
    assert_no_secret(loop, emulator)
