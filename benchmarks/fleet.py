"""`python -m benchmarks fleet [--customers 20] [--parallel N] [--latency-ms 50]`

A fleet of customers (the three platforms in turn) on the emulator with injected latency on every
vendor request, measured in one run:
- `email-partners fleet up --yes` of new customers, and a no-op `fleet preview`, against a
  sequential loop of the `pulumi` CLI over the same number of customers (ratios);
- API requests made by the no-op fleet preview (target: zero);
- the per-customer cost of a no-op `pulumi preview` against a same-shape stack whose dynamic
  provider does nothing (benchmarks/null_program: the engine's floor);
- the fleet on the file backend against the PostgreSQL backend (scripts/postgres.sh);
- the no-op fleet preview's cost per customer (wall and CPU seconds) with the program inline (the
  default) and through the engine's language host (EMAIL_PARTNERS_INLINE=0), against null-provider
  stacks previewed by the CLI at the same parallelism (the floor of one CLI run per customer);
- two shards started at once (`--shard 1/2`, `--shard 2/2`) against one process with the same
  total parallelism (on 2 cores: the overhead of sharding, not a speed-up);
- the same with SIGINT ignored (as for `nohup cmd &`): the raw CLI's extra 5 s per run, and the fleet's.
Targets: parallel >= 1.8x faster than the loop on 2 cores; no-op preview <= 1.15x the floor;
no-op fleet preview <= 0.5 s per customer at --parallel 2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import mean
from typing import Optional

import requests
import yaml

from tests.processes import kill_session
from tests.vendors import fleet_partners, vendor, without_platform_settings  # the tests' partner set-up (its docstring says why)

REPO = Path(__file__).resolve().parents[1]
PASSPHRASE = "benchmark-passphrase"
PLATFORMS = ("cakemail", "signupto", "ciirus")


def engine_bin() -> Path:
    from operations.engine.environment import engine_bin_dir

    return engine_bin_dir()


class Emulator:
    """The emulator in its own process, so its threads never compete with the measured client."""

    def __init__(self, root: Path):
        port_file = root / "emulator.port"
        self.proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--port-file", str(port_file),
                                      "--db", str(root / "emulator.db")], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.1)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def post(self, path: str, body: dict) -> dict:
        response = requests.post(self.url + "/_control" + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def last_request_id(self) -> int:
        log = requests.get(self.url + "/_control/requests", timeout=30).json()["requests"]
        return log[-1]["id"] if log else 0

    def requests_since(self, since: int) -> int:
        return len(requests.get(self.url + "/_control/requests", params={"since_id": since}, timeout=30)
                   .json()["requests"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Project:
    """A copy of a Pulumi program with its own PULUMI_HOME, on the given backend."""

    def __init__(self, root: Path, program: Path, backend_url: str, vendor_env: dict[str, str], main_dir: str):
        self.root = root
        (root / "home").mkdir(parents=True)
        if main_dir:
            (root / main_dir).mkdir()
            shutil.copy(program / "Pulumi.yaml", root / "Pulumi.yaml")
            for src in (program / main_dir).glob("*.py"):
                shutil.copy(src, root / main_dir / src.name)
        else:
            for src in program.iterdir():
                if src.is_file():
                    shutil.copy(src, root / src.name)
        self.stack_dir = root / main_dir if main_dir else root
        env = without_platform_settings(os.environ, "PULUMI_")
        env.update(PATH=f"{engine_bin()}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                   PULUMI_HOME=str(root / "home"), PULUMI_BACKEND_URL=backend_url,
                   PULUMI_CONFIG_PASSPHRASE=PASSPHRASE, PULUMI_SKIP_UPDATE_CHECK="true",
                   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true", **vendor_env)
        self.env = env
        self.stacks: list[str] = []

    def pulumi(self, *args: str) -> None:
        result = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.root, env=self.env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)}: {result.stderr[-2000:]}")

    def add(self, stack: str, config: dict, secrets: Optional[dict[str, str]] = None) -> None:
        (self.stack_dir / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        if secrets:
            self.pulumi("stack", "init", stack, "--no-select")
            self.pulumi("config", "set-all", "--stack", stack, *[a for k, v in secrets.items() for a in ("--secret", f"{k}={v}")])
        self.stacks.append(stack)

    def fleet(self, *args: str, env: Optional[dict] = None, ignore_sigint: bool = False) -> tuple[float, dict]:
        return self.fleets([args], env=env, ignore_sigint=ignore_sigint), self.last_reports[0]

    def fleets(self, runs: list[tuple[str, ...]], env: Optional[dict] = None,
               ignore_sigint: bool = False) -> float:
        """`fleet` commands started at once (shards); the wall time of the whole, then CPU seconds
        of every process they started (in self.last_cpu) and their reports (self.last_reports)."""
        outs = [self.root / f"report-{time.monotonic_ns()}-{i}.json" for i in range(len(runs))]
        before = _children_cpu()
        started = time.monotonic()
        # Each in a session of its own, ended after it: on the PostgreSQL backend the engine can exit leaving
        # its language host running, which would then load the machine during the next measures.
        procs = [subprocess.Popen([sys.executable, "-m", "operations", "--project-dir", str(self.root), "fleet", *args,
                                   "--json", str(out)], env={**self.env, **(env or {})}, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                                  preexec_fn=_ignore_sigint if ignore_sigint else None, start_new_session=True)
                 for args, out in zip(runs, outs)]
        try:
            texts = [proc.communicate()[0] for proc in procs]
            elapsed = time.monotonic() - started
        finally:
            for args, proc in zip(runs, procs):
                for leftover in kill_session(proc.pid):
                    print(f"benchmark fleet: `fleet {args[0]}` left a process running (ended): {leftover}",
                          file=sys.stderr)
        self.last_cpu = _children_cpu() - before
        self.last_reports = [json.loads(out.read_text()) if out.exists() else {} for out in outs]
        for args, proc, text in zip(runs, procs, texts):
            if proc.returncode != 0:
                raise RuntimeError(f"fleet {' '.join(args)} exited {proc.returncode}:\n{text[-6000:]}")
        return elapsed

    def parallel_loop(self, *args: str, parallel: int, ignore_sigint: bool = False,
                      stacks: Optional[list[str]] = None) -> tuple[float, float]:
        """The CLI over every stack (or `stacks`), `parallel` at a time: (wall seconds, CPU seconds)."""
        before, started = _children_cpu(), time.monotonic()

        def one(stack: str) -> None:
            result = subprocess.run(["pulumi", *args, "--stack", stack, "--non-interactive"], cwd=self.root,
                                    env=self.env, capture_output=True, text=True,
                                    preexec_fn=_ignore_sigint if ignore_sigint else None)
            if result.returncode != 0:
                raise RuntimeError(f"pulumi {' '.join(args)}: {result.stderr[-2000:]}")
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(one, stacks or self.stacks))
        return time.monotonic() - started, _children_cpu() - before

    def loop(self, *args: str, init: bool = False, stacks: Optional[list[str]] = None) -> float:
        """The CLI one customer after the other, as an engineer's shell loop would."""
        started = time.monotonic()
        for stack in stacks or self.stacks:
            if init:
                subprocess.run(["pulumi", "stack", "init", stack, "--no-select", "--non-interactive"], cwd=self.root,
                               env=self.env, capture_output=True)
            self.pulumi(*args, "--stack", stack)
        return time.monotonic() - started


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ignore_sigint() -> None:
    """As a background job of a non-interactive shell starts (`nohup cmd &`, some CI runners)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def customer(i: int, tag: str) -> dict:
    platform_ = PLATFORMS[i % 3]
    name = f"Bench {tag}{i:02d}"
    if platform_ == "cakemail":
        return {"platform": "cakemail", "features": {"per_month": 20000},
                "account": {"name": name, "owner": {"email": "owner@bench.example", "first_name": "B", "last_name": "O"}}}
    if platform_ == "signupto":
        return {"platform": "signupto", "features": {"list_limit": 250},
                "account": {"name": name, "owner": {"email": "owner@bench.example", "timezone": "Europe/London"},
                            "on_destroy": "keep"}}
    return {"platform": "ciirus", "account": {}, "features": {"daily_send_limit": 1000, "approved": True},
            "sending_domains": [{"domain": f"mail.{tag}{i:02d}.bench.example"}]}


def customer_project(root: Path, tag: str, n: int, backend: str, emulator: Emulator, vendor_env: dict) -> Project:
    project = Project(root / tag, REPO, backend, vendor_env, main_dir="stacks")
    for i in range(n):
        declaration = customer(i, tag)
        secrets = None
        if declaration["platform"] == "ciirus":  # one API user per Ciirus sub-account: credentials per stack
            user = vendor("ciirus").partner(emulator, f"bench-{tag}{i:02d}")
            secrets = {"ciirus:username": user["username"], "ciirus:password": user["password"]}
        project.add(f"{tag}{i:02d}-{declaration['platform']}.bench", {"email-partners:customer": declaration}, secrets)
    return project


def start_postgres(root: Path) -> Optional[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = f"/tmp/email-partners-pg-bench-{port}"
    result = subprocess.run(["bash", str(REPO / "scripts" / "postgres.sh"), "start", data, str(port)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"PostgreSQL unavailable, its rows are skipped: {result.stderr.strip()}", file=sys.stderr)
        return None
    (root / "postgres").write_text(f"{data} {port}")
    return result.stdout.strip().splitlines()[-1]


def stop_postgres(root: Path) -> None:
    marker = root / "postgres"
    if marker.exists():
        data, port = marker.read_text().split()
        subprocess.run(["bash", str(REPO / "scripts" / "postgres.sh"), "stop", data, port], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks fleet", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--floor-samples", type=int, default=4, help="stacks previewed one by one for the floor")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    n, parallel = args.customers, str(args.parallel)
    root = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    emulator = Emulator(root)
    rows: list[tuple[str, str]] = []

    def row(label: str, value: str) -> None:
        rows.append((label, value))
        print(f"  {label}: {value}", file=sys.stderr, flush=True)

    try:
        vendor_env = fleet_partners(emulator, "bench").env
        emulator.post("/faults", {"path": "^/(cakemail|signupto|ciirus)/", "latency_ms": args.latency_ms,
                                  "count": 10_000_000})
        (root / "state-a").mkdir()
        (root / "state-b").mkdir()
        print(f"setting up {n} customers x 2 projects in {root}", file=sys.stderr)
        fleet_a = customer_project(root, "a", n, (root / "state-a").as_uri(), emulator, vendor_env)
        loop_b = customer_project(root, "b", n, (root / "state-b").as_uri(), emulator, vendor_env)

        up_fleet, report = fleet_a.fleet("up", "--yes", "--parallel", parallel)
        assert all(c["result"] == "changes" for c in report["customers"]), report
        row(f"fleet up, {n} new customers, parallel {parallel} (file backend)", f"{up_fleet:.1f} s")
        up_loop = loop_b.loop("up", "--yes", "--skip-preview", "--refresh", init=True)
        row(f"sequential `pulumi up` loop, {n} new customers", f"{up_loop:.1f} s")
        row("up: loop / fleet", f"{up_loop / up_fleet:.2f}x (target >= 1.8x)")

        before = emulator.last_request_id()
        preview_fleet, report = fleet_a.fleet("preview", "--parallel", parallel)
        calls = emulator.requests_since(before)
        assert all(c["result"] == "no changes" for c in report["customers"]), report
        row(f"fleet preview, no-op, {n} customers", f"{preview_fleet:.1f} s")
        row("API requests during the no-op fleet preview", f"{calls} (target 0)")
        preview_loop = loop_b.loop("preview")
        row(f"sequential `pulumi preview` loop, {n} customers", f"{preview_loop:.1f} s")
        row("preview: loop / fleet", f"{preview_loop / preview_fleet:.2f}x (target >= 1.8x)")

        # The floor: one no-op preview at a time, real customer stacks against null stacks of the same shape.
        k = args.floor_samples
        real = [s for s in loop_b.stacks if s.endswith("-cakemail.bench")][:k]
        (root / "state-null").mkdir()
        null = Project(root / "null", REPO / "benchmarks" / "null_program", (root / "state-null").as_uri(), {}, "")
        for i in range(len(real)):
            null.add(f"null{i:02d}.bench", {})
        null.loop("up", "--yes", "--skip-preview", init=True)
        real_each = loop_b.loop("preview", stacks=real) / len(real)
        null_each = null.loop("preview") / len(real)
        row("no-op `pulumi preview` per customer (cakemail stack, 4 resources)", f"{real_each:.2f} s")
        row("no-op `pulumi preview` per null-provider stack of that shape (floor)", f"{null_each:.2f} s")
        row("preview / floor", f"{real_each / null_each:.2f}x (target <= 1.15x)")

        # Per customer at the chosen parallelism: inline program (the default), the language host
        # path, and the floor of one CLI run per customer (null stacks, as many as customers).
        p = int(parallel)
        wall, _ = fleet_a.fleet("preview", "--parallel", parallel)
        inline_cpu = fleet_a.last_cpu
        cli_wall, _ = fleet_a.fleet("preview", "--parallel", parallel, env={"EMAIL_PARTNERS_INLINE": "0"})
        cli_cpu = fleet_a.last_cpu
        for i in range(len(real), n):
            null.add(f"null{i:02d}.bench", {})
        null.loop("up", "--yes", "--skip-preview", init=True, stacks=null.stacks[len(real):])
        floor_wall, floor_cpu = null.parallel_loop("preview", parallel=p)
        row(f"no-op `fleet preview` per customer, parallel {p}, program inline (default)",
            f"{wall / n:.2f} s wall, {inline_cpu / n:.2f} s CPU (target <= 0.5 s)")
        row(f"the same through the engine's language host (EMAIL_PARTNERS_INLINE=0)",
            f"{cli_wall / n:.2f} s wall, {cli_cpu / n:.2f} s CPU")
        row(f"null-provider stacks, `pulumi preview` {p} at a time (floor of a CLI run per customer)",
            f"{floor_wall / n:.2f} s wall, {floor_cpu / n:.2f} s CPU")
        row("fleet preview / CLI floor, inline and language host",
            f"{wall / floor_wall:.2f}x, {cli_wall / floor_wall:.2f}x")

        # Two shards at once against one process with the same total parallelism.
        half = str(max(1, p // 2))
        two = fleet_a.fleets([("preview", "--shard", "1/2", "--parallel", half),
                              ("preview", "--shard", "2/2", "--parallel", half)])
        sizes = "+".join(str(len(r.get("customers", []))) for r in fleet_a.last_reports)
        row(f"no-op fleet preview: two shards at once ({sizes} customers, parallel {half} each) / one process "
            f"(parallel {p})", f"{two:.1f} s / {wall:.1f} s = {two / wall:.2f}x (on {os.cpu_count()} cores: "
                               f"sharding's overhead and the shards' sizes, not a speed-up)")

        # SIGINT ignored, as under `nohup cmd &`: the engine waits 5 s for each plugin that ignores it.
        sample = null.stacks[:k]
        ignored_wall, _ = null.parallel_loop("preview", parallel=1, ignore_sigint=True, stacks=sample)
        plain_wall, _ = null.parallel_loop("preview", parallel=1, stacks=sample)
        row("`pulumi preview` per null stack, SIGINT ignored / not",
            f"{ignored_wall / len(sample):.2f} s / {plain_wall / len(sample):.2f} s")
        sigint_wall, _ = fleet_a.fleet("preview", "--parallel", parallel, ignore_sigint=True)
        row("no-op fleet preview per customer, SIGINT ignored / not",
            f"{sigint_wall / n:.2f} s / {wall / n:.2f} s (the tool restores SIGINT for the engine)")

        url = None if args.no_postgres else start_postgres(root)
        if url:
            fleet_c = customer_project(root, "c", n, url, emulator, vendor_env)
            up_pg, _ = fleet_c.fleet("up", "--yes", "--parallel", parallel)
            preview_pg, _ = fleet_c.fleet("preview", "--parallel", parallel)
            row(f"fleet up, {n} new customers (PostgreSQL backend)", f"{up_pg:.1f} s")
            row(f"fleet preview, no-op, {n} customers (PostgreSQL backend)", f"{preview_pg:.1f} s")
            row("PostgreSQL / file backend: up, preview", f"{up_pg / up_fleet:.2f}x, {preview_pg / preview_fleet:.2f}x")
    finally:
        emulator.stop()
        stop_postgres(root)
        shutil.rmtree(root, ignore_errors=True)

    width = max(len(label) for label, _ in rows)
    print(f"fleet benchmark: {n} customers, {args.latency_ms} ms latency on every API request, "
          f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0
