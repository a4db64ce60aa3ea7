"""`python -m benchmarks fleet-changes [--customers 1000] [--latency-ms 50] [--sample 20] [--json FILE]`

Only what changed goes through the engine (operations/changes/): N deployed customers of the four
platforms on the emulator (N in all: 4 templates made by a real `up`, the rest written as an `up` writes
them, benchmarks/drift_fleet_maker.py, with the run history a `fleet up` leaves), a sample previewed
clean through the real CLI first, then, in one run and with the latency injected on every vendor
request:
- the no-op `email-partners fleet preview` over all N: wall time, engine runs (customers not
  `unchanged (not run)`), vendor requests;
- the engine path (`fleet preview --engine-all`) over a sample of at least 20: wall time per customer,
  and its verdict against the one pass's (`no changes` where the one pass said unchanged);
- the drift sweep, `fleet drift`, over all N: wall time;
- 5 declarations changed in stack files and 5 customers changed behind the tool's back, then
  `fleet up --yes` (with its refresh, the default): wall time and engine runs (exactly those 10 must
  run, each with changes: any other is a disagreement).
`writes` counts the vendor writes during the no-op preview and the sweep (non-GET requests but
Cakemail's token exchange). The bench environment file gives each vendor a request budget of 8 in
flight and 50 a second (the defaults, 4 and 10, make 250 reads of one vendor last 25 s by themselves).
Targets at N=1000, 50 ms: noop_preview_seconds <= 15, noop_engine_runs 0, sweep_seconds <= 20,
up_seconds <= 20 plus the 10 engine runs, writes 0, disagreements 0.
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

import yaml

from tests.vendors import partner_from_environment, vendor  # the tests' partner set-up, as the fleet maker's

from .drift_fleet_maker import ALL_PLATFORMS, DriftFleet
from .fleet import Emulator, cpu_model, engine_bin
from .fleet_drift import drift_behind_the_back, load_average

UNCHANGED = "unchanged (not run)"
BUDGET = {"concurrency": 8, "per_second": 50}
VENDORS = "^/(cakemail|signupto|ciirus|sendgrid)/"
KEYS = ("customers", "noop_preview_seconds", "noop_engine_runs", "up_seconds", "up_engine_runs", "sweep_seconds",
        "engine_seconds_per_customer", "writes", "disagreements")


def tool(fleet: DriftFleet, *args: str) -> tuple[float, dict, str]:
    out = fleet.root / f"report-{time.monotonic_ns()}.json"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "operations", "--project-dir", str(fleet.root), *args,
                           "--json", str(out)], env=fleet.env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    if proc.returncode not in (0, 4) or not out.exists():
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return elapsed, json.loads(out.read_text()), proc.stdout


def writes(served: list[dict]) -> int:
    return sum(1 for r in served if r["method"] != "GET" and not r["path"].endswith("/token"))


def change_declarations(fleet: DriftFleet, stacks: list[str]) -> None:
    """One declaration change per customer, in its stack file: a limit raised (a rename on Sign-Up.to would be
    refused: its API cannot update an account)."""
    for stack in stacks:
        data = yaml.safe_load(fleet.stack_file(stack).read_text())
        features = data["config"]["email-partners:customer"]["features"]
        key = {"cakemail": "per_month", "signupto": "list_limit", "ciirus": "daily_send_limit",
               "sendgrid": "limit"}[fleet.platform_of[stack]]
        features[key] += 7
        fleet.stack_file(stack).write_text(yaml.safe_dump(data, sort_keys=False))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks fleet-changes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000, help="N, the four templates included (>= 40)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--sample", type=int, default=20, help="customers the engine path previews (>= 20)")
    parser.add_argument("--json", dest="json_file", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    n, sample_size = max(40, args.customers), max(20, args.sample)
    root = Path(tempfile.mkdtemp(prefix="bench-fleet-changes-"))
    emulator = Emulator(root)
    from tests.conftest import Control

    control = Control(emulator.url)
    figures: dict = {"customers": n}
    extra: dict = {"latency_ms": args.latency_ms}
    try:
        fleet = DriftFleet(root / "project", emulator.url, control, engine_bin(), platforms=ALL_PLATFORMS)
        started = time.monotonic()
        fleet.make_templates()
        fleet.add_customers(n - len(ALL_PLATFORMS))
        (fleet.root / "stacks" / "environments").mkdir()
        (fleet.root / "stacks" / "environments" / "bench.yaml").write_text(yaml.safe_dump(
            {"providers": {}, "request_budgets": {p: BUDGET for p in ALL_PLATFORMS}}))
        fleet.record_updates(fleet.stacks)
        print(f"made {n} customers in {time.monotonic() - started:.0f} s", file=sys.stderr)
        stacks = [s for s in fleet.stacks if not s.startswith("tpl-")]
        samples = [next(s for s in stacks if fleet.platform_of[s] == p) for p in ALL_PLATFORMS]
        previews = fleet.previews_clean(samples)
        if any(set(summary) != {"same"} for summary in previews.values()):
            raise RuntimeError(f"the written state does not preview clean: {previews}")
        control.fault(VENDORS, latency_ms=args.latency_ms, count=10_000_000)
        extra["load_before"] = load_average()
        disagreeing: list[str] = []

        before = control.last_request_id()
        seconds, noop, _ = tool(fleet, "fleet", "preview")
        served = control.requests(since_id=before)
        figures["noop_preview_seconds"] = round(seconds, 2)
        figures["noop_engine_runs"] = sum(1 for c in noop["customers"] if c["result"] != UNCHANGED)
        extra["noop_preview_requests"] = len(served)
        extra["noop_preview_notes"] = noop["notes"][:3]
        total_writes = writes(served)

        step = max(1, len(stacks) // sample_size)
        sample = stacks[::step][:sample_size]
        seconds, engine, _ = tool(fleet, "fleet", "preview", "--engine-all", *[a for s in sample for a in ("--select", s)])
        figures["engine_seconds_per_customer"] = round(seconds / len(sample), 3)
        extra["engine_sample"] = len(sample)
        one_pass = {c["stack"]: c["result"] for c in noop["customers"]}
        disagreeing += [c["stack"] for c in engine["customers"]
                        if (one_pass[c["stack"]] == UNCHANGED) != (c["result"] == "no changes")]

        before = control.last_request_id()
        seconds, sweep, _ = tool(fleet, "fleet", "drift")
        served = control.requests(since_id=before)
        figures["sweep_seconds"] = round(seconds, 2)
        extra["sweep_requests"] = len(served)
        extra["sweep_notes"] = sweep["notes"][:2]
        total_writes += writes(served)
        figures["writes"] = total_writes
        extra["load_after_sweep"] = load_average()

        rest = [s for s in stacks if s not in sample]
        step = max(2, len(rest) // 10)  # spread over the fleet, and never the same customer twice
        declared, drifted = rest[0::step][:5], rest[1::step][:5]
        change_declarations(fleet, declared)
        drift_behind_the_back(fleet, [s for s in drifted if fleet.platform_of[s] != "sendgrid"])
        for stack in (s for s in drifted if fleet.platform_of[s] == "sendgrid"):  # a subuser disabled in the console
            account = next(r for r in json.loads(fleet.checkpoint_path(stack).read_text())["checkpoint"]["latest"][
                "resources"] if r["type"].endswith(":SubAccount"))
            vendor("sendgrid").client(partner_from_environment("sendgrid", fleet.vendor_env)).set_disabled(
                account["id"], True)
        seconds, up, _ = tool(fleet, "fleet", "up", "--yes")
        figures["up_seconds"] = round(seconds, 2)
        ran = {c["stack"]: c for c in up["customers"] if c["result"] != UNCHANGED}
        figures["up_engine_runs"] = len(ran)
        expected = set(declared) | set(drifted)
        disagreeing += sorted(set(ran) ^ expected) + [s for s in expected & set(ran) if ran[s]["result"] != "changes"]
        figures["disagreements"] = len(disagreeing)
        extra["disagreeing"] = disagreeing[:10]
        extra["up_reasons"] = {s: ran[s]["reason"] for s in list(ran)[:10]}
        extra["load_after_up"] = load_average()
    finally:
        emulator.stop()
        shutil.rmtree(root, ignore_errors=True)

    extra["machine"] = f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}"
    targets = {"noop_preview_seconds": ("<=", 15), "noop_engine_runs": ("==", 0), "sweep_seconds": ("<=", 20),
               "writes": ("==", 0), "disagreements": ("==", 0), "up_engine_runs": ("==", 10)}
    print(f"fleet-changes benchmark: {n} customers (four platforms), {args.latency_ms} ms latency on every vendor "
          f"request, {extra['machine']}; load average {extra['load_before']} before the no-op preview, "
          f"{extra['load_after_sweep']} after the sweep, {extra['load_after_up']} after the up")
    for key in KEYS:
        op, limit = targets.get(key, (None, None))
        verdict = "" if op is None else (" (target %s %s: %s)" % (op, limit, "met" if (
            figures[key] <= limit if op == "<=" else figures[key] == limit) else "missed"))
        print(f"  {key}: {figures[key]}{verdict}")
    print(f"  (the engine path for all {n} at the sample's rate: {figures['engine_seconds_per_customer'] * n:.0f} s; "
          f"the no-op preview is {figures['engine_seconds_per_customer'] * n / figures['noop_preview_seconds']:.0f}x "
          f"faster, the sweep {figures['engine_seconds_per_customer'] * n / figures['sweep_seconds']:.0f}x)")
    print(f"  up_seconds goal: the one pass <= 20 s plus the 10 engine runs "
          f"(~{10 * figures['engine_seconds_per_customer']:.0f} s at the sample's rate)")
    for key, value in extra.items():
        print(f"  ({key}: {value})")
    if args.json_file:
        Path(args.json_file).write_text(json.dumps({k: figures[k] for k in KEYS}, indent=2) + "\n")
    return 0
