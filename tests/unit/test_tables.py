"""The tables the tool prints into CI logs: 120 characters wide, or COLUMNS when it is wider, and no short value
(a platform, a result) broken in two to make room ("cakema/il"); long ones wrap at spaces."""

from __future__ import annotations

import io

from rich.console import Console

from operations.commands.common import LOG_WIDTH, console
from operations.differences import CodeDifference, FieldDrift
from operations.fleet.models import CustomerResult, FleetReport
from operations.fleet.render import result_table


def report() -> FleetReport:
    drifted = CustomerResult(
        stack="a-bakery-with-a-long-name.production", customer="a-bakery-with-a-long-name", platform="cakemail",
        environment="production", operation="drift", result="drift", duration_seconds=1.2,
        drift=[FieldDrift(resource="a-bakery-with-a-long-name.production-account", type="SubAccount", field="name",
                          recorded="Fleet Bakery", actual="Bakery Renamed")],
        differs_from_code=[CodeDifference(resource="a-bakery-with-a-long-name.production-account", type="SubAccount",
                                          op="update", field="name", declared="Fleet Bakery", actual="Renamed")],
        error="cakemail GET /accounts/4 failed (HTTP 503): the service is unavailable; " * 3)
    quiet = CustomerResult(stack="florist.staging", customer="florist", platform="signupto", environment="staging",
                           operation="drift", result="no changes", differs_from_code=[])
    return FleetReport(operation="drift", started_at="t", duration_seconds=1, parallel=2, exit_status=4,
                       customers=[drifted, quiet])


def rendered(out: Console) -> list[str]:
    out.print(result_table(report()))
    return out.file.getvalue().splitlines()


def test_in_a_log_the_fleet_table_is_as_wide_as_columns_says_and_short_values_stay_whole(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    out = console()
    assert not out.is_terminal and out.width == LOG_WIDTH
    lines = rendered(Console(file=io.StringIO(), width=out.width))
    assert max(len(line) for line in lines) <= LOG_WIDTH
    cells = [cell.strip() for line in lines for cell in line.split("│")]
    for whole in ("cakemail", "signupto", "production", "staging", "no changes", "drift", "1.2s"):
        assert whole in cells, (whole, lines)
    monkeypatch.setenv("COLUMNS", "200")
    assert console().width == 200
    monkeypatch.setenv("COLUMNS", "80")  # a log does not wrap: narrower than LOG_WIDTH squeezes names unreadable
    assert console().width == LOG_WIDTH
