"""The provider's hot path against the engine's floor: a Cakemail stack of N resources (N/3 each of
SubAccount, AccountFeatures, SendingDomain) and its do-nothing twin (benchmarks/null_twin.py), run
in pairs, interleaved, on the emulator. Prints medians and ratios for each N.

    python -m benchmarks provider [--sizes 15,60,120] [--repeat 3]

Figures: no-op `pulumi preview`; `pulumi refresh --yes --skip-preview` (one pass) without and
with 50 ms latency on every API request (ratio to the floor plus (ceil(N/4)+1) x 50 ms: the
provider serves 4 calls at once); `pulumi up` creating the N; API requests per resource;
provider-process peak RSS; state bytes per resource.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
LATENCY_MS = 50
PASSPHRASE = "benchmark-passphrase"


RUN_MARKER = "EMAIL_PARTNERS_BENCH_RUN"


class ProviderRss:
    """Peak RSS (VmHWM) of this run's own dynamic-provider processes: those whose environment
    carries the run's marker (the engine passes its environment to every plugin), not every
    dynamic provider on the machine (another user's, another benchmark's)."""

    def __init__(self, marker: str):
        self.peak_kib = 0
        self._needle = f"{RUN_MARKER}={marker}".encode()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _watch(self):
        while not self._stop.wait(0.05):
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"pulumi.dynamic" not in cmdline:
                        continue
                    if self._needle not in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                        continue
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                except OSError:
                    continue


class Project:
    """One stack of one kind (real or null) in its own directory and file backend."""

    def __init__(self, root: Path, kind: str, n: int, api_url: str, partner: dict):
        self.root, self.kind, self.n = root, kind, n
        root.mkdir(parents=True)
        (root / "Pulumi.yaml").write_text(f"name: bench-{kind}\nruntime: python\n")
        shutil.copy(REPO / "benchmarks" / "stack_program.py", root / "__main__.py")
        (root / "state").mkdir()
        engine = Path.home() / ".pulumi" / "versions" / "3.259.0" / "bin"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CAKEMAIL_"))}
        self.env.update(
            PATH=f"{engine}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            PULUMI_HOME=str(root / "home"), PULUMI_BACKEND_URL=(root / "state").as_uri(),
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE, PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true", PULUMI_PYTHON_CMD=sys.executable,
            PYTHONPATH=str(REPO), BENCH_N=str(n), BENCH_KIND=kind)
        self.marker = self.env[RUN_MARKER] = f"{os.getpid()}-{root.name}"
        self.pulumi("stack", "init", "bench")
        self.pulumi("config", "set", "cakemail:apiUrl", api_url)
        self.pulumi("config", "set", "cakemail:username", partner["username"])
        self.pulumi("config", "set", "--secret", "cakemail:password", partner["password"])

    def pulumi(self, *args: str) -> float:
        started = time.perf_counter()
        proc = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"{self.kind}: pulumi {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
        return time.perf_counter() - started

    def state_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.root / "state").rglob("bench.json"))


class Emulator:
    def __init__(self, workdir: Path):
        port_file = workdir / "port"
        self.proc = subprocess.Popen([sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", "0",
                                      "--port-file", str(port_file), "--db", str(workdir / "emulator.db")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def control(self, method: str, path: str, **kwargs):
        response = requests.request(method, self.url + "/_control" + path, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def last_request_id(self) -> int:
        log = self.control("GET", "/requests")["requests"]
        return log[-1]["id"] if log else 0

    def requests_since(self, since: int) -> int:
        return len(self.control("GET", "/requests", params={"since_id": since})["requests"])

    def latency(self, on: bool) -> None:
        self.control("DELETE", "/faults")
        if on:
            self.control("POST", "/faults", json={"path": "^/cakemail", "latency_ms": LATENCY_MS, "count": 1_000_000})

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def measure(emulator: Emulator, workdir: Path, n: int, repeat: int) -> dict:
    figures: dict[str, list[float]] = {}

    def add(key, value):
        figures.setdefault(key, []).append(value)

    for rep in range(repeat):
        partner = {"username": f"bench-{n}-{rep}@bench.example", "password": f"bench-pw-{n}-{rep}"}
        emulator.control("POST", "/cakemail/partners", json=partner)
        projects = {kind: Project(workdir / f"{kind}-{n}-{rep}", kind, n, emulator.url + "/cakemail", partner)
                    for kind in ("null", "real")}
        for kind in ("null", "real") if rep % 2 == 0 else ("real", "null"):  # interleaved, order alternating
            p = projects[kind]
            before = emulator.last_request_id()
            with ProviderRss(p.marker) as rss:
                add(f"create.{kind}", p.pulumi("up", "--yes", "--skip-preview"))
            add(f"create_requests.{kind}", emulator.requests_since(before) / n)
            add(f"rss.{kind}", rss.peak_kib / 1024)
            add(f"state.{kind}", p.state_bytes() / n)
        for step in ("preview", "refresh", "refresh50"):
            emulator.latency(step == "refresh50")
            for kind in ("null", "real") if rep % 2 == 0 else ("real", "null"):
                p = projects[kind]
                before = emulator.last_request_id()
                args = ("preview", "--expect-no-changes") if step == "preview" else ("refresh", "--yes", "--skip-preview")
                add(f"{step}.{kind}", p.pulumi(*args))
                add(f"{step}_requests.{kind}", emulator.requests_since(before) / n)
            emulator.latency(False)
        for p in projects.values():
            p.pulumi("destroy", "--yes", "--skip-preview")
            shutil.rmtree(p.root, ignore_errors=True)
    return {k: statistics.median(v) for k, v in figures.items()}


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def table(results: dict[int, dict]) -> str:
    rows = [
        ("no-op preview (real / null)", lambda f, n: f"{f['preview.real'] / f['preview.null']:.2f}x"),
        ("  requests per resource", lambda f, n: f"{f['preview_requests.real']:.2f}"),
        ("refresh (real / null)", lambda f, n: f"{f['refresh.real'] / f['refresh.null']:.2f}x"),
        ("refresh, 50 ms latency (real / (null + (ceil(N/4)+1) x 50 ms))",
         lambda f, n: f"{f['refresh50.real'] / (f['refresh50.null'] + (math.ceil(n / 4) + 1) * LATENCY_MS / 1000):.2f}x"),
        ("  refresh requests per resource per pass", lambda f, n: f"{f['refresh_requests.real']:.2f}"),
        ("create (real / null)", lambda f, n: f"{f['create.real'] / f['create.null']:.2f}x"),
        ("  create requests per resource", lambda f, n: f"{f['create_requests.real']:.2f}"),
        ("provider peak RSS, MiB (real / null)", lambda f, n: f"{f['rss.real']:.0f} / {f['rss.null']:.0f}"),
        ("state bytes per resource (real / null)", lambda f, n: f"{f['state.real']:.0f} / {f['state.null']:.0f}"),
        ("seconds: preview, refresh, refresh 50 ms, create (real)",
         lambda f, n: f"{f['preview.real']:.1f}, {f['refresh.real']:.1f}, {f['refresh50.real']:.1f}, {f['create.real']:.1f}"),
    ]
    sizes = sorted(results)
    lines = ["| figure | " + " | ".join(f"N={n}" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(results[n], n) for n in sizes) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks provider", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="15,60,120", help="stack sizes N, comma-separated (multiples of 3)")
    parser.add_argument("--repeat", type=int, default=3, help="paired runs per size (medians are printed)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-provider-") as tmp:
        workdir = Path(tmp)
        emulator = Emulator(workdir)
        try:
            results = {}
            for n in sizes:
                print(f"measuring N={n} ({args.repeat} paired runs)...", file=sys.stderr, flush=True)
                results[n] = measure(emulator, workdir, n, args.repeat)
        finally:
            emulator.stop()
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}; "
          f"medians of {args.repeat} paired, interleaved runs on the emulator")
    print(table(results))
    return 0
