"""A fleet operation in the run history: one entry per customer, in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from ..history.model import RunEntry, without_url_passwords
from ..history.runs import record, run_fields
from .models import CustomerResult, FleetReport


def entry_of(result: CustomerResult, **run: Any) -> RunEntry:
    """One customer's entry; drift values masked by field name, whatever the run already did."""
    return RunEntry(stack=result.stack, customer=result.customer, platform=result.platform,
                    environment=result.environment, operation=result.operation, result=result.result,
                    changes=dict(result.changes), drift=[d.masked() for d in result.drift],
                    differs_from_code=[d.masked() for d in result.differs_from_code or []],
                    duration_seconds=result.duration_seconds, error=without_url_passwords(result.error),
                    reason=result.reason, basis=result.basis, objects=list(result.objects), detail=result.detail, **run)


def record_report(report: FleetReport, project_dir: Path, env: Optional[Mapping[str, str]] = None,
                  **warn: Callable[[str], None]) -> bool:
    """Record one fleet operation (engine path or sweep); False when the history could not be written."""
    run = run_fields(project_dir, report.exit_status, report.started_at, env)
    return record([entry_of(customer, **run) for customer in report.customers], env, **warn)
