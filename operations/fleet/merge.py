"""`email-partners fleet report FILE...`: the shards' `--json` reports merged into the one report
(table, JSON, exit status) that a single run over the whole selection would have given.

The merge refuses what would make that report wrong: reports of different operations or shard
counts, a shard given twice, a customer in two reports. A shard whose report is missing (its job
failed before writing it, or its file was not passed) is named, and the exit status is then 1: the
fleet was not covered.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Sequence

from pydantic import ValidationError

from ..errors import UsageError
from ..exit_status import ExitStatus
from .models import FleetReport, exit_status
from .shards import ShardError, parse_shard


class MergeError(UsageError):
    """Reports that cannot be merged, with the files concerned."""


def load_report(path: Path) -> FleetReport:
    try:
        return FleetReport.model_validate_json(path.read_text())
    except OSError as exc:
        raise MergeError(f"{path}: cannot be read: {exc.strerror}") from None
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "(document)"
        raise MergeError(f"{path}: not a `fleet --json` report ({where}: {problem['msg']})") from None


def merge_reports(reports: Sequence[tuple[str, FleetReport]]) -> FleetReport:
    """One report from the shards' (name, report) pairs; `missing_shards` names the shards absent."""
    if not reports:
        raise MergeError("no report to merge")
    operations = {r.operation for _, r in reports}
    if len(operations) > 1:
        raise MergeError("the reports are of different operations: "
                         + ", ".join(f"{name} ({r.operation})" for name, r in reports))
    shards: dict[int, str] = {}
    counts = set()
    for name, report in reports:
        if report.shard is None:
            raise MergeError(f"{name} is not a shard's report (it was run without --shard): nothing to merge it with")
        try:
            shard = parse_shard(report.shard, environ={})
        except ShardError as exc:
            raise MergeError(f"{name}: shard {exc}") from None
        counts.add(shard.count)
        if shard.index in shards:
            raise MergeError(f"shard {shard} is given twice: {shards[shard.index]} and {name}")
        shards[shard.index] = name
    if len(counts) > 1:
        raise MergeError("the reports split the fleet differently: "
                         + ", ".join(f"{name} (shard {r.shard})" for name, r in reports))
    count = counts.pop()
    seen: dict[str, str] = {}
    for name, report in reports:
        for customer in report.customers:
            if customer.stack in seen:
                raise MergeError(f"stack {customer.stack} is in two reports ({seen[customer.stack]} and {name}): "
                                 f"they are not shards of one selection")
            seen[customer.stack] = name
    starts = [datetime.fromisoformat(r.started_at) for _, r in reports]
    ends = [start.timestamp() + r.duration_seconds for start, (_, r) in zip(starts, reports)]
    first = min(starts)
    merged = FleetReport(
        operation=operations.pop(), started_at=first.isoformat(timespec="seconds"),
        duration_seconds=round(max(ends) - first.timestamp(), 2), parallel=sum(r.parallel for _, r in reports),
        exit_status=0, customers=sorted((c for _, r in reports for c in r.customers), key=lambda c: c.stack),
        rate_limit_wait_seconds=round(sum(r.rate_limit_wait_seconds for _, r in reports), 2),
        missing_shards=[f"{k}/{count}" for k in range(1, count + 1) if k not in shards])
    merged.exit_status = ExitStatus.FAILED if merged.missing_shards else exit_status(merged)
    return merged
