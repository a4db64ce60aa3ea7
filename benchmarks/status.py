"""`python -m benchmarks status [--customers 1000] [--runs 10] [--repeat 3] [--json FILE]`

The status page of a file backend holding N deployed customers (the three platforms in turn, their
state written as a real `up` writes it: benchmarks/drift_fleet_maker.py) and their run history
(R fleet runs over all N recorded through the tool's own hook, with failures, drift and a review
among them; a few stack files edited after their `up`, so they need one). Then, in one run:
- build: `email-partners status --output page.html` (the whole command, Python start included:
  wall time, and CPU time, which is what it takes on an idle machine), and in this process the read (state, locks, history, needs-up) and the render, against a
  baseline of the same run: reading and parsing the N checkpoints alone;
- load: the page opened in Debian's Chromium until its table is drawn (a page of 200 rows; the
  counts, filter and sorting cover every customer), as the driver sees it (and
  by the page's own clock, from navigation to the first paint of the drawn table), against a page of the same size that draws nothing (its data in a <pre>);
- vendor requests while building and loading (the emulator's log) and the browser's requests.
Targets at N=1000: build_seconds <= 2, load_seconds <= 1, vendor_requests 0.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from .drift_fleet_maker import DriftFleet
from .fleet import Emulator, cpu_model, engine_bin
from .fleet_drift import load_average

TARGETS = {"build_seconds": 2.0, "load_seconds": 1.0, "vendor_requests": 0}


def record_history(fleet: DriftFleet, stacks: list[str], runs: int) -> None:
    """R fleet runs over every customer through `record_report` (the hook every fleet
    operation calls), days apart: an up, then previews, drift checks and ups; ~2% failed, a few
    drifted; and one review."""
    from operations.differences import FieldDrift
    from operations.fleet.models import CustomerResult, FleetReport
    from operations.fleet.record import record_report
    from operations.project.stacks import split_stack_name

    operations = ["up"] + [("preview", "drift", "up")[i % 3] for i in range(runs - 1)]
    for day, operation in enumerate(operations):
        customers = []
        for i, stack in enumerate(stacks):
            customer, environment = split_stack_name(stack)
            failed = (i + day) % 50 == 0
            drift = [FieldDrift(resource=f"{stack}-account", type="SubAccount", field="name", recorded="A",
                                actual="A (renamed)")] if operation == "drift" and i % 40 == 0 else []
            result = "failed" if failed else "drift" if drift else "changes" if operation == "up" and day == 0 \
                else "no changes"
            customers.append(CustomerResult(
                stack=stack, customer=customer, platform=fleet.platform_of[stack], environment=environment,
                operation=operation, result=result, changes={"create": 3} if result == "changes" else {}, drift=drift,
                duration_seconds=2.5, error="cakemail POST /token failed (HTTP 503)" if failed else None))
        report = FleetReport(operation=operation, started_at=f"2026-11-{day + 1:02d}T09:00:00+00:00",
                             duration_seconds=60.0, parallel=2, exit_status=0, customers=customers)
        if not record_report(report, fleet.root, env=fleet.env):
            raise RuntimeError("the history was not recorded")


def edit_declarations(fleet: DriftFleet, stacks: list[str], every: int) -> int:
    """Change a limit in every `every`-th stack file (after its `up`): those customers need an up."""
    edited = 0
    for stack in stacks[::every]:
        path = fleet.stack_file(stack)
        document = yaml.safe_load(path.read_text())
        features = document["config"]["email-partners:customer"].setdefault("features", {})
        key = "per_month" if "per_month" in features else "list_limit" if "list_limit" in features else "daily_send_limit"
        features[key] = features.get(key, 0) + 1
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        edited += 1
    return edited


def status_command(fleet: DriftFleet, output: Path) -> tuple[float, float]:
    """The command's wall time, and its CPU time (user + system): what it costs on an idle machine,
    since it is one thread; the wall time grows with the machine's load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "operations", "--project-dir", str(fleet.root), "status", "--output",
                           str(output)], env=fleet.env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"status exited {proc.returncode}: {proc.stderr[-3000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def in_process(fleet: DriftFleet) -> dict[str, float]:
    """The command's two parts, timed apart in this process (modules already imported)."""
    from operations.project.stacks import customer_stacks
    from operations.status.read import read_status
    from operations.status.page import render

    started = time.monotonic()
    stacks = customer_stacks(fleet.root)
    page = read_status(fleet.root, stacks, fleet.env)
    read = time.monotonic() - started
    started = time.monotonic()
    text = render(page)
    return {"read_seconds": read, "render_seconds": time.monotonic() - started, "page_bytes": len(text.encode()),
            "counts": page.counts}


def raw_checkpoints(fleet: DriftFleet) -> float:
    """The baseline: read and parse every checkpoint file, nothing else."""
    started = time.monotonic()
    for path in (fleet.root / "state" / ".pulumi" / "stacks").rglob("*.json"):
        json.loads(path.read_bytes())
    return time.monotonic() - started


def load_in_chromium(pages: dict[str, Path], repeat: int) -> dict[str, object]:
    """Seconds from navigation to the drawn table (body[data-ready]), fresh page each time."""
    from playwright.sync_api import sync_playwright

    found = subprocess.run(["bash", str(Path(__file__).resolve().parents[1] / "scripts" / "chromium.sh")],
                           capture_output=True, text=True)
    if found.returncode != 0:
        raise RuntimeError(f"no Chromium: {found.stderr.strip()}")
    timings: dict[str, list[float]] = {name: [] for name in pages}
    drawn: list[float] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = playwright.chromium.launch(executable_path=found.stdout.strip(), headless=True, args=args)
        try:
            for _ in range(repeat):
                for name, path in pages.items():  # interleaved, so both see the same machine
                    page = browser.new_page(viewport={"width": 1600, "height": 1000})
                    page.on("request", lambda request: requests.append(request.url))
                    started = time.monotonic()
                    page.goto(path.as_uri())
                    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
                    timings[name].append(time.monotonic() - started)
                    if name == "page":
                        rows = page.locator("#rows tr.row").count()
                        page.wait_for_selector("body[data-painted-ms]", state="attached", timeout=60_000)
                        drawn.append(float(page.evaluate("document.body.dataset.paintedMs")) / 1000)
                    page.close()
        finally:
            browser.close()
    own = {p.as_uri() for p in pages.values()}
    return {"load": {k: statistics.median(v) for k, v in timings.items()}, "rows_in_table": rows,
            "painted": statistics.median(drawn),
            "other_requests": len([u for u in requests if u not in own])}


def blank_twin(page: Path, target: Path) -> Path:
    """The same bytes of data in a page that draws nothing: what a browser needs just to load them."""
    data = page.read_text().split('<script type="application/json" id="status-data">', 1)[1].split("</script>", 1)[0]
    target.write_text(f"<!DOCTYPE html><html><body><pre>{html.escape(data)}</pre>"
                      f"<script>document.body.setAttribute('data-ready', 'true')</script></body></html>")
    return target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks status", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10, help="fleet runs in the history (over every customer)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each figure (medians)")
    parser.add_argument("--json", dest="json_file", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    n = args.customers
    root = Path(tempfile.mkdtemp(prefix="bench-status-"))
    emulator = Emulator(root)
    from tests.conftest import Control

    figures: dict = {"customers": n, "history_runs": args.runs}
    try:
        fleet = DriftFleet(root / "project", emulator.url, Control(emulator.url), engine_bin())
        started = time.monotonic()
        fleet.make_templates()
        stacks = fleet.add_customers(n)
        record_history(fleet, fleet.stacks, args.runs)
        figures["needs_up_made"] = edit_declarations(fleet, stacks, every=50)
        print(f"made {n} customers (+3 templates) and {args.runs} runs of history in "
              f"{time.monotonic() - started:.0f} s", file=sys.stderr)
        figures["load_before"] = load_average()

        before = emulator.last_request_id()
        output = root / "page.html"
        builds = [status_command(fleet, output) for _ in range(args.repeat)]
        figures["build_seconds"] = round(statistics.median(wall for wall, _ in builds), 3)
        figures["build_cpu_seconds"] = round(statistics.median(cpu for _, cpu in builds), 3)
        parts = [in_process(fleet) for _ in range(args.repeat)]
        figures["read_seconds"] = round(statistics.median(p["read_seconds"] for p in parts), 3)
        figures["render_seconds"] = round(statistics.median(p["render_seconds"] for p in parts), 3)
        figures["page_mib"] = round(parts[0]["page_bytes"] / 2**20, 2)
        figures["counts"] = parts[0]["counts"]
        figures["baseline_raw_checkpoints_seconds"] = round(statistics.median(
            raw_checkpoints(fleet) for _ in range(args.repeat)), 3)
        figures["read_vs_raw_checkpoints"] = round(figures["read_seconds"] / figures["baseline_raw_checkpoints_seconds"], 2)
        loaded = load_in_chromium({"page": output, "blank": blank_twin(output, root / "blank.html")}, args.repeat)
        figures["load_seconds"] = round(loaded["load"]["page"], 3)
        figures["painted_seconds"] = round(loaded["painted"], 3)
        figures["baseline_blank_load_seconds"] = round(loaded["load"]["blank"], 3)
        figures["load_vs_blank"] = round(figures["load_seconds"] / figures["baseline_blank_load_seconds"], 2)
        figures["rows_in_table"] = loaded["rows_in_table"]
        figures["browser_other_requests"] = loaded["other_requests"]
        figures["vendor_requests"] = emulator.requests_since(before)
        figures["load_after"] = load_average()
    finally:
        emulator.stop()
        shutil.rmtree(root, ignore_errors=True)

    figures["machine"] = f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}"
    print(f"status benchmark: {n} customers (+3 templates), {args.runs} fleet runs of history, medians of "
          f"{args.repeat}; {figures['machine']}; load average {figures['load_before']} before, "
          f"{figures['load_after']} after")
    for key in ("build_seconds", "build_cpu_seconds", "read_seconds", "render_seconds",
                "baseline_raw_checkpoints_seconds", "read_vs_raw_checkpoints", "page_mib", "load_seconds",
                "painted_seconds", "baseline_blank_load_seconds", "load_vs_blank", "rows_in_table", "vendor_requests",
                "browser_other_requests", "counts"):
        verdict = ""
        if key in TARGETS:
            met = figures[key] <= TARGETS[key]
            verdict = f" (target {'<=' if TARGETS[key] else '=='} {TARGETS[key]}: {'met' if met else 'missed'})"
        print(f"  {key}: {figures[key]}{verdict}")
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(figures, indent=2) + "\n")
    return 0
