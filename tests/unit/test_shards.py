"""`--shard K/N` and `fleet report`: the assignment of customers to shards (stable, by name only) and
the merge of the shards' reports, without the engine. Three shard processes on one PostgreSQL
backend are in tests/e2e/test_fleet_shards.py."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from operations.fleet import operation as fleet_module
from operations.cli import main
from operations.exit_status import ExitStatus
from operations.fleet.merge import MergeError, merge_reports
from operations.fleet.models import FleetReport
from operations.differences import FieldDrift
from operations.fleet.models import CustomerResult
from operations.fleet.shards import Shard, ShardError, parse_shard, shard_of, shard_selection

REPO = Path(__file__).resolve().parents[2]
NAMES = [f"customer-{i:04d}.{env}" for i in range(400) for env in ("production", "staging")]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DRIFT = ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE, ExitStatus.DRIFT


def test_every_name_is_in_exactly_one_shard_and_the_shards_are_balanced():
    for count in (1, 2, 3, 7, 16):
        shards = [Shard(k, count) for k in range(1, count + 1)]
        owners = {name: [s for s in shards if s.owns(name)] for name in NAMES}
        assert all(len(o) == 1 for o in owners.values())
        sizes = Counter(o[0].index for o in owners.values())
        assert set(sizes) == set(range(1, count + 1))
        assert max(sizes.values()) <= 1.35 * len(NAMES) / count, sizes  # no shard gets far more than its part


def test_the_shard_depends_on_the_name_and_n_only():
    # The same in every Python process, whatever its hash seed (no hash()).
    here = [shard_of(n, 5) for n in NAMES[:50]]
    code = ("import json, sys; from operations.fleet.shards import shard_of; "
            "print(json.dumps([shard_of(n, 5) for n in json.load(sys.stdin)]))")
    for seed in ("0", "1", "12345"):
        out = subprocess.run([sys.executable, "-c", code], input=json.dumps(NAMES[:50]), capture_output=True,
                             text=True, cwd=REPO, env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
        assert json.loads(out) == here


def test_pinned_assignments_do_not_change_between_releases():
    """A change of the function would move customers between the jobs of teams that run shards:
    these values are the contract."""
    assert [shard_of(f"c{i}", 4) for i in range(12)] == [1, 3, 3, 3, 3, 1, 1, 3, 2, 3, 1, 4]
    assert [shard_of(n, 3) for n in ("acme.production", "bakery.production", "demo-cakemail")] == [2, 2, 1]


def test_order_of_files_and_other_stacks_do_not_matter():
    class Stack:
        def __init__(self, name):
            self.name = name

    stacks = [Stack(n) for n in NAMES[:60]]
    shard = Shard(2, 3)
    chosen = {s.name for s in shard_selection(stacks, shard)}
    shuffled = stacks[:]
    random.Random(7).shuffle(shuffled)
    assert {s.name for s in shard_selection(shuffled, shard)} == chosen
    assert {s.name for s in shard_selection(stacks[:30], shard)} == {n for n in chosen if n in {s.name for s in stacks[:30]}}


def test_adding_a_customer_moves_no_other_one_and_a_new_shard_takes_only_its_own():
    before = {n: shard_of(n, 4) for n in NAMES}
    after = {n: shard_of(n, 4) for n in NAMES + ["newcomer.production"]}
    assert {n: after[n] for n in NAMES} == before
    grown = {n: shard_of(n, 5) for n in NAMES}
    moved = [n for n in NAMES if grown[n] != before[n]]
    assert moved and all(grown[n] == 5 for n in moved)  # consistent hashing: only to the new shard
    assert len(moved) < 0.3 * len(NAMES)


@pytest.mark.parametrize("value, environ, expected", [
    ("2/3", {}, Shard(2, 3)),
    (" 1 / 1 ", {}, Shard(1, 1)),
    ("auto/3", {"JOB_COMPLETION_INDEX": "0"}, Shard(1, 3)),     # Kubernetes counts from 0
    ("auto/3", {"JOB_COMPLETION_INDEX": "2"}, Shard(3, 3)),
    ("auto/4", {"CI_NODE_INDEX": "4", "CI_NODE_TOTAL": "4"}, Shard(4, 4)),  # GitLab counts from 1
    ("auto/2", {"BUILDKITE_PARALLEL_JOB": "1"}, Shard(2, 2)),
    ("auto/2", {"CIRCLE_NODE_INDEX": "0", "CIRCLE_NODE_TOTAL": "2"}, Shard(1, 2)),
])
def test_shard_values(value, environ, expected):
    assert parse_shard(value, environ) == expected


@pytest.mark.parametrize("value, environ, message", [
    ("0/3", {}, "K must be between 1 and N (3)"),
    ("4/3", {}, "K must be between 1 and N (3)"),
    ("1/0", {}, "N must be at least 1"),
    ("two/3", {}, "is not K/N"),
    ("3", {}, "is not K/N"),
    ("auto/3", {}, "no job index in the environment (looked for JOB_COMPLETION_INDEX"),
    ("auto/3", {"JOB_COMPLETION_INDEX": "3"}, "JOB_COMPLETION_INDEX=3 is outside the 3 shards (it counts from 0)"),
    ("auto/3", {"JOB_COMPLETION_INDEX": "x"}, "JOB_COMPLETION_INDEX='x' is not a job index"),
    ("auto/3", {"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "4"}, "CI_NODE_TOTAL=4 jobs, but N is 3"),
])
def test_bad_shard_values_say_why(value, environ, message):
    with pytest.raises(ShardError) as caught:
        parse_shard(value, environ)
    assert message in str(caught.value)


# --- fleet report: merging the shards' reports ------------------------------------------------------

def _result(stack, result="no changes", operation="preview", **extra):
    return CustomerResult(stack=stack, customer=stack.split(".")[0], platform="cakemail", environment="production",
                          operation=operation, result=result, **extra)


def _shards(names, count, operation="preview", results=None):
    reports = []
    for k in range(1, count + 1):
        mine = [n for n in sorted(names) if shard_of(n, count) == k]
        reports.append((f"shard-{k}.json", FleetReport(
            operation=operation, started_at=f"2026-12-01T10:00:0{k}+00:00", duration_seconds=10.0 + k, parallel=2,
            exit_status=0, shard=f"{k}/{count}",
            customers=[(results or {}).get(n) or _result(n, operation=operation) for n in mine])))
    return reports


def test_merged_report_is_the_single_runs_report():
    names = [f"c{i:02d}.production" for i in range(12)]
    merged = merge_reports(_shards(names, 3))
    single = FleetReport(operation="preview", started_at="2026-12-01T10:00:01+00:00", duration_seconds=0, parallel=6,
                         exit_status=0, customers=[_result(n) for n in sorted(names)])
    assert merged.model_dump(exclude={"duration_seconds"}) == single.model_dump(exclude={"duration_seconds"})
    assert merged.duration_seconds == 15.0  # from the first start to the last end: 10:00:01 to 10:00:03 + 13 s
    assert merged.shard is None and merged.missing_shards == []


def test_merged_exit_status_is_a_single_runs_failure_then_drift():
    names = [f"c{i:02d}.production" for i in range(9)]
    drift = _result(names[0], "drift", "drift", drift=[FieldDrift(resource="r", type="SubAccount", field="name",
                                                                  recorded="a", actual="b")])
    assert merge_reports(_shards(names, 3, "drift", {names[0]: drift})).exit_status == EXIT_DRIFT
    failed = _result(names[1], "failed", "drift", error="boom")
    assert merge_reports(_shards(names, 3, "drift", {names[0]: drift, names[1]: failed})).exit_status == EXIT_FAILED


def test_a_missing_shard_is_named_and_fails_the_merge():
    names = [f"c{i:02d}.production" for i in range(12)]
    reports = _shards(names, 3)
    merged = merge_reports([reports[0], reports[2]])
    assert merged.missing_shards == ["2/3"] and merged.exit_status == EXIT_FAILED


@pytest.mark.parametrize("tamper, message", [
    (lambda r: [r[0], r[0]], "shard 1/3 is given twice: shard-1.json and shard-1.json"),
    (lambda r: [r[0], (r[1][0], r[1][1].model_copy(update={"operation": "up"}))], "different operations"),
    (lambda r: [r[0], (r[1][0], r[1][1].model_copy(update={"shard": "2/4"}))], "split the fleet differently"),
    (lambda r: [r[0], (r[1][0], r[1][1].model_copy(update={"shard": None}))], "shard-2.json is not a shard's report"),
    (lambda r: [r[0], (r[1][0], r[1][1].model_copy(update={"customers": r[0][1].customers}))], "is in two reports"),
])
def test_reports_that_do_not_add_up_are_refused(tamper, message):
    with pytest.raises(MergeError) as caught:
        merge_reports(tamper(_shards([f"c{i:02d}.production" for i in range(12)], 3)))
    assert message in str(caught.value)


def test_fleet_report_command_prints_the_table_and_names_the_missing_shard(tmp_path):
    names = [f"c{i:02d}.production" for i in range(12)]
    files = []
    for name, report in _shards(names, 3):
        path = tmp_path / name
        path.write_text(report.model_dump_json())
        files.append(str(path))
    out = tmp_path / "merged.json"
    result = CliRunner().invoke(main, ["fleet", "report", *files, "--json", str(out)])
    assert result.exit_code == EXIT_OK, result.output
    assert "preview: 12 customers: 12 no changes" in result.output
    assert json.loads(out.read_text())["missing_shards"] == []
    result = CliRunner().invoke(main, ["fleet", "report", files[0], files[2]])
    assert result.exit_code == EXIT_FAILED
    assert "no report for shard(s) 2/3" in result.output and "the report of shard 2/3" in result.output
    (tmp_path / "junk.json").write_text("{}")
    result = CliRunner().invoke(main, ["fleet", "report", str(tmp_path / "junk.json")])
    assert result.exit_code == EXIT_USAGE and "junk.json: not a `fleet --json` report" in result.output


# --- --shard on the fleet subcommands ----------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: email-partners\nruntime: python\nmain: stacks/\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    for i in range(10):
        (tmp_path / "stacks" / f"Pulumi.c{i}.production.yaml").write_text(
            yaml.safe_dump({"config": {"email-partners:customer": {"platform": "signupto"}}}))
    return tmp_path


@pytest.mark.parametrize("operation", ["preview", "up", "refresh", "drift"])
def test_every_fleet_subcommand_runs_only_its_shard(project, monkeypatch, tmp_path, operation):
    ran = []

    def fake_run_fleet(stacks, operation, project_dir, parallel, console, progress=None, refresh=False, no_policy=False):
        ran.extend(s.name for s in stacks)
        return FleetReport(operation=operation, started_at="2026-12-01T10:00:00+00:00", duration_seconds=1,
                           parallel=parallel, exit_status=0, customers=[_result(s.name, operation=operation)
                                                                         for s in stacks])
    monkeypatch.setattr(fleet_module, "run_fleet", fake_run_fleet)

    def fake_sweep(stacks, project_dir, console, confirm=False, parallel=None):  # `fleet drift`'s default path
        return fake_run_fleet(stacks, "drift", project_dir, parallel, console)
    monkeypatch.setattr(fleet_module, "sweep", fake_sweep)
    covered = []
    for k in (1, 2, 3):
        out = tmp_path / f"{operation}-{k}.json"
        ran.clear()
        result = CliRunner().invoke(main, ["--project-dir", str(project), "fleet", operation, "--shard", f"{k}/3",
                                           "--yes", "--json", str(out)] if operation in ("up", "refresh") else
                                    ["--project-dir", str(project), "fleet", operation, "--shard", f"{k}/3",
                                     "--json", str(out)])
        assert result.exit_code == EXIT_OK, result.output
        assert sorted(ran) == sorted(n for n in (f"c{i}.production" for i in range(10)) if shard_of(n, 3) == k)
        assert json.loads(out.read_text())["shard"] == f"{k}/3"
        covered += ran
    assert sorted(covered) == sorted(f"c{i}.production" for i in range(10))


def test_auto_shard_reads_the_job_index_and_an_empty_shard_still_reports(project, monkeypatch, tmp_path):
    monkeypatch.setattr(fleet_module, "run_fleet", lambda *a, **k: pytest.fail("an empty shard runs nothing"))
    assert not [i for i in range(10) if shard_of(f"c{i}.production", 40) == 2]  # shard 2 of 40 has none of them
    out = tmp_path / "empty.json"
    result = CliRunner().invoke(main, ["--project-dir", str(project), "fleet", "preview", "--shard", "auto/40",
                                       "--json", str(out)], env={"JOB_COMPLETION_INDEX": "1"})
    assert result.exit_code == EXIT_OK, result.output
    report = json.loads(out.read_text())
    assert report["shard"] == "2/40" and report["customers"] == []
    result = CliRunner().invoke(main, ["--project-dir", str(project), "fleet", "preview", "--shard", "auto/3"],
                                env={"JOB_COMPLETION_INDEX": "", "CI_NODE_INDEX": None})
    assert result.exit_code == EXIT_USAGE and "no job index in the environment" in result.output
