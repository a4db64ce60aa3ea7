"""`fleet drift`'s one-pass sweep on a fleet written as a real `up` writes it (benchmarks/drift_fleet_maker.py):
a vendor rate-limiting a share of the reads, state the sweep cannot or must not read, `--confirm`.

The agreement with the engine, field by field, is checked on the PostgreSQL fleet (test_fleet.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from benchmarks.drift_fleet_maker import DriftFleet
from providers.cakemail import CakemailClient
from providers.cakemail.models import PatchAccount
from providers.sendgrid.models import CreditsRequest

from ..conftest import Control
from ..vendors import partner_from_environment, vendor
from .test_fleet import add_sendgrid_customer, code_facts, verdicts

PREVIOUS_RELEASE = Path(__file__).parent / "programs" / "previous_release"  # stacks/*.py at 778eaeb
BUDGET = {"concurrency": 2, "per_second": 40}
RETRY_AFTER = 0.4
HOLD_GRACE = 0.1  # seconds for the client to read a 429 after the server sent it (see its use)


@pytest.fixture(scope="module")
def drift_fleet(tmp_path_factory, pulumi_bin, emulator):
    control = Control(emulator.url)
    fleet = DriftFleet(tmp_path_factory.mktemp("drift-sweep") / "project", emulator.url, control, pulumi_bin)
    fleet.use_program(PREVIOUS_RELEASE)  # the templates' state is written by the program as it was
    fleet.make_templates()
    fleet.use_program()
    fleet.add_customers(15)
    (fleet.root / "stacks" / "environments").mkdir()
    (fleet.root / "stacks" / "environments" / "bench.yaml").write_text(yaml.safe_dump(
        {"providers": {}, "request_budgets": {p: BUDGET for p in ("cakemail", "signupto", "ciirus")}}))
    fleet.control = control
    return fleet


def drift(fleet: DriftFleet, *args: str, expect: int, env: dict | None = None) -> dict:
    out = fleet.root / f"report-{time.monotonic_ns()}.json"
    proc = subprocess.run([sys.executable, "-m", "operations", "--project-dir", str(fleet.root), "fleet", "drift",
                           *args, "--json", str(out)], env={**fleet.env, **(env or {})}, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == expect, f"exit {proc.returncode}, expected {expect}:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    report["text"] = proc.stdout + proc.stderr
    return report


def test_the_program_is_unchanged_and_written_state_is_the_state_up_writes(drift_fleet):
    """State written by the program before its composition became data previews with no change under
    the current one; so does a sample of the written customers (what the benchmark relies on)."""
    templates = [s for s in drift_fleet.stacks if s.startswith("tpl-")]
    written = [next(s for s in drift_fleet.stacks if not s.startswith("tpl-") and drift_fleet.platform_of[s] == p)
               for p in ("cakemail", "signupto", "ciirus")]
    summaries = drift_fleet.previews_clean(templates + written)
    assert {stack: set(summary) for stack, summary in summaries.items()} == {s: {"same"} for s in templates + written}


def _when(entry: dict) -> tuple[float, float]:
    """(start, end) of a logged request, in seconds (the log keeps the end time and the duration)."""
    end = datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
    return end - (entry["duration_ms"] or 0) / 1000, end


def test_rate_limited_reads_complete_within_the_budget_and_after_every_retry_after(drift_fleet):
    control = drift_fleet.control
    control.fault("^/(cakemail|signupto|ciirus)/", method="GET", status=429, retry_after=RETRY_AFTER, share=0.3,
                  count=1000)
    control.fault("^/(cakemail|signupto|ciirus)/", latency_ms=30, count=100_000)
    before = control.last_request_id()
    try:
        report = drift(drift_fleet, expect=0)
    finally:
        control.clear_faults()
    assert {c["result"] for c in report["customers"]} == {"no changes"}, report["text"]
    served = control.requests(since_id=before)
    assert {r["method"] for r in served if not r["path"].endswith("/token")} == {"GET"}  # reads only
    refused = [r for r in served if r["status"] == 429]
    assert refused, "the share fault never hit: the test would prove nothing"
    for vendor in ("cakemail", "signupto", "ciirus"):
        log = [_when(r) + (r["status"],) for r in served if r["vendor"] == vendor]
        # Concurrency: at no moment more requests in the vendor's hands than the budget allows
        # (intervals shrunk by the log's 1 ms resolution).
        edges = sorted([(s + 0.001, 1) for s, e, _ in log] + [(e - 0.001, -1) for s, e, _ in log])
        level = peak = 0
        for _, step in edges:
            level += step
            peak = max(peak, level)
        assert peak <= BUDGET["concurrency"], (vendor, peak)
        # Retry-After: once the client has the 429, no request of that vendor leaves before it allows.
        # The server sees at most the ones already let through (the budget's other slots), however late.
        # The server's clock says when it answered, not when the client read the answer: a client
        # thread can wait its turn for a core a while on a loaded machine, and the requests started
        # meanwhile were rightly let through. So the window opens HOLD_GRACE after the answer
        # (the exact property, with an injected clock: tests/clients/test_request_budget.py).
        for _, answered, status in log:
            if status != 429:
                continue
            early = [s for s, _, _ in log if answered + HOLD_GRACE < s < answered + RETRY_AFTER - 0.005]
            assert len(early) <= BUDGET["concurrency"] - 1, (vendor, answered, early)


def test_a_failing_vendor_fails_its_customers_only(drift_fleet):
    control = drift_fleet.control
    control.fault("^/signupto/", status=503, retry_after=0, count=10_000)
    try:
        report = drift(drift_fleet, expect=1)
    finally:
        control.clear_faults()
    by_platform: dict[str, set] = {}
    for c in report["customers"]:
        by_platform.setdefault(c["platform"], set()).add(c["result"])
    assert by_platform == {"signupto": {"failed"}, "cakemail": {"no changes"}, "ciirus": {"no changes"}}
    failed = [c for c in report["customers"] if c["result"] == "failed"]
    assert all("signupto GET /v1/" in c["error"] and "HTTP 503" in c["error"] for c in failed), failed[0]["error"]
    assert any("the bulk listing failed" in note for note in report["notes"])


def test_state_the_sweep_cannot_read_never_deployed_and_an_unreachable_backend(drift_fleet):
    fleet = drift_fleet
    odd = fleet.stacks[3]
    path = fleet.checkpoint_path(odd)
    original = path.read_text()
    (fleet.root / "stacks" / "Pulumi.fresh.bench.yaml").write_text(yaml.safe_dump(
        {"config": {"email-partners:customer": {"platform": "signupto", "account": {
            "name": "Fresh", "owner": {"email": "owner@fresh.example"}, "on_destroy": "keep"}}}}))
    try:
        path.write_text(json.dumps({**json.loads(original), "version": 9}))
        report = drift(fleet, expect=1)
    finally:
        path.write_text(original)
    results = {c["stack"]: c for c in report["customers"]}
    assert results["fresh.bench"]["result"] == "not deployed"
    assert results[odd]["result"] == "failed" and results[odd]["error"]  # the engine's own refusal, in one line
    assert any(note.startswith("checked by the engine (checkpoint version 9") and note.endswith(f"): {odd}")
               for note in report["notes"])
    assert {c["result"] for s, c in results.items() if s not in (odd, "fresh.bench")} == {"no changes"}

    unreachable = "postgres://nobody:hunter2@127.0.0.1:9/pulumi?sslmode=disable"
    report = drift(fleet, expect=1, env={"PULUMI_BACKEND_URL": unreachable})
    assert {c["result"] for c in report["customers"]} == {"failed"}
    error = report["customers"][0]["error"]
    assert "cannot read the state backend postgres://nobody:***@127.0.0.1:9/pulumi" in error
    assert "hunter2" not in report["text"] + json.dumps(report)
    (fleet.root / "stacks" / "Pulumi.fresh.bench.yaml").unlink()


def test_confirm_refreshes_the_drifted_with_the_engine_and_agrees(drift_fleet):
    fleet = drift_fleet
    stack = next(s for s in fleet.stacks if s.startswith("c") and fleet.platform_of[s] == "cakemail")
    state = json.loads(fleet.checkpoint_path(stack).read_text())["checkpoint"]["latest"]["resources"]
    account = next(r for r in state if r["type"].endswith(":SubAccount"))
    env = fleet.vendor_env
    client = CakemailClient(env["CAKEMAIL_API_URL"], env["CAKEMAIL_USERNAME"], env["CAKEMAIL_PASSWORD"])
    client.patch_account(account["id"], PatchAccount(name="Renamed In A Console"))
    try:
        report = drift(fleet, "--confirm", expect=4)
    finally:
        client.patch_account(account["id"], PatchAccount(name=account["outputs"]["name"]))
    drifted = {c["stack"]: c for c in report["customers"] if c["drift"]}
    assert list(drifted) == [stack] and drifted[stack]["result"] == "drift" and not drifted[stack]["error"]
    assert [(d["type"], d["field"], d["actual"]) for d in drifted[stack]["drift"]] == [
        ("SubAccount", "name", "Renamed In A Console")]
    assert "--confirm: 1 drifted customer(s) refreshed by the engine" in report["text"]


def test_write_only_secrets_are_read_in_the_one_pass_and_agree_with_the_engine(drift_fleet):
    """SendGrid customers (a subuser's password: a secret the handler never compares) deployed by a real
    `up`, one clean and one changed in the console: the sweep reads both in its one pass, decrypting
    nothing, with the engine's verdict field by field. A re-encrypted password in the stack file (the
    sweep cannot tell it from the recorded one without decrypting) goes to the engine, whose verdict it is."""
    fleet = drift_fleet
    sendgrid = vendor("sendgrid")
    partner = partner_from_environment("sendgrid", fleet.vendor_env)
    stacks = {"sgclean.bench": "clean", "sgdrift.bench": "drift"}
    usernames = {stack: add_sendgrid_customer(fleet, stack, fleet.vendor_env, tag) for stack, tag in stacks.items()}
    for stack in stacks:
        fleet.pulumi("up", "--yes", "--skip-preview", "--stack", stack)
    try:
        api = sendgrid.client(partner)
        drifted = usernames["sgdrift.bench"]
        api.set_disabled(drifted, True)  # disabled in the console, credits changed there
        api.set_credits(drifted, CreditsRequest(type="recurring", total=777, reset_frequency="monthly"))
        texts = []

        sweep = drift(fleet, "--select", "sg*", "--confirm", expect=4)
        engine = drift(fleet, "--select", "sg*", "--engine", expect=4)
        texts += [sweep["text"], engine["text"]]
        assert sweep["notes"][0].startswith("sweep: 2 customer(s) read in one pass"), sweep["notes"]
        assert sweep["notes"][0].endswith(", 0 by the engine")
        assert not any(note.startswith("checked by the engine") for note in sweep["notes"])
        results = {c["stack"]: c for c in sweep["customers"]}
        assert results["sgclean.bench"]["result"] == "no changes" and results["sgdrift.bench"]["error"] is None
        assert results["sgdrift.bench"]["result"] == "drift"  # --confirm: the engine agrees, or this is "failed"
        found = {(d["type"], d["field"], d["recorded"], d["actual"]) for d in results["sgdrift.bench"]["drift"]}
        assert found == {("AccountFeatures", "features.limit", 10000, 777), ("SubAccount", "suspended", False, True)}, \
            found
        mine, theirs = verdicts(sweep), verdicts(engine)
        assert mine == theirs
        assert code_facts(sweep) == code_facts(engine) and code_facts(sweep)["sgdrift"]

        # The same password encrypted again: another ciphertext, which only the engine can compare.
        fleet.pulumi("config", "set", "--stack", "sgclean.bench", "--path", "--secret",
                     "email-partners:customer.account.password", sendgrid.PASSWORD)
        again = drift(fleet, "--select", "sgclean", expect=0)
        texts.append(again["text"])
        assert [c["result"] for c in again["customers"]] == ["no changes"]
        assert any(note.startswith("checked by the engine (customer.account.password may differ") and
                   note.endswith(": sgclean.bench") for note in again["notes"]), again["notes"]
        assert not sendgrid.leaked(partner, None, *texts, json.dumps([sweep, engine, again]))
    finally:
        for stack in stacks:
            fleet.stack_file(stack).unlink()

