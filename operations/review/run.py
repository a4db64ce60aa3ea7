"""`review`: what a pull request does to customers, for the reviewer.

Runs `pulumi preview` of each stack (given, or those a change since a git ref touches: their stack
files, the customers of a changed environment file, every customer when the code they all run
changed, operations/changes/since.py, as `fleet --changed-since` selects), with the policy pack in
`policies/` when there is one, and makes one review per stack: a stack file deleted or renamed since
the base first (its customer's account stays live and unmanaged), then each preview in a reviewer's
words (plan.py). Exit status: 0 nothing dangerous (or all acknowledged), 3 a dangerous change
without its acknowledgement, 1 a failed preview (a mandatory policy, an invalid declaration, missing
or refused credentials). The run is recorded in the history (record.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

from providers.platforms import describe
from providers.platforms.clients import shared_client

from ..changes.since import changed_since
from ..customers.credentials import credentials_line
from ..engine.automation import policy_pack_of
from ..engine.cli import init_stack, preview, stack_config
from ..errors import UsageError
from ..exit_status import ExitStatus
from ..history.model import now_utc
from ..project.stacks import customer_stacks, load_stack, require_stacks, split_stack_name
from .models import Problem, StackReview
from .plan import lowered_limits, removed_review, review_of, usage_dangers
from .promotion import mark_promoted_dangers, promotion_view
from .record import record_reviews

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def usage_reader(stack: str, platform: str, project_dir: Path, warn: Say = _stderr):
    """What an account uses now, as its platform reports it (one GET per account, only when the plan
    lowers a limit the platform reports usage beside)."""
    usage = describe(platform).usage

    def usage_of(account_id: str) -> Optional[dict]:
        try:
            return usage.read(shared_client(platform, stack_config(stack, project_dir)), account_id)
        except Exception as exc:  # the review still lists the change; it cannot compare it with usage
            warn(f"warning: {stack}: cannot read {describe(platform).title} account {account_id}'s usage: {exc}")
            return None
    return usage_of


def review_stack(stack: str, project_dir: Path, policy_pack: Optional[Path], acknowledged: set[str],
                 check_credentials: bool, warn: Say = _stderr) -> StackReview:
    declared = load_stack(project_dir, stack)
    run = preview(stack, project_dir, policy_pack=policy_pack)
    if not run.ok and run.stack_missing:
        # A new stack file (added, or a rename's new name): its preview is the plan of its first `up`.
        # Like `fleet preview`, create the empty stack in the backend, keeping the file as written.
        init_stack(stack, project_dir)
        run = preview(stack, project_dir, policy_pack=policy_pack)
    review = review_of(stack, declared.customer, declared.platform, run, acknowledged, declared.declaration)
    if lowered_limits(review):
        review.dangers += usage_dangers(review, usage_reader(stack, declared.platform, project_dir, warn), acknowledged)
    review.promotion = promotion_view(project_dir, review, declared.declaration)
    if review.promotion:
        mark_promoted_dangers(review, review.promotion)
    if check_credentials:
        accepted, line = credentials_line(stack, declared.platform, project_dir)
        review.credentials = line
        if not accepted:
            review.problems.append(Problem(severity="error", message=f"credentials: {line}"))
    return review


def exit_status(reviews: list[StackReview]) -> ExitStatus:
    if any(r.failed for r in reviews):
        return ExitStatus.FAILED
    if any(r.unacknowledged for r in reviews):
        return ExitStatus.DANGEROUS
    return ExitStatus.OK


def run_review(project_dir: Path, stacks: Sequence[str] = (), base: Optional[str] = None,
               acknowledged: Sequence[str] = (), check_credentials: bool = False, no_policy: bool = False,
               on_stack: Say = lambda name: None, warn: Say = _stderr,
               option: str = "--changed-since") -> tuple[list[StackReview], ExitStatus]:
    """The reviews of the named stacks and, with `base`, of every customer a change since that git ref
    touches, removed stacks first; recorded in the run history. `on_stack(name)` before each preview;
    `option`: how the user gave `base`, for messages."""
    names, removed, renamed_from = list(stacks), [], {}
    if base:
        changes = changed_since(project_dir, base, option)  # the fleet's own selection
        names = sorted(set(names) | {s.name for s in customer_stacks(project_dir) if changes.selects(s)})
        removed, renamed_from = changes.removed, {r.renamed_to: r.name for r in changes.removed if r.renamed_to}
    elif not names:
        raise UsageError("name the stacks to review, or give --changed-since REF to review those a change since "
                         "REF touches")
    require_stacks(project_dir, names)
    policy_pack = policy_pack_of(project_dir, no_policy)
    acknowledged = set(acknowledged)
    # Removed stacks first: the one danger no preview shows.
    reviews = [removed_review(r.name, split_stack_name(r.name)[0], r.platform, r.renamed_to, acknowledged)
               for r in removed]
    durations, started_at = [0.0] * len(reviews), now_utc()
    for name in names:
        on_stack(name)
        started = time.monotonic()
        review = review_stack(name, project_dir, policy_pack, acknowledged, check_credentials, warn)
        review.renamed_from = renamed_from.get(name)
        reviews.append(review)
        durations.append(time.monotonic() - started)
    status = exit_status(reviews)
    record_reviews(reviews, durations, status, started_at, project_dir)
    return reviews, status
