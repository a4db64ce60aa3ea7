"""`email-partners fleet` without the engine: selection, drift from engine events, errors, exit statuses,
the confirmation rule. The engine runs are in tests/e2e/test_fleet.py."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import CommandError
from pulumi.automation.events import EngineEvent

from operations.commands import fleet as fleet_command
from operations.fleet import operation as fleet_module
from operations.cli import main
from operations.exit_status import ExitStatus
from operations.fleet.models import exit_status
from operations.project.stacks import select_stacks
from operations.fleet.models import FleetReport
from operations.fleet.render import drift_text
from operations.engine.errors import one_line_error
from operations.engine.events import EventCollector
from operations.fleet.models import CustomerResult
from operations.values import field_differences
from operations.project.stacks import customer_stacks

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"}

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DRIFT = ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE, ExitStatus.DRIFT


@pytest.fixture
def project(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: email-partners\nruntime: python\nmain: stacks/\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    for stack, platform in (("acme.production", "cakemail"), ("acme.staging", "cakemail"),
                            ("books.production", "signupto"), ("demo", "ciirus")):
        (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(
            yaml.safe_dump({"config": {"email-partners:customer": {"platform": platform}}}))
    (tmp_path / "stacks" / "Pulumi.other.yaml").write_text("config: {}\n")  # no customer: not in the fleet
    return tmp_path


def test_selection_by_pattern_customer_and_environment(project):
    stacks = customer_stacks(project)
    assert [s.name for s in stacks] == ["acme.production", "acme.staging", "books.production", "demo"]
    assert [s.name for s in select_stacks(stacks, (), "production")] == ["acme.production", "books.production"]
    assert [s.name for s in select_stacks(stacks, ("acme",), None)] == ["acme.production", "acme.staging"]
    assert [s.name for s in select_stacks(stacks, ("b*", "demo"), None)] == ["books.production", "demo"]
    assert select_stacks(stacks, ("acme",), "qa") == []


def _event(kind: str, op: str, type_: str, name: str, old: dict | None, new: dict | None) -> EngineEvent:
    def state(values):
        return None if values is None else {"type": type_, "urn": f"urn:pulumi:s::p::{type_}::{name}", "inputs": values,
                                            "outputs": values}
    return EngineEvent.from_json({"sequence": 1, "timestamp": 0, kind: {"metadata": {
        "op": op, "urn": f"urn:pulumi:s::p::{type_}::{name}", "type": type_, "old": state(old), "new": state(new),
        "provider": ""}}})


def test_drift_is_read_from_refresh_events_per_resource_and_field():
    collector = EventCollector()
    account = "pulumi-python:dynamic/sub_account:SubAccount"
    features = "pulumi-python:dynamic/account_features:AccountFeatures"
    collector(_event("resOutputsEvent", "update", account, "acme-account",
                     {"__provider": SECRET, "name": "Acme", "owner": {"email": "a@x.example", "language": None}},
                     {"__provider": SECRET, "name": "Renamed", "owner": {"email": "a@x.example"}}))
    collector(_event("resOutputsEvent", "same", features, "acme-features", {"features": {"a": 1}}, {"features": {"a": 1}}))
    collector(_event("resOutputsEvent", "delete", features, "old-features", {"features": {"a": 1}}, None))
    collector(_event("resOutputsEvent", "update", "pulumi:pulumi:Stack", "p-s", {"x": 1}, {"x": 2}))
    collector(EngineEvent.from_json({"sequence": 2, "timestamp": 0, "summaryEvent": {
        "maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": {"same": 3, "update": 1, "delete": 1},
        "PolicyPacks": {}}}))
    drift = [(d.type, d.resource, d.field, d.recorded, d.actual) for d in collector.drift]
    # a null that the engine dropped is no drift; the provider blob never shows
    assert drift == [("SubAccount", "acme-account", "name", "Acme", "Renamed"),
                     ("AccountFeatures", "old-features", None, "present", "gone")]
    assert collector.counts == {"update": 1, "delete": 1}


def test_secret_values_show_as_secret_and_nested_fields_are_dotted():
    collector = EventCollector()
    collector(_event("resOutputsEvent", "update", "x:y:SendingDomain", "d", {"key": "a", "limits": {"daily": 1}},
                     {"key": SECRET, "limits": {"daily": 2}}))
    assert [(d.field, d.actual) for d in collector.drift] == [("key", "[secret]"), ("limits.daily", 2)]
    assert field_differences({"a": [1, 2]}, {"a": [1, 2]}) == []


def test_one_line_error_is_the_engines_reason():
    failure = CommandError(CommandResult(stdout="Updating (lock-one.qa)\n", code=255, stderr=(
        "error: update failed\n\x1b[31merror: the stack is currently locked by 1 lock(s). Either wait for "
        "the other process(es) to end or delete the lock file with `pulumi cancel`.\x1b[0m\n")))
    assert one_line_error(failure, []).startswith("the stack is currently locked by 1 lock(s)")
    assert one_line_error(failure, ["cakemail POST /accounts: 401 invalid credentials"]) == \
        "cakemail POST /accounts: 401 invalid credentials"


def test_a_verification_deadline_points_at_the_dns_command_and_cuts_no_value():
    from operations.fleet.customer import customer_error

    collector = EventCollector()
    value = "v=DKIM1; k=rsa; p=" + "A" * 392
    collector.errors.append("news.acme.example is not verified after 2s: 1 record(s) not validated yet. Publish "
                            f"them, then run `pulumi up` again (or raise timeout_seconds):\n  TXT s._domainkey.news."
                            f"acme.example \"{value}\" (dkim)")
    error = customer_error("acme.production", Exception(), collector)
    assert error == ("news.acme.example is not verified after 2s: 1 record(s) not validated yet: "
                     "`email-partners dns acme.production --pending` prints them in full.")
    collector.policy_violations.append("mandatory policy trial-within-trial-limits on a-features: too high")
    assert customer_error("a", Exception(), collector).startswith("mandatory policy trial-within-trial-limits")


def _result(stack: str, result: str, operation: str = "drift", **extra) -> CustomerResult:
    return CustomerResult(stack=stack, customer=stack, platform="cakemail", environment=None, operation=operation,
                          result=result, **extra)


def test_exit_status_failure_wins_then_drift():
    drifted = _result("a", "drift", drift=[{"resource": "a-account", "type": "SubAccount", "field": "name",
                                            "recorded": "A", "actual": "B"}])
    report = FleetReport(operation="drift", started_at="t", duration_seconds=1, parallel=2, exit_status=0,
                         customers=[drifted, _result("b", "no changes")])
    assert exit_status(report) == EXIT_DRIFT
    assert drift_text(drifted) == 'SubAccount a-account name: "A" -> "B"'
    report.customers.append(_result("c", "failed", error="boom"))
    assert exit_status(report) == EXIT_FAILED
    assert exit_status(report.model_copy(update={"operation": "up", "customers": [_result("a", "changes", "up")]})) == EXIT_OK


@pytest.mark.parametrize("operation", ["up", "refresh"])
def test_writing_operations_without_a_terminal_refuse_and_name_yes(project, monkeypatch, operation):
    monkeypatch.setattr(fleet_module, "run_fleet", lambda *a, **k: pytest.fail("nothing may run"))
    result = CliRunner().invoke(main, ["--project-dir", str(project), "fleet", operation])
    assert result.exit_code == EXIT_USAGE
    assert "--yes" in result.output and "4 customer stack(s)" in result.output


def test_unknown_selection_is_a_usage_error(project):
    result = CliRunner().invoke(main, ["--project-dir", str(project), "fleet", "preview", "--select", "nobody"])
    assert result.exit_code == EXIT_USAGE and "no customer stack matches --select nobody" in result.output


def test_report_json_and_table(project, monkeypatch, tmp_path):
    def fake_run_fleet(stacks, operation, project_dir, parallel, console, progress=None, refresh=False,
                       no_policy=False):
        customers = [_result(s.name, "no changes", operation, duration_seconds=1.5) for s in stacks]
        return FleetReport(operation=operation, started_at="t", duration_seconds=2, parallel=parallel,
                           exit_status=0, customers=customers)
    monkeypatch.setattr(fleet_module, "run_fleet", fake_run_fleet)
    monkeypatch.delenv("COLUMNS", raising=False)  # a log's width (120), whatever the terminal running the tests
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["--project-dir", str(project), "fleet", "preview", "--environment",
                                       "production", "--parallel", "3", "--json", str(out)])
    assert result.exit_code == EXIT_OK, result.output
    report = json.loads(out.read_text())
    assert [c["stack"] for c in report["customers"]] == ["acme.production", "books.production"]
    assert report["parallel"] == 3 and report["exit_status"] == 0
    lines = [line for line in result.output.splitlines() if "no changes" in line and "│" in line]
    assert len(lines) == 2 and "acme.production" in lines[0] and "1.5s" in lines[0]  # one line per customer
    assert "preview: 2 customers: 2 no changes" in result.output


@pytest.mark.parametrize("answer, runs", [("n\n", ["preview"]), ("y\n", ["preview", "up"])])
def test_up_on_a_terminal_previews_the_fleet_and_asks_once(project, monkeypatch, answer, runs):
    calls = []

    def fake_run_fleet(stacks, operation, project_dir, parallel, console, progress=None, refresh=False,
                       no_policy=False):
        calls.append((operation, [s.name for s in stacks], refresh))
        customers = [_result(s.name, "changes" if s.customer == "acme" else "no changes", operation,
                             changes={"update": 1} if s.customer == "acme" else {}) for s in stacks]
        return FleetReport(operation=operation, started_at="t", duration_seconds=1, parallel=parallel,
                           exit_status=0, customers=customers)
    monkeypatch.setattr(fleet_module, "run_fleet", fake_run_fleet)
    monkeypatch.setattr(fleet_command, "can_ask", lambda: True)
    result = CliRunner().invoke(main, ["--project-dir", str(project), "fleet", "up"], input=answer)
    assert result.exit_code == EXIT_OK, result.output
    assert result.output.count("Do you want to apply these changes to 2 customer(s)?") == 1
    assert [c[0] for c in calls] == runs
    assert calls[0][2] is True  # the plan reads every resource first, so drift is in it
    if "up" in runs:
        assert calls[1][1] == ["acme.production", "acme.staging"]  # only those with changes
    else:
        assert "cancelled: nothing was changed" in result.output


def test_the_report_counts_the_one_pass_and_the_engine_runs_waits_for_vendors_limits(project, monkeypatch):
    """With --refresh the one pass does most of a fleet's vendor reads: its waits for vendors' own limits
    are reported with those of the engine runs, not dropped."""
    from operations.changes.basis import Digests
    from operations.changes.verdict import Judgement, Verdict

    def fake_judge(stacks, operation, project_dir, **kwargs):
        verdicts = {s.name: Verdict(s, "drifted: SubAccount name" if s.customer == "acme" else None) for s in stacks}
        return Judgement(operation, verdicts, Digests(project_dir, None), True, rate_limit_wait_seconds=1.25)

    def fake_run_fleet(stacks, operation, project_dir, parallel, console, progress=None, refresh=False,
                       no_policy=False):
        return FleetReport(operation=operation, started_at="t", duration_seconds=1, parallel=parallel, exit_status=0,
                           customers=[_result(s.name, "changes", operation) for s in stacks],
                           rate_limit_wait_seconds=2.0)
    monkeypatch.setattr(fleet_module, "judge", fake_judge)
    monkeypatch.setattr(fleet_module, "run_fleet", fake_run_fleet)
    monkeypatch.setattr(fleet_module, "refused_before_running", lambda stacks, operation, project_dir:
                        (list(stacks), [], []))
    (project / "state").mkdir()
    monkeypatch.setenv("PULUMI_BACKEND_URL", (project / "state").as_uri())  # the run history goes there
    run = fleet_module.FleetRun("preview", fleet_module.select(project, (), "production"), refresh=True)
    report = run.perform(project)
    assert {c.stack: c.result for c in report.customers} == {"acme.production": "changes",
                                                             "books.production": "unchanged (not run)"}
    assert report.rate_limit_wait_seconds == 3.25
