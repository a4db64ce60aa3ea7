"""A fleet split into shards, as a CI job matrix or a Kubernetes Indexed Job runs it: three
`email-partners fleet ... --shard K/3` processes started at once on one PostgreSQL backend, over
nine customers on the three platforms, and `fleet report` merging their reports. Also the
backend's `pulumi stack ls`, which hung on PostgreSQL before the tool set PULUMI_DIY_BACKEND_PARALLEL.

These are the commands docs/ci/fleet-shards.yml and docs/kubernetes/fleet-indexed-job.yaml run."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from operations.engine import cli as engine_cli
from operations.engine.environment import engine_env
from providers.cakemail import CakemailClient

from ..conftest import Control
from .test_fleet import (FAST_RETRY, PASSPHRASE, Fleet, by_customer, cakemail_customer, ciirus_customer,
                         ciirus_user, new_partners, signupto_customer)

SHARDS = 3
# What differs between any two runs of the same operation (timing, and how many ran at once).
RUN_DETAILS = ("started_at", "duration_seconds", "parallel", "notes")


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, pulumi_bin, emulator, postgres_url):
    """Nine customer stacks (three per platform) on the PostgreSQL backend, none deployed yet."""
    control = Control(emulator.url)
    vendor_env, cakemail, _ = new_partners(control, "shards")
    project = Fleet(tmp_path_factory.mktemp("shards"), pulumi_bin, postgres_url, vendor_env)
    for name in ("alder", "birch", "cedar"):
        project.add(f"{name}.shards", cakemail_customer(f"Shard {name.title()}"))
    for name in ("dahlia", "elm", "fern"):
        project.add(f"{name}.shards", signupto_customer(f"Shard {name.title()}"))
    for name in ("gorse", "hazel", "ivy"):
        user = ciirus_user(control, f"shard-{name}")
        project.add(f"{name}.shards", ciirus_customer(f"mail.shard-{name}.example"),
                    plain={"ciirus:username": user["username"]}, secrets={"ciirus:password": user["password"]})
    project.control, project.cakemail_login = control, cakemail
    return project


def run_shards(project: Fleet, *args: str, tag: str) -> list[dict]:
    """The three shards at once, as three jobs would run them; shard 3 finds its index itself
    (`--shard auto/3` and JOB_COMPLETION_INDEX, as in a Kubernetes Indexed Job)."""
    procs = []
    for k in range(1, SHARDS + 1):
        out = project.root / f"{tag}-shard-{k}.json"
        shard = f"{k}/{SHARDS}" if k < SHARDS else f"auto/{SHARDS}"
        env = {**project.env, "JOB_COMPLETION_INDEX": str(k - 1)} if k == SHARDS else project.env
        procs.append((out, subprocess.Popen(project.command(*args, "--shard", shard, "--parallel", "1", "--json",
                                                            str(out)), env=env, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    reports = []
    for out, proc in procs:
        try:
            text = proc.communicate(timeout=300)[0]
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            pytest.fail(f"shard {out.name} did not finish in 300 s:\n{proc.communicate(timeout=30)[0]}")
        assert proc.returncode == 0, text
        reports.append(json.loads(out.read_text()) | {"file": str(out)})
    return reports


def merge(project: Fleet, files: list[str], expect: int) -> tuple[dict, str]:
    out = project.root / f"merged-{time.monotonic_ns()}.json"
    proc = subprocess.run(project.command("report", *files, "--json", str(out)), env=project.env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return json.loads(out.read_text()), proc.stdout + proc.stderr


def comparable(report: dict) -> dict:
    report = {k: v for k, v in report.items() if k not in (*RUN_DETAILS, "text", "file")}
    report["customers"] = [{k: v for k, v in c.items() if k != "duration_seconds"} for c in report["customers"]]
    return report


def test_three_shards_preview_each_customer_once_and_merge_into_the_single_runs_report(sharded):
    single = sharded.fleet("preview", "--parallel", "2", expect=0)
    assert len(single["customers"]) == 9 and {c["result"] for c in single["customers"]} == {"changes"}

    shards = run_shards(sharded, "preview", tag="preview")
    assert [r["shard"] for r in shards] == ["1/3", "2/3", "3/3"]
    seen = [c["stack"] for r in shards for c in r["customers"]]
    assert sorted(seen) == sorted(c["stack"] for c in single["customers"])  # each customer in exactly one shard
    assert all(r["customers"] for r in shards)  # nine names over three shards: none is empty here

    merged, text = merge(sharded, [r["file"] for r in shards], expect=0)
    assert comparable(merged) == comparable(single)
    assert merged["parallel"] == 3 and "preview: 9 customers: 9 changes" in text

    # A shard whose job died before writing its report: named, and the merge fails.
    missing, text = merge(sharded, [shards[0]["file"], shards[2]["file"]], expect=1)
    assert missing["missing_shards"] == ["2/3"] and "no report for shard(s) 2/3" in text
    assert len(missing["customers"]) == 9 - len(shards[1]["customers"])


def test_three_shards_update_each_customer_exactly_once(sharded):
    plan = {c["stack"]: c["changes"] for c in sharded.fleet("preview", expect=0)["customers"]}
    shards = run_shards(sharded, "up", "--yes", tag="up")
    merged, _ = merge(sharded, [r["file"] for r in shards], expect=0)
    assert {c["stack"]: (c["result"], c["changes"]) for c in merged["customers"]} == {
        stack: ("changes", changes) for stack, changes in plan.items()}
    # Exactly once: one update in each stack's history, one account per customer on the platform.
    for stack in plan:
        history = json.loads(sharded.pulumi("stack", "history", "--stack", stack, "--json").stdout)
        assert [h["kind"] for h in history] == ["update"], stack
    for name in ("Alder", "Birch", "Cedar"):
        assert len(_cakemail(sharded).accounts_named(f"Shard {name}")) == 1
    after = sharded.fleet("preview", expect=0)  # each shard recorded what its up ran with: nothing left to do
    assert {c["result"] for c in by_customer(after).values()} == {"unchanged (not run)"}


def _cakemail(project: Fleet) -> CakemailClient:
    login = project.cakemail_login
    return CakemailClient(project.control.url + "/cakemail", login["username"], login["password"], retry=FAST_RETRY)


def test_stack_ls_on_postgres_lists_every_stack_under_the_tools_environment(sharded):
    """With this engine build the listing hung on PostgreSQL past a handful of stacks (connection
    pool exhausted by the backend's 10 listing workers); under engine_env it returns."""
    expected = {f"listed-{i:02d}.shards" for i in range(12)}
    for name in sorted(expected):
        sharded.pulumi("stack", "init", name, "--no-select")
    env = engine_env({k: v for k, v in sharded.env.items() if k != "PULUMI_DIY_BACKEND_PARALLEL"})
    assert env["PULUMI_DIY_BACKEND_PARALLEL"] == "1" and env["PULUMI_CONFIG_PASSPHRASE"] == PASSPHRASE
    listed = engine_cli.list_stacks(sharded.root, env, timeout=60)  # a hang fails here, after 60 s
    assert expected <= set(listed)
    names = engine_cli.stack_names(sharded.root, env)
    assert "listed-00.shards" in names and "listed-11.shards" in names and "nobody.shards" not in names
