"""A `review` run in the run history: per stack, its verdict, planned change counts and policy findings."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..history.model import PolicyFinding, RunEntry, without_url_passwords
from ..history.runs import record, run_fields
from ..project.stacks import ProjectError, customer_stacks, split_stack_name
from .models import StackReview


def review_result(review: StackReview) -> str:
    if review.failed:
        return "failed"
    if review.unacknowledged:
        return "dangerous"
    return "changes" if review.changes else "no changes"


def record_reviews(reviews: Sequence[StackReview], durations: Sequence[float], exit_status: int,
                   started_at: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> bool:
    """Record one `review` run, one entry per stack, in one transaction."""
    run = run_fields(project_dir, exit_status, started_at, env)
    try:
        environments = {s.name: s.environment for s in customer_stacks(project_dir)}
    except ProjectError:
        environments = {}
    entries = []
    for review, seconds in zip(reviews, durations):
        errors = [p.message for p in review.problems if p.severity == "error"]
        entries.append(RunEntry(
            stack=review.stack, customer=review.customer, platform=review.platform, operation="review",
            environment=environments.get(review.stack, split_stack_name(review.stack)[1]),
            result=review_result(review), changes=dict(Counter(c.op for c in review.changes)),
            policy=[PolicyFinding(policy=v.policy, enforcement=v.enforcement, resource=v.resource, message=v.message)
                    for v in review.policy_violations],
            duration_seconds=round(seconds, 2), error=without_url_passwords(errors[0] if errors else None), **run))
    return record(entries, env)
