"""`python -m benchmarks fleet-drift [--customers 1000] [--latency-ms 50] [--drifted 30] [--json FILE]`

N deployed customers on the emulator (the three platforms in turn; their state written as a real
`up` writes it, benchmarks/drift_fleet_maker.py, a sample previewed through the real CLI: no
change), some changed behind the tool's back, then, in one run and with the latency injected on
every vendor request:
- `email-partners fleet drift` (the one-pass sweep) over all N: wall time, API requests, writes;
- `fleet drift --engine` (a `pulumi refresh --preview-only` per customer) over the drifted ones
  (at least 20): wall time per customer, and each customer's verdict against the sweep's.
Targets at N=1000, 50 ms: sweep_seconds <= 60, writes 0, disagreements 0, requests_per_customer <= 2.5.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .drift_fleet_maker import PLATFORMS, DriftFleet
from .fleet import Emulator, cpu_model, engine_bin


def drift_behind_the_back(fleet: DriftFleet, stacks: list[str]) -> None:
    """A console change per customer: a Cakemail rename, a Sign-Up.to limit, a Ciirus limit."""
    from providers.cakemail import CakemailClient
    from providers.cakemail.models import PatchAccount
    from providers.ciirus import CiirusClient
    from providers.signupto import SignupToClient

    env = fleet.vendor_env
    cakemail = CakemailClient(env["CAKEMAIL_API_URL"], env["CAKEMAIL_USERNAME"], env["CAKEMAIL_PASSWORD"])
    signupto = SignupToClient.as_partner(env["SIGNUPTO_API_URL"], env["SIGNUPTO_PARTNER_ID"], env["SIGNUPTO_PARTNER_KEY"])
    for stack in stacks:
        state = json.loads(fleet.checkpoint_path(stack).read_text())["checkpoint"]["latest"]["resources"]
        account = next(r for r in state if r["type"].endswith(":SubAccount"))
        platform_ = fleet.platform_of[stack]
        if platform_ == "cakemail":
            cakemail.patch_account(account["id"], PatchAccount(name=f"{account['outputs']['name']} (renamed)"))
        elif platform_ == "signupto":
            signupto.update_features(account["id"], {"list_limit": 111})
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
    parser.add_argument("--json", dest="json_file", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    n, drifted_count = args.customers, max(20, args.drifted)
    root = Path(tempfile.mkdtemp(prefix="bench-fleet-drift-"))
    emulator = Emulator(root)
    from tests.conftest import Control

    figures: dict = {"customers": n, "latency_ms": args.latency_ms}
    try:
        fleet = DriftFleet(root / "project", emulator.url, Control(emulator.url), engine_bin())
        started = time.monotonic()
        fleet.make_templates()
        stacks = fleet.add_customers(n)
        print(f"made {n} customers (+3 templates) in {time.monotonic() - started:.0f} s", file=sys.stderr)
        samples = [next(s for s in stacks if fleet.platform_of[s] == p) for p in PLATFORMS]
        previews = fleet.previews_clean(samples)
        figures["sample_previews"] = previews
        if any(set(summary) != {"same"} for summary in previews.values()):
            raise RuntimeError(f"the written state does not preview clean: {previews}")
        drifted = [s for i, s in enumerate(stacks) if i % max(1, n // drifted_count) == 0][:drifted_count]
        drift_behind_the_back(fleet, drifted)
        Control(emulator.url).fault("^/(cakemail|signupto|ciirus)/", latency_ms=args.latency_ms, count=10_000_000)
        figures["load_before"] = load_average()

        before = emulator.last_request_id()
        sweep_seconds, sweep, text = fleet_drift(fleet)
        served = Control(emulator.url).requests(since_id=before)
        figures["load_after_sweep"] = load_average()
        figures["sweep_seconds"] = round(sweep_seconds, 2)
        figures["requests"] = len(served)
        figures["requests_per_customer"] = round(len(served) / (n + 3), 3)
        figures["writes"] = sum(1 for r in served if r["method"] != "GET" and not r["path"].endswith("/token"))
        found = {c["stack"] for c in sweep["customers"] if c["drift"]}
        figures["sweep_found_drifted"] = len(found)
        figures["sweep_missed"] = sorted(set(drifted) - found)
        figures["sweep_unexpected"] = sorted(found - set(drifted))
        figures["sweep_notes"] = sweep.get("notes", [])

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
               "requests_per_customer": ("<=", 2.5)}
    print(f"fleet-drift benchmark: {n} customers, {args.latency_ms} ms latency on every API request, "
          f"{figures['machine']}; load average {figures['load_before']} before the sweep")
    for key in ("sweep_seconds", "requests_per_customer", "writes", "sweep_found_drifted", "engine_customers",
                "engine_seconds_per_customer", "engine_for_n_estimate_seconds", "disagreements"):
        op, limit = targets.get(key, (None, None))
        verdict = "" if op is None else (" (target %s %s: %s)" % (op, limit, "met" if (
            figures[key] <= limit if op == "<=" else figures[key] == limit) else "missed"))
        print(f"  {key}: {figures[key]}{verdict}")
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(figures, indent=2) + "\n")
    return 0
