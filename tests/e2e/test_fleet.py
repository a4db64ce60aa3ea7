"""`email-partners fleet` through the real engine and the emulator, on shared PostgreSQL state.

One fleet of seven customers (six in production across the three platforms, one in staging whose
credentials are wrong) is created once and then previewed, drifted behind the tool's back,
checked for drift and repaired. The file backend gets one small fleet of its own, and the
PostgreSQL lock case two operators at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from providers.cakemail import CakemailClient
from providers.cakemail.models import PatchAccount
from providers.ciirus import CiirusClient
from providers.http import RetryPolicy

from ..conftest import Control
from ..processes import kill_session
from ..vendors import fleet_partners, partner_from_environment, vendor, without_platform_settings
from .pulumi_cli import copy_program

PASSPHRASE = "fleet-test-passphrase"
UNCHANGED = "unchanged (not run)"  # the one pass's verdict: the engine would do nothing (operations/changes/)
FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.05)


class Fleet:
    """A copy of the project with its own PULUMI_HOME, a state backend, and customer stack files."""

    def __init__(self, root: Path, bin_dir: Path, backend_url: str, vendor_env: dict[str, str]):
        self.root = root
        (root / "stacks").mkdir(parents=True)
        (root / "home").mkdir()
        copy_program(root)
        env = without_platform_settings(os.environ, "PULUMI_")
        env.update(PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                   PULUMI_HOME=str(root / "home"), PULUMI_BACKEND_URL=backend_url,
                   PULUMI_CONFIG_PASSPHRASE=PASSPHRASE, PULUMI_SKIP_UPDATE_CHECK="true",
                   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true", PULUMI_BIN_DIR=str(bin_dir), **vendor_env)
        self.env = env

    def add(self, stack: str, customer: dict, secrets: dict[str, str] | None = None, plain: dict[str, str] | None = None):
        """A stack file as an engineer writes it; with per-stack credentials the stack is created
        (that is how `pulumi config set --secret` encrypts them); otherwise `fleet up` creates it."""
        (self.root / "stacks" / f"Pulumi.{stack}.yaml").write_text(
            yaml.safe_dump({"config": {"email-partners:customer": customer}}, sort_keys=False))
        if secrets or plain:
            self.pulumi("stack", "init", stack, "--no-select")
            args = [a for k, v in (plain or {}).items() for a in ("--plaintext", f"{k}={v}")]
            args += [a for k, v in (secrets or {}).items() for a in ("--secret", f"{k}={v}")]
            self.pulumi("config", "set-all", "--stack", stack, *args)

    def pulumi(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.root, env=self.env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "operations", "--project-dir", str(self.root), "fleet", *args]

    def fleet(self, *args: str, expect: int) -> dict:
        """Run `email-partners fleet ... --json FILE` with no terminal; returns the JSON report."""
        out = self.root / f"report-{time.monotonic_ns()}.json"
        # A session of its own: on the PostgreSQL backend the engine can exit leaving its language host
        # running (seen: pulumi-language-python outliving `fleet`); the tool ends such orphans itself
        # (operations/orphans.py), and the session shows whether anything is left.
        proc = subprocess.Popen(self.command(*args, "--json", str(out)), env={**self.env, "PYTHONFAULTHANDLER": "1"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # every thread's stack, to see where it waits
            stdout, stderr = proc.communicate(timeout=30)
            pytest.fail(f"`fleet {' '.join(args)}` did not finish in 300 s:\n{stdout}\n{stderr[-12000:]}")
        finally:
            left = kill_session(proc.pid)
        assert not left, f"`fleet {' '.join(args)}` left processes running: {left}"
        assert proc.returncode == expect, f"exit {proc.returncode}, expected {expect}:\n{stdout}\n{stderr}"
        report = json.loads(out.read_text())
        report["text"] = stdout + stderr
        return report


def by_customer(report: dict) -> dict[str, dict]:
    return {c["customer"]: c for c in report["customers"]}


def cakemail_customer(name: str, domain: str | None = None) -> dict:
    customer = {"platform": "cakemail",
                "account": {"name": name, "owner": {"email": "owner@fleet.example", "first_name": "Fleet",
                                                    "last_name": "Owner"}},
                "features": {"per_month": 20000}}
    if domain:
        customer["sending_domains"] = [{"domain": domain}]
    return customer


def signupto_customer(name: str) -> dict:
    return {"platform": "signupto", "features": {"list_limit": 250},
            "account": {"name": name, "owner": {"email": "owner@fleet.example", "timezone": "Europe/London"},
                        "on_destroy": "keep"}}


def ciirus_customer(domain: str) -> dict:
    return {"platform": "ciirus", "account": {}, "features": {"daily_send_limit": 1000, "approved": True},
            "sending_domains": [{"domain": domain}]}


def add_sendgrid_customer(project, stack: str, environ: dict[str, str], tag: str) -> str:
    """SendGrid's sample customer (subuser `<parent>-<tag>`) in a stack of its own, its password
    encrypted as the README says; `project` has `root` and `pulumi(*args)`. Returns the username."""
    sendgrid = vendor("sendgrid")
    declared = sendgrid.sample(partner_from_environment("sendgrid", environ), False)
    declared["account"]["username"] = username = f"{declared['account']['username']}-{tag}"
    (project.root / "stacks" / f"Pulumi.{stack}.yaml").write_text(
        yaml.safe_dump({"config": {"email-partners:customer": declared}}, sort_keys=False))
    project.pulumi("stack", "init", stack, "--no-select")
    for path, value in sendgrid.SECRETS.items():
        project.pulumi("config", "set", "--stack", stack, "--path", "--secret", f"email-partners:customer.{path}", value)
    return username


def new_partners(control: Control, tag: str) -> tuple[dict, dict, dict]:
    """Fresh Cakemail and Sign-Up.to partners (shared by their customers through the environment)."""
    partners = fleet_partners(control, tag)
    return partners.env, partners.of["cakemail"], partners.of["signupto"]


def ciirus_user(control: Control, name: str) -> dict:
    """A Ciirus API user of its own (one sub-account each): its stack carries the login."""
    return vendor("ciirus").partner(control, name)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, pulumi_bin, emulator, postgres_url):
    """Seven customer stacks on the PostgreSQL backend, none deployed yet."""
    control = Control(emulator.url)
    vendor_env, cakemail, _ = new_partners(control, "pg")
    project = Fleet(tmp_path_factory.mktemp("fleet"), pulumi_bin, postgres_url, vendor_env)
    project.cakemail = CakemailClient(control.url + "/cakemail", cakemail["username"], cakemail["password"],
                                      retry=FAST_RETRY)
    project.add("bakery.production", cakemail_customer("Fleet Bakery", domain="news.fleet-bakery.example"))
    project.add("florist.production", cakemail_customer("Fleet Florist"))
    project.add("books.production", signupto_customer("Fleet Books"))
    project.add("garage.production", signupto_customer("Fleet Garage"))
    project.ciirus = {}
    for customer in ("cafe", "hotel"):
        user = ciirus_user(control, f"fleet-{customer}")
        project.ciirus[customer] = CiirusClient(control.url + "/ciirus", user["username"], user["password"],
                                                retry=FAST_RETRY)
        project.add(f"{customer}.production", ciirus_customer(f"mail.fleet-{customer}.example"),
                    plain={"ciirus:username": user["username"]}, secrets={"ciirus:password": user["password"]})
    # Stack config wins over the environment: this customer's password is wrong.
    project.add("broken.staging", cakemail_customer("Fleet Broken"), secrets={"cakemail:password": "wrong-password"})
    project.control = control
    return project


def test_fleet_on_postgres_up_preview_drift_repair(fleet):
    control = fleet.control
    production = ["bakery", "books", "cafe", "florist", "garage", "hotel"]

    # up: every customer created, N at a time; the one with bad credentials fails alone.
    report = fleet.fleet("up", "--yes", "--parallel", "2", expect=1)
    results = by_customer(report)
    assert sorted(results) == sorted(production + ["broken"])
    for name in production:
        assert results[name]["result"] == "changes", results[name]
        assert results[name]["changes"].get("create", 0) >= 3 and results[name]["error"] is None, results[name]
    assert results["broken"]["result"] == "failed" and results["broken"]["environment"] == "staging"
    assert "401" in results["broken"]["error"] or "credentials" in results["broken"]["error"].lower()
    assert "wrong-password" not in report["text"] + json.dumps(report)
    assert {(r["platform"], r["environment"]) for n, r in results.items() if n != "broken"} == {
        ("cakemail", "production"), ("signupto", "production"), ("ciirus", "production")}
    assert [a.name for a in fleet.cakemail.accounts_named("Fleet Bakery")] == ["Fleet Bakery"]

    # preview: nothing to do, and not a single API request for the whole fleet: its one pass finds every
    # customer as its `up` left it (operations/changes/), so no engine runs either.
    before = control.last_request_id()
    report = fleet.fleet("preview", "--environment", "production", expect=0)
    assert {c["customer"]: c["result"] for c in report["customers"]} == {n: UNCHANGED for n in production}, \
        [(c["stack"], c["reason"]) for c in report["customers"]]
    assert control.requests(since_id=before) == []
    report = fleet.fleet("preview", "--environment", "production", "--engine-all", expect=0)  # the engine agrees
    assert {c["customer"]: c["result"] for c in report["customers"]} == {n: "no changes" for n in production}
    assert control.requests(since_id=before) == []

    # Two customers changed behind the tool's back: a rename in a console, a raised limit.
    bakery_id = fleet.cakemail.accounts_named("Fleet Bakery")[0].id
    fleet.cakemail.patch_account(bakery_id, PatchAccount(name="Bakery Renamed"))
    hotel = fleet.ciirus["hotel"]
    hotel.update(hotel.get().subaccount_id, daily_send_limit=5000)

    before = control.last_request_id()
    report = fleet.fleet("drift", "--environment", "production", expect=4)
    drifted = {c["customer"]: c for c in report["customers"] if c["drift"]}
    assert sorted(drifted) == ["bakery", "hotel"]
    assert {c["customer"]: c["result"] for c in report["customers"]} == {
        n: ("drift" if n in drifted else "no changes") for n in production}
    assert [(d["type"], d["field"], d["recorded"], d["actual"]) for d in drifted["bakery"]["drift"]] == [
        ("SubAccount", "name", "Fleet Bakery", "Bakery Renamed")]
    assert [(d["type"], d["field"], d["recorded"], d["actual"]) for d in drifted["hotel"]["drift"]] == [
        ("AccountFeatures", "features.daily_send_limit", 1000, 5000)]
    assert "Bakery Renamed" in report["text"]  # the table names the field and both values
    # Drift only reads: GETs (and Cakemail's token exchange), nothing written, state untouched.
    served = control.requests(since_id=before)
    assert served and {(r["method"], r["path"].endswith("/token")) for r in served} <= {("GET", False), ("POST", True)}
    assert fleet.cakemail.get_account(bakery_id).name == "Bakery Renamed"
    assert [(d["type"], d["field"], d["declared"], d["actual"]) for d in drifted["bakery"]["differs_from_code"]] == [
        ("SubAccount", "name", "Fleet Bakery", "Bakery Renamed")]
    assert by_customer(report)["florist"]["differs_from_code"] == []

    # A refresh records the platform's values in state; the tool must still say the platform is not the code,
    # and the next preview plans exactly the fields that drifted, nothing on the resources that depend on them.
    fleet.fleet("refresh", "--yes", "--environment", "production", expect=0)
    report = fleet.fleet("drift", "--environment", "production", expect=4)
    after = by_customer(report)
    assert {n: c["result"] for n, c in after.items()} == {
        n: ("drift" if n in ("bakery", "hotel") else "no changes") for n in production}
    assert after["bakery"]["drift"] == [] and [d["field"] for d in after["bakery"]["differs_from_code"]] == ["name"]
    assert [d["field"] for d in after["hotel"]["differs_from_code"]] == ["features.daily_send_limit"]
    assert "Bakery Renamed" in report["text"] and "differs from code" in report["text"]
    report = fleet.fleet("preview", "--environment", "production", expect=0)
    assert {n: c["changes"] for n, c in by_customer(report).items()} == {
        n: ({"update": 1} if n in ("bakery", "hotel") else {}) for n in production}

    # up puts the code's values back on exactly those two (the others: not even run, the one pass read them).
    report = fleet.fleet("up", "--yes", "--environment", "production", expect=0)
    assert {c["customer"]: c["result"] for c in report["customers"]} == {
        n: ("changes" if n in ("bakery", "hotel") else UNCHANGED) for n in production}
    assert by_customer(report)["bakery"]["reason"].startswith("would change: SubAccount bakery.production-account name")
    assert by_customer(report)["bakery"]["changes"] == {"update": 1}
    assert fleet.cakemail.get_account(bakery_id).name == "Fleet Bakery"
    assert hotel.get().daily_send_limit == 1000


def verdicts(report: dict) -> dict[str, list]:
    """Each customer's drift as comparable facts, order-free."""
    return {c["customer"]: sorted((d["type"], d["resource"], d["field"] or "", repr(d["recorded"]), repr(d["actual"]))
                                  for d in c["drift"]) for c in report["customers"]}


def code_facts(report: dict) -> dict[str, list]:
    """Each customer's differences between the code and the platform, as comparable facts, order-free."""
    return {c["customer"]: sorted((d["type"], d["resource"], d["op"], d["field"] or "", repr(d["declared"]),
                                   repr(d["actual"])) for d in c["differs_from_code"] or [])
            for c in report["customers"]}


def test_sweep_and_engine_agree_field_by_field_then_code_against_state(fleet):
    """Every out-of-band change the end-to-end tests make, plus a clean customer per platform: the
    one-pass sweep and the engine's `refresh --preview-only` give the same per-field verdict."""
    from providers.signupto import SignupToClient

    control, env = fleet.control, fleet.env
    fleet.add("deli.production", cakemail_customer("Fleet Deli"))
    fleet.add("outlet.production", cakemail_customer("Fleet Outlet"))
    fleet.add("studio.production", cakemail_customer("Fleet Studio"))
    fleet.add("press.production", {**signupto_customer("Fleet Press"),
                                   "features": {"list_limit": 250, "enablesms": False}})
    inn = ciirus_user(control, "fleet-inn")
    fleet.add("inn.production", ciirus_customer("mail.fleet-inn.example"),
              plain={"ciirus:username": inn["username"]}, secrets={"ciirus:password": inn["password"]})
    # A subuser's password is a write-only secret: read in the one pass too (operations/drift_secrets.py).
    mailer = add_sendgrid_customer(fleet, "mailer.production", env, "mailer")
    report = fleet.fleet("up", "--yes", "--environment", "production", "--parallel", "2", expect=0)
    assert {c["result"] for c in report["customers"]} <= {"changes", "no changes", UNCHANGED}, report["text"]

    cakemail = fleet.cakemail
    signupto = SignupToClient.as_partner(env["SIGNUPTO_API_URL"], env["SIGNUPTO_PARTNER_ID"], env["SIGNUPTO_PARTNER_KEY"],
                                         retry=FAST_RETRY)
    account = {name: cakemail.accounts_named(f"Fleet {name.title()}")[0].id
               for name in ("bakery", "florist", "deli", "outlet")}
    cakemail.patch_account(account["bakery"], PatchAccount(name="Bakery Renamed", usage_limits={"per_month": 777}))
    cakemail.delete_dkim_key(account["bakery"], cakemail.list_dkim_keys(account["bakery"])[0].id)
    cakemail.patch_account(account["florist"], PatchAccount(trial=True))
    cakemail.set_suspended(account["deli"], True)
    cakemail.delete_account(account["outlet"])
    companies = {a.name: a.id for a in signupto.list_accounts()}
    signupto.update_features(companies["Fleet Books"], {"list_limit": 99})
    signupto.update_features(companies["Fleet Press"], {"enablesms": True})
    hotel, cafe = fleet.ciirus["hotel"], fleet.ciirus["cafe"]
    hotel.update(hotel.get().subaccount_id, daily_send_limit=5000)
    cafe.update(cafe.get().subaccount_id, approved=False, sending_domain="moved.fleet-cafe.example")
    vendor("sendgrid").client(partner_from_environment("sendgrid", env)).set_disabled(mailer, True)

    before = control.last_request_id()
    sweep = fleet.fleet("drift", "--environment", "production", expect=4)
    served = control.requests(since_id=before)
    assert {(r["method"], r["path"].endswith("/token")) for r in served} <= {("GET", False), ("POST", True)}
    engine = fleet.fleet("drift", "--engine", "--environment", "production", expect=4)
    mine, theirs = verdicts(sweep), verdicts(engine)
    assert mine == theirs
    drifted = {name for name, facts in mine.items() if facts}
    assert drifted == {"bakery", "florist", "deli", "outlet", "books", "press", "hotel", "cafe", "mailer"}
    assert {f[2] for f in mine["bakery"]} == {"name", "features.per_month", ""}  # "": the DKIM key is gone
    assert {f[2] for f in mine["outlet"]} == {""} and len(mine["outlet"]) == 2  # account and features gone
    assert {f[2] for f in mine["cafe"]} == {"domain", "features.approved"}
    # Where the platform is not what the code says, both paths say the same, field by field.
    assert code_facts(sweep) == code_facts(engine)
    assert {name for name, facts in code_facts(sweep).items() if facts} == drifted
    assert sweep["notes"][0].startswith("sweep: 12 customer(s) read in one pass") and sweep["notes"][0].endswith(
        ", 0 by the engine"), sweep["notes"]
    assert ("SubAccount", "mailer.production-account", "suspended", "False", "True") in mine["mailer"]

    # After a refresh the state is the platform: only the code against the state still shows the drift.
    fleet.fleet("refresh", "--yes", "--select", "hotel", expect=0)
    report = fleet.fleet("drift", "--select", "hotel", expect=4)
    hotel_result = by_customer(report)["hotel"]
    assert hotel_result["drift"] == [] and hotel_result["result"] == "drift"
    assert [(d["type"], d["field"], d["declared"], d["actual"]) for d in hotel_result["differs_from_code"]] == [
        ("AccountFeatures", "features.daily_send_limit", 1000, 5000)]
    assert "features.daily_send_limit: code 1000, platform 5000" in report["text"]


def test_two_operators_on_one_customer_second_is_refused_by_the_lock(tmp_path, pulumi_bin, emulator, postgres_url):
    """Same customer at once: the second `up` gets the engine's lock message and changes nothing;
    another customer's `up` at the same moment proceeds."""
    control = Control(emulator.url)
    vendor_env, cakemail, _ = new_partners(control, "lock")
    project = Fleet(tmp_path / "lock", pulumi_bin, postgres_url, vendor_env)
    project.add("lock-one.qa", cakemail_customer("Lock One"))
    project.add("lock-two.qa", signupto_customer("Lock Two"))
    # The first operator's create is slow, so the second arrives while the stack is locked.
    control.fault("^/cakemail/accounts$", method="POST", latency_ms=6000)
    try:
        first = subprocess.Popen(project.command("up", "--yes", "--select", "lock-one"), env=project.env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while requests.get(control.url + "/_control/faults", timeout=5).json()["faults"]:
            assert time.monotonic() < deadline and first.poll() is None, "the first up never reached the API"
            time.sleep(0.2)
        second = project.fleet("up", "--yes", "--select", "lock-one", expect=1)
        other = project.fleet("up", "--yes", "--select", "lock-two.qa", expect=0)
        first_output = first.communicate(timeout=120)[0]
        assert first.returncode == 0, first_output
    finally:
        control.clear_faults()
    refused = by_customer(second)["lock-one"]
    assert refused["result"] == "failed" and "currently locked" in refused["error"], refused
    assert by_customer(other)["lock-two"]["result"] == "changes"
    # Nothing lost or duplicated: one account, recorded once in state.
    client = CakemailClient(control.url + "/cakemail", cakemail["username"], cakemail["password"], retry=FAST_RETRY)
    accounts = client.accounts_named("Lock One")
    assert len(accounts) == 1
    state = json.loads(project.pulumi("stack", "export", "--stack", "lock-one.qa").stdout)
    recorded = [r for r in state["deployment"]["resources"] if r["type"].endswith(":SubAccount")]
    assert [r["outputs"]["account_id"] for r in recorded] == [accounts[0].id]


def test_fleet_on_the_file_backend(tmp_path, pulumi_bin, emulator):
    """The file backend needs no server: a one-customer fleet, created then checked for drift."""
    control = Control(emulator.url)
    vendor_env, _, _ = new_partners(control, "file")
    (tmp_path / "state").mkdir()
    project = Fleet(tmp_path / "file", pulumi_bin, (tmp_path / "state").as_uri(), vendor_env)
    project.add("corner-shop.production", signupto_customer("Corner Shop"))
    created = project.fleet("up", "--yes", expect=0)
    assert by_customer(created)["corner-shop"]["changes"] == {"create": 4}
    assert list((tmp_path / "state").rglob("corner-shop.production.json"))
    checked = project.fleet("drift", "--environment", "production", expect=0)
    assert by_customer(checked)["corner-shop"]["result"] == "no changes"
