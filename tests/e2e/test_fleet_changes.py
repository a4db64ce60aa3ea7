"""Only what changed goes through the engine (operations/changes/), on a fleet of the four platforms written
as a real `up` writes it, with the run history a `fleet up` leaves (benchmarks/drift_fleet_maker.py):

- a clean fleet: `fleet up --no-refresh` runs no engine and makes no vendor request; `fleet up` runs no
  engine and makes only the one pass's reads; `fleet preview` neither;
- what cannot be told goes to the engine, saying why: pending operations, a held lock, an unknown
  checkpoint version, state written behind the tool's back;
- agreement: for every out-of-band change the drift sweep's agreement test makes and declaration changes of
  every kind, the one-pass verdict (unchanged or not, and which resources and fields) equals the engine's
  own preview (`--engine-all`), with and without `--refresh`; an environment file edited and a program
  change that adds a resource too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from benchmarks.drift_fleet_maker import ALL_PLATFORMS, CIIRUS_PASSWORD, DriftFleet
from providers.cakemail import CakemailClient
from providers.cakemail.models import PatchAccount
from providers.ciirus import CiirusClient
from providers.signupto import SignupToClient

from ..conftest import Control
from ..vendors import partner_from_environment, vendor

UNCHANGED = "unchanged (not run)"
BUDGET = {"concurrency": 4, "per_second": 100}
# The one pass run on its own, in a process with the fleet's environment (as the tool runs it), as JSON.
JUDGE = """
import json, sys
from pathlib import Path
from operations.changes.verdict import judge
from operations.project.stacks import customer_stacks, select_stacks
root, refresh, patterns = Path(sys.argv[1]), sys.argv[2] == "refresh", sys.argv[3:]
judged = judge(select_stacks(customer_stacks(root), patterns, None), "preview", root, refresh=refresh)
print(json.dumps({name: {"reason": v.reason, "differences": [d.model_dump(mode="json") for d in v.differences],
                         "drift": [d.model_dump(mode="json") for d in v.drift]} for name, v in judged.verdicts.items()}))
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, pulumi_bin, emulator):
    """Four templates (a real `up` each) and 24 written customers, six per platform, with their history."""
    fleet = DriftFleet(tmp_path_factory.mktemp("fleet-changes") / "project", emulator.url, Control(emulator.url),
                       pulumi_bin, platforms=ALL_PLATFORMS)
    fleet.make_templates()
    fleet.add_customers(24)
    (fleet.root / "stacks" / "environments").mkdir()
    (fleet.root / "stacks" / "environments" / "bench.yaml").write_text(yaml.safe_dump(
        {"providers": {}, "request_budgets": {p: BUDGET for p in ALL_PLATFORMS}}))
    fleet.record_updates(fleet.stacks)
    fleet.control = Control(emulator.url)
    return fleet


def tool(fleet: DriftFleet, *args: str, expect: int = 0) -> dict:
    out = fleet.root / f"report-{time.monotonic_ns()}.json"
    proc = subprocess.run([sys.executable, "-m", "operations", "--project-dir", str(fleet.root), *args,
                           "--json", str(out)], env=fleet.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600)
    assert proc.returncode == expect, f"exit {proc.returncode}, expected {expect}:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    report["text"] = proc.stdout + proc.stderr
    report["by_stack"] = {c["stack"]: c for c in report["customers"]}
    return report


def one_pass(fleet: DriftFleet, refresh: bool, stacks: list[str]) -> dict[str, dict]:
    proc = subprocess.run([sys.executable, "-c", JUDGE, str(fleet.root), "refresh" if refresh else "-", *stacks],
                          env=fleet.env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def engine_runs(fleet: DriftFleet) -> tuple[int, dict[str, int]]:
    """The backend's own record of engine runs: its update history entries, and each checkpoint's write time."""
    state = fleet.root / "state"
    history = len(list((state / ".pulumi" / "history").rglob("*.history.json*")))
    return history, {p.name: p.stat().st_mtime_ns for p in (state / ".pulumi" / "stacks").rglob("*.json")}


def checkpoint(fleet: DriftFleet, stack: str) -> dict:
    return json.loads(fleet.checkpoint_path(stack).read_text())


def resource(fleet: DriftFleet, stack: str, kind: str) -> dict:
    return next(r for r in checkpoint(fleet, stack)["checkpoint"]["latest"]["resources"] if r["type"].endswith(kind))


def declare(fleet: DriftFleet, stack: str, change) -> None:
    """Edit the stack file's declaration, as a pull request does (secrets and salt kept)."""
    data = yaml.safe_load(fleet.stack_file(stack).read_text())
    change(data["config"]["email-partners:customer"])
    fleet.stack_file(stack).write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_clean_fleet_runs_no_engine_and_reads_only_in_the_one_pass(fleet):
    control = fleet.control
    runs_before = engine_runs(fleet)

    before = control.last_request_id()
    up = tool(fleet, "fleet", "up", "--no-refresh", "--yes")
    assert {c["result"] for c in up["customers"]} == {UNCHANGED} and len(up["customers"]) == 28, up["text"]
    assert control.requests(since_id=before) == []
    preview = tool(fleet, "fleet", "preview")
    assert {c["result"] for c in preview["customers"]} == {UNCHANGED}
    assert control.requests(since_id=before) == []

    up = tool(fleet, "fleet", "up", "--yes")
    served = control.requests(since_id=before)
    assert {c["result"] for c in up["customers"]} == {UNCHANGED}, up["text"]
    assert all(c["reason"] is None for c in up["customers"])
    assert {(r["method"], r["path"].endswith("/token")) for r in served} <= {("GET", False), ("POST", True)}
    one_pass_line = next(n for n in up["notes"] if n.startswith("one pass: 28 customer(s) read with"))
    assert one_pass_line == f"one pass: 28 customer(s) read with {len(served)} API request(s)", (one_pass_line, len(served))
    assert up["notes"][0] == "one pass: 28 customer(s) unchanged (not run), 0 to the engine"
    assert engine_runs(fleet) == runs_before  # no update history entry, no checkpoint written
    assert "unchanged (not run)" in up["text"]

    history = subprocess.run([sys.executable, "-m", "operations", "--project-dir", str(fleet.root), "history",
                              "c0000-cakemail.bench", "--format", "json"], env=fleet.env, capture_output=True,
                             text=True, timeout=120)
    entries = json.loads(history.stdout)["entries"]
    assert [(e["operation"], e["result"]) for e in entries[:4]] == [("up", UNCHANGED), ("preview", UNCHANGED),
                                                                     ("up", UNCHANGED), ("up", "changes")]
    assert entries[0]["basis"]["read_platform"] is True and entries[2]["basis"]["read_platform"] is False
    assert entries[1]["basis"] is None and entries[0]["basis"]["state"] == entries[3]["basis"]["state"]


def test_what_cannot_be_told_goes_to_the_engine_saying_why(fleet):
    pending, locked, version, behind = "c0004-cakemail.bench", "c0005-signupto.bench", "c0006-ciirus.bench", \
        "c0007-sendgrid.bench"
    originals = {s: fleet.checkpoint_path(s).read_text() for s in (pending, version)}
    document = json.loads(originals[pending])
    document["checkpoint"]["latest"]["pending_operations"] = [{"resource": resource(fleet, pending, ":SubAccount"),
                                                               "type": "updating"}]
    fleet.checkpoint_path(pending).write_text(json.dumps(document))
    fleet.checkpoint_path(version).write_text(json.dumps({**json.loads(originals[version]), "version": 9}))
    lock = fleet.root / "state" / ".pulumi" / "locks" / "organization" / "email-partners" / locked / "held.json"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": 4242, "username": "ops", "hostname": "elsewhere.example",
                                "timestamp": "2026-12-01T10:00:00Z"}))
    fleet.pulumi("refresh", "--yes", "--skip-preview", "--stack", behind)  # by hand: the tool did not record it
    try:
        report = tool(fleet, "fleet", "preview", *[a for s in (pending, locked, version, behind, "c0008-cakemail.bench")
                                                    for a in ("--select", s)], expect=1)
    finally:
        for stack, text in originals.items():
            fleet.checkpoint_path(stack).write_text(text)
        lock.unlink()
    results = report["by_stack"]
    assert results["c0008-cakemail.bench"]["result"] == UNCHANGED
    expected = {pending: "state: the state has pending operations of an interrupted run",
                locked: "locked: a lock is held on its stack by ops@elsewhere.example (pid 4242)",
                version: "state: checkpoint version 9",
                behind: "state changed: its state was written after the up email-partners recorded"}
    for stack, words in expected.items():
        assert results[stack]["reason"].startswith(words), results[stack]
        assert results[stack]["result"] != UNCHANGED  # the engine's own verdict
    assert any(n.startswith("to the engine (locked): c0005-signupto.bench") for n in report["notes"]), report["notes"]


# --- agreement with the engine's preview -------------------------------------------------------------

def one_pass_facts(verdict: dict) -> tuple[bool, set, set]:
    """(would change, the plan's (type, resource, op, field), the drifted resources) of a one-pass verdict."""
    changes = {(d["type"], d["resource"], d["op"], d["field"] or "") for d in verdict["differences"] if d["op"] != "record"}
    drifted = {(d["type"], d["resource"]) for d in verdict["drift"]}
    return bool(changes or drifted), changes, drifted


def engine_facts(result: dict) -> tuple[bool, set, set]:
    changes = {(d["type"], d["resource"], d["op"], d["field"] or "") for d in result["plan"] or []}
    drifted = {(d["type"], d["resource"]) for d in result["drift"]}
    return bool(changes or drifted), changes, drifted


def assert_agreement(fleet: DriftFleet, stacks: list[str], refresh: bool) -> tuple[dict, dict]:
    mine = one_pass(fleet, refresh, stacks)
    engine = tool(fleet, "fleet", "preview", "--engine-all", *(["--refresh"] if refresh else []),
                  *[a for s in stacks for a in ("--select", s)], expect=1 if any(
                      "refused at check" in json.dumps(v["differences"]) for v in mine.values()) else 0)["by_stack"]
    for stack in stacks:
        theirs = engine[stack]
        if theirs["result"] == "failed":  # refused at the preview's check: the one pass says so too
            assert any((d["declared"] or "").startswith("refused at check") for d in mine[stack]["differences"]), (
                stack, mine[stack], theirs["error"])
            continue
        would, changes, drifted = one_pass_facts(mine[stack])
        their_would, their_changes, their_drifted = engine_facts(theirs)
        assert (would, changes) == (their_would, their_changes), (stack, mine[stack], theirs)
        assert drifted <= their_drifted | {(c[0], c[1]) for c in their_changes}, (stack, drifted, theirs)
    return mine, engine


def test_the_one_pass_verdict_equals_the_engines_preview(fleet):
    env = fleet.vendor_env
    cakemail = CakemailClient(env["CAKEMAIL_API_URL"], env["CAKEMAIL_USERNAME"], env["CAKEMAIL_PASSWORD"])
    signupto = SignupToClient.as_partner(env["SIGNUPTO_API_URL"], env["SIGNUPTO_PARTNER_ID"], env["SIGNUPTO_PARTNER_KEY"])
    sendgrid = vendor("sendgrid").client(partner_from_environment("sendgrid", env))

    def ciirus(stack: str) -> CiirusClient:
        user = yaml.safe_load(fleet.stack_file(stack).read_text())["config"]["ciirus:username"]
        return CiirusClient(env["CIIRUS_API_URL"], user, CIIRUS_PASSWORD)

    def account(stack: str) -> str:
        return resource(fleet, stack, ":SubAccount")["id"]

    # Out of band, as the drift sweep's agreement test changes its fleet (tests/e2e/test_fleet.py).
    renamed = account("c0000-cakemail.bench")
    cakemail.patch_account(renamed, PatchAccount(name="Renamed In A Console", usage_limits={"per_month": 777}))
    cakemail.delete_dkim_key(renamed, cakemail.list_dkim_keys(renamed)[0].id)
    cakemail.patch_account(account("c0004-cakemail.bench"), PatchAccount(trial=True))
    cakemail.set_suspended(account("c0008-cakemail.bench"), True)
    cakemail.delete_account(account("c0012-cakemail.bench"))
    signupto.update_features(account("c0001-signupto.bench"), {"list_limit": 99})
    signupto.update_features(account("c0005-signupto.bench"), {"enablesms": True})
    client = ciirus("c0002-ciirus.bench")
    client.update(client.get().subaccount_id, daily_send_limit=5000)
    client = ciirus("c0006-ciirus.bench")
    client.update(client.get().subaccount_id, approved=False, sending_domain="moved.c0006.drift.example")
    sendgrid.set_disabled(account("c0003-sendgrid.bench"), True)
    out_of_band = ["c0000-cakemail.bench", "c0004-cakemail.bench", "c0008-cakemail.bench", "c0012-cakemail.bench",
                   "c0001-signupto.bench", "c0005-signupto.bench", "c0002-ciirus.bench", "c0006-ciirus.bench",
                   "c0003-sendgrid.bench"]

    # Declaration changes of every kind.
    declare(fleet, "c0016-cakemail.bench", lambda c: (c["account"].update(name="Renamed In Code"),
                                                      c["features"].update(per_month=30000),
                                                      c["sending_domains"][0].update(selector="custom1")))
    declare(fleet, "c0020-cakemail.bench", lambda c: c["sending_domains"].append({"domain": "second.c0020.drift.example"}))
    declare(fleet, "tpl-cakemail.bench", lambda c: c.update(sending_domains=[]))
    declare(fleet, "c0009-signupto.bench", lambda c: c.update(
        platform="cakemail", features={"per_month": 1000}, sending_domains=[],
        account={"name": "Switched", "allow_replace": True, "owner": {"email": "owner@drift.example", "first_name": "D",
                                                                       "last_name": "B"}}))
    declare(fleet, "c0013-signupto.bench", lambda c: c["account"].update(name="Cannot Rename"))  # refused at check
    declare(fleet, "c0017-signupto.bench", lambda c: c["account"].update(protect=False))  # recorded, not changed
    declare(fleet, "c0010-ciirus.bench", lambda c: (c["features"].update(daily_send_limit=2000),
                                                    c["sending_domains"][0].update(domain="new.c0010.drift.example")))
    declare(fleet, "c0011-sendgrid.bench", lambda c: (c["features"].update(limit=20000),
                                                      c["account"].update(ips=["198.51.100.22"])))
    declare(fleet, "c0019-sendgrid.bench", lambda c: c["account"].update(email="new@drift.example"))  # refused
    declared = ["c0016-cakemail.bench", "c0020-cakemail.bench", "tpl-cakemail.bench", "c0009-signupto.bench",
                "c0013-signupto.bench", "c0017-signupto.bench", "c0010-ciirus.bench", "c0011-sendgrid.bench",
                "c0019-sendgrid.bench"]
    clean = ["tpl-signupto.bench", "tpl-ciirus.bench", "tpl-sendgrid.bench"]

    # With --refresh (`fleet up`'s default): the drift sweep's reads first. Every declaration kind is compared
    # without a refresh below (there the state is the platform, so the two plans are the same).
    mine, _ = assert_agreement(fleet, out_of_band + clean + ["c0016-cakemail.bench", "c0017-signupto.bench"],
                               refresh=True)
    assert {s for s, v in mine.items() if v["reason"] is None} == set(clean)
    assert mine["c0017-signupto.bench"]["reason"].startswith("would record: SubAccount c0017-signupto.bench-account "
                                                             "protect (record)")
    assert mine["c0000-cakemail.bench"]["reason"].startswith("drifted: ")
    mine, _ = assert_agreement(fleet, declared + ["c0001-signupto.bench"], refresh=False)
    assert mine["c0001-signupto.bench"]["reason"] is None  # out of band: only a refresh sees it
    assert mine["c0016-cakemail.bench"]["reason"] == (
        "would change: SubAccount c0016-cakemail.bench-account name, AccountFeatures c0016-cakemail.bench-features "
        "features.per_month, SendingDomain c0016-cakemail.bench-news.c0016.drift.example selector (replace)")

    # An environment file edited, and a program change that adds a resource (a wait on every sending domain).
    environment = fleet.root / "stacks" / "environments" / "bench.yaml"
    environment.write_text(environment.read_text() + "description: edited\n")
    program = fleet.root / "stacks" / "customer.py"
    source = program.read_text()
    assert source.count("        if timeout:") == 1
    program.write_text(source.replace("        if timeout:", "        timeout = timeout or 600\n        if timeout:"))
    sample = ["c0008-cakemail.bench", "c0014-ciirus.bench", "c0021-signupto.bench"]
    try:
        mine, _ = assert_agreement(fleet, sample, refresh=False)
    finally:
        program.write_text(source)
    for stack in sample:
        assert mine[stack]["reason"].startswith("changed since its last update: the program (Pulumi.yaml, "
                                                "stacks/*.py), its environment file (stacks/environments/bench.yaml)")
    assert {d["op"] for d in mine["c0014-ciirus.bench"]["differences"]} == {"create"}
