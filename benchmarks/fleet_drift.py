"""`python -m benchmarks fleet-drift [--customers 1000] [--latency-ms 50] [--drifted 30] [--sendgrid-limit 600]
[--sendgrid-period 60] [--json FILE]`

N deployed customers on the emulator (the four platforms in turn: a quarter of them SendGrid subusers
of one parent; their state written as a real `up` writes it, benchmarks/drift_fleet_maker.py, a
sample previewed through the real CLI: no change), some changed behind the tool's back, then, in
one run and with the latency injected on every vendor request:
- `email-partners fleet drift` (the one-pass sweep) over all N, SendGrid's own limit set to its
  documented 600 a minute per endpoint (the emulator's): wall time, API requests, writes, customers
  failed, how long the sweep waited for the limit, and SendGrid's requests per endpoint against the
  floor the limit sets (requests / limit);
- the SendGrid customers alone, the limit scaled so that they stand to it as 1,000 subusers to 600
  a minute: the same figures where the limit must be waited for;
- `fleet drift --engine` (a `pulumi refresh --preview-only` per customer) over the drifted ones
  (at least 20): wall time per customer, and each customer's verdict against the sweep's.
The SendGrid request budget is raised in the bench environment (40 a second), so that the vendor's
limit, not the tool's default budget of 10 a second, is what paces SendGrid.
Targets at N=1000, 50 ms: sweep_seconds <= 60, writes 0, disagreements 0, requests_per_customer <= 2.5,
customers failed 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from .drift_fleet_maker import ALL_PLATFORMS, DriftFleet
from .fleet import Emulator, cpu_model, engine_bin

SCALE_SUBUSERS, SCALE_LIMIT = 1000, 600  # the fleet: 1,000 subusers under 600 a minute
BENCH_BUDGETS = {"sendgrid": {"concurrency": 4, "per_second": 40}}


def drift_behind_the_back(fleet: DriftFleet, stacks: list[str]) -> None:
    """A console change per customer: a Cakemail rename, a Sign-Up.to limit, a Ciirus limit, a SendGrid
    subuser disabled."""
    from providers.cakemail import CakemailClient
    from providers.cakemail.models import PatchAccount
    from providers.ciirus import CiirusClient
    from providers.sendgrid import SendGridClient
    from providers.signupto import SignupToClient

    env = fleet.vendor_env
    cakemail = CakemailClient(env["CAKEMAIL_API_URL"], env["CAKEMAIL_USERNAME"], env["CAKEMAIL_PASSWORD"])
    signupto = SignupToClient.as_partner(env["SIGNUPTO_API_URL"], env["SIGNUPTO_PARTNER_ID"], env["SIGNUPTO_PARTNER_KEY"])
    sendgrid = SendGridClient(env["SENDGRID_API_URL"], env["SENDGRID_API_KEY"])
    for stack in stacks:
        state = json.loads(fleet.checkpoint_path(stack).read_text())["checkpoint"]["latest"]["resources"]
        account = next(r for r in state if r["type"].endswith(":SubAccount"))
        platform_ = fleet.platform_of[stack]
        if platform_ == "cakemail":
            cakemail.patch_account(account["id"], PatchAccount(name=f"{account['outputs']['name']} (renamed)"))
        elif platform_ == "signupto":
            signupto.update_features(account["id"], {"list_limit": 111})
        elif platform_ == "sendgrid":
            sendgrid.set_disabled(account["id"], True)
        else:
            user = next(r for r in state if r["type"] == "pulumi:providers:pulumi-python")["inputs"]["ciirus:username"]
            client = CiirusClient(env["CIIRUS_API_URL"], user, "drift-bench-Ciirus-pw!")
            client.update(account["id"], daily_send_limit=4321)


def fleet_drift(fleet: DriftFleet, *args: str) -> tuple[float, dict, str]:
    out = fleet.root / f"report-{time.monotonic_ns()}.json"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "operations", "--project-dir", str(fleet.root), "fleet", "drift",
                           *args, "--json", str(out)], env=fleet.env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    if proc.returncode not in (0, 4) or not out.exists():
        raise RuntimeError(f"fleet drift {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return elapsed, json.loads(out.read_text()), proc.stdout


def verdicts(report: dict) -> dict[str, list]:
    return {c["stack"]: sorted((d["type"], d["resource"], d["field"] or "", repr(d["recorded"]), repr(d["actual"]))
                               for d in c["drift"]) for c in report["customers"]}


def sendgrid_figures(served: list[dict], report: dict, limit: int, period: float) -> dict:
    """SendGrid's side of a sweep: requests per endpoint (as SendGrid counts them) against the floor its
    limit sets, windows spent, refusals, and how long the sweep waited for the limit."""
    from providers.sendgrid.client import rate_limit_endpoint

    per_endpoint: dict[str, int] = {}
    for entry in served:
        if entry["vendor"] == "sendgrid":
            endpoint = rate_limit_endpoint(entry["method"], entry["path"].removeprefix("/sendgrid"))
            per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
    busiest = max(per_endpoint.values(), default=0)
    return {
        "sendgrid_limit": f"{limit} per {period:g} s per endpoint",
        "sendgrid_requests_per_endpoint": per_endpoint,
        # requests / limit: the time the busiest endpoint needs at the limit's rate
        "sendgrid_floor_seconds": round(busiest / limit * period, 1),
        # fixed windows: the first is spent at once, so only the windows after it must be waited for
        "sendgrid_floor_windows_seconds": round(max(0, math.ceil(busiest / limit) - 1) * period, 1),
        "sendgrid_windows_spent": sum(1 for e in served if e["vendor"] == "sendgrid" and e["rate_limit"]
                                      and e["rate_limit"]["remaining"] == 0),
        "sendgrid_refused_429": sum(1 for e in served if e["vendor"] == "sendgrid" and e["status"] == 429),
        "rate_limit_wait_seconds": report.get("rate_limit_wait_seconds", 0.0),
        "customers_failed": sum(1 for c in report["customers"] if c["result"] == "failed"),
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks fleet-drift", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--drifted", type=int, default=30, help="customers changed behind the tool's back (>= 20)")
    parser.add_argument("--sendgrid-limit", type=int, default=600, help="SendGrid's requests per period per endpoint")
    parser.add_argument("--sendgrid-period", type=float, default=60.0, help="SendGrid's refresh period, in seconds")
    parser.add_argument("--json", dest="json_file", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    n, drifted_count = args.customers, max(20, args.drifted)
    root = Path(tempfile.mkdtemp(prefix="bench-fleet-drift-"))
    emulator = Emulator(root)
    from tests.conftest import Control

    figures: dict = {"customers": n, "latency_ms": args.latency_ms}
    try:
        control = Control(emulator.url)
        fleet = DriftFleet(root / "project", emulator.url, control, engine_bin(), platforms=ALL_PLATFORMS)
        parent = fleet.parent
        control.rate_limit("sendgrid", parent, None)  # making the fleet is not what is measured
        started = time.monotonic()
        fleet.make_templates()
        stacks = fleet.add_customers(n)
        (fleet.root / "stacks" / "environments").mkdir(exist_ok=True)
        (fleet.root / "stacks" / "environments" / "bench.yaml").write_text(
            yaml.safe_dump({"providers": {}, "request_budgets": BENCH_BUDGETS}))
        print(f"made {n} customers (+4 templates) in {time.monotonic() - started:.0f} s", file=sys.stderr)
        samples = [next(s for s in stacks if fleet.platform_of[s] == p) for p in ALL_PLATFORMS]
        previews = fleet.previews_clean(samples)
        figures["sample_previews"] = previews
        if any(set(summary) != {"same"} for summary in previews.values()):
            raise RuntimeError(f"the written state does not preview clean: {previews}")
        drifted = [s for i, s in enumerate(stacks) if i % max(1, n // drifted_count) == 0][:drifted_count]
        drift_behind_the_back(fleet, drifted)
        control.fault("^/(cakemail|signupto|ciirus|sendgrid)/", latency_ms=args.latency_ms, count=10_000_000)
        control.rate_limit("sendgrid", parent, args.sendgrid_limit, args.sendgrid_period)
        figures["sendgrid_customers"] = sum(1 for s in fleet.stacks if fleet.platform_of[s] == "sendgrid")
        figures["load_before"] = load_average()

        before = emulator.last_request_id()
        sweep_seconds, sweep, text = fleet_drift(fleet)
        served = control.requests(since_id=before)
        figures["load_after_sweep"] = load_average()
        figures["sweep_seconds"] = round(sweep_seconds, 2)
        figures.update(sendgrid_figures(served, sweep, args.sendgrid_limit, args.sendgrid_period))
        figures["requests"] = len(served)
        figures["requests_per_customer"] = round(len(served) / len(fleet.stacks), 3)
        figures["writes"] = sum(1 for r in served if r["method"] != "GET" and not r["path"].endswith("/token"))
        found = {c["stack"] for c in sweep["customers"] if c["drift"]}
        figures["sweep_found_drifted"] = len(found)
        figures["sweep_missed"] = sorted(set(drifted) - found)
        figures["sweep_unexpected"] = sorted(found - set(drifted))
        figures["sweep_notes"] = sweep.get("notes", [])

        # The same pass without the customers whose credentials need decrypting (each Ciirus customer is
        # its own API user, its password in its stack file): what the reads themselves cost.
        plain_seconds, plain, _ = fleet_drift(fleet, "--select", "*-cakemail.bench", "--select", "*-signupto.bench")
        figures["sweep_without_decryption_customers"] = len(plain["customers"])
        figures["sweep_without_decryption_seconds"] = round(plain_seconds, 2)

        # The SendGrid customers alone, under a limit they stand to as 1,000 subusers to 600 a minute.
        scaled = max(1, round(SCALE_LIMIT * figures["sendgrid_customers"] / SCALE_SUBUSERS))
        control.rate_limit("sendgrid", parent, scaled, args.sendgrid_period)  # fresh windows
        before = emulator.last_request_id()
        scaled_seconds, scaled_report, _ = fleet_drift(fleet, "--select", "*-sendgrid.bench")
        scaled_figures = sendgrid_figures(control.requests(since_id=before), scaled_report, scaled, args.sendgrid_period)
        figures["scaled"] = {"customers": len(scaled_report["customers"]), "sweep_seconds": round(scaled_seconds, 2),
                             **scaled_figures}
        control.rate_limit("sendgrid", parent, args.sendgrid_limit, args.sendgrid_period)

        engine_seconds, engine, _ = fleet_drift(fleet, "--engine", *[a for s in drifted for a in ("--select", s)])
        figures["engine_customers"] = len(drifted)
        figures["engine_seconds"] = round(engine_seconds, 2)
        figures["engine_seconds_per_customer"] = round(engine_seconds / len(drifted), 3)
        figures["engine_parallel"] = engine["parallel"]
        mine, theirs = verdicts(sweep), verdicts(engine)
        disagreeing = [s for s in drifted if mine.get(s) != theirs.get(s)]
        figures["disagreements"] = len(disagreeing)
        figures["disagreeing"] = {s: {"sweep": mine.get(s), "engine": theirs.get(s)} for s in disagreeing[:5]}
        figures["engine_for_n_estimate_seconds"] = round(figures["engine_seconds_per_customer"] * n, 1)
    finally:
        emulator.stop()
        shutil.rmtree(root, ignore_errors=True)

    figures["machine"] = f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}"
    targets = {"sweep_seconds": ("<=", 60), "writes": ("==", 0), "disagreements": ("==", 0),
               "requests_per_customer": ("<=", 2.5), "customers_failed": ("==", 0), "sendgrid_refused_429": ("==", 0)}
    print(f"fleet-drift benchmark: {n} customers ({figures['sendgrid_customers']} SendGrid, its limit "
          f"{figures['sendgrid_limit']}), {args.latency_ms} ms latency on every API request, "
          f"{figures['machine']}; load average {figures['load_before']} before the sweep")
    for key in ("sweep_seconds", "customers_failed", "rate_limit_wait_seconds", "sendgrid_requests_per_endpoint",
                "sendgrid_floor_seconds", "sendgrid_floor_windows_seconds", "sendgrid_windows_spent",
                "sendgrid_refused_429", "requests_per_customer", "writes", "sweep_found_drifted",
                "sweep_without_decryption_customers", "sweep_without_decryption_seconds", "scaled", "engine_customers",
                "engine_seconds_per_customer", "engine_for_n_estimate_seconds", "disagreements"):
        op, limit = targets.get(key, (None, None))
        verdict = "" if op is None else (" (target %s %s: %s)" % (op, limit, "met" if (
            figures[key] <= limit if op == "<=" else figures[key] == limit) else "missed"))
        print(f"  {key}: {figures[key]}{verdict}")
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(figures, indent=2) + "\n")
    return 0
