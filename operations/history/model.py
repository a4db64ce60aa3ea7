"""What the run history records: one entry per customer per run, and who and what ran it.

An entry is built from a fleet operation's result (operations/fleet/record.py: the engine path's and
the drift sweep's alike) or from a `review` of one stack (operations/review/record.py). Nothing secret
gets in: drift values are masked by the run already (`[secret]`) and again by field name when an entry
is made, and any URL's password is cut from error text before it is stored.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Optional

from pydantic import BaseModel, Field

from providers.ownership import VendorObject

from ..differences import CodeDifference, FieldDrift

# CI systems' variables naming who started the job, first found wins (after EMAIL_PARTNERS_ACTOR).
ACTOR_VARIABLES = ("EMAIL_PARTNERS_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR",
                   "BUILDKITE_BUILD_CREATOR", "CIRCLE_USERNAME", "BITBUCKET_STEP_TRIGGERER_UUID", "JENKINS_USER_ID")
# The commit a CI job checked out, when git itself cannot say (a tarball, a shallow copy without .git).
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION", "BUILDKITE_COMMIT", "CIRCLE_SHA1",
                    "BITBUCKET_COMMIT", "GIT_COMMIT")
URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@", re.I)


class PolicyFinding(BaseModel):
    policy: str
    enforcement: str = Field(description="mandatory, advisory, ...")
    resource: Optional[str] = None
    message: str


class RunBasis(BaseModel):
    """What a run that wrote a customer's state ran with (operations/changes/): a later run that finds
    all of it unchanged, and the declaration equal to the state, need not start the engine."""

    code: dict[str, Optional[str]] = Field(default_factory=dict,
                                           description="digest of each part of the code that decides (basis.py)")
    environment: Optional[str] = Field(None, description="digest of the customer's environment file (None: none)")
    settings: Optional[str] = Field(None, description="digest of the stack file's config besides the declaration")
    state: Optional[str] = Field(None, description="digest of the checkpoint the run left in the backend")
    read_platform: bool = Field(False, description="the run read the platform (a refresh, or the one pass's reads)")


class PromotedField(BaseModel):
    """One field a promotion wrote into the target's stack file: the target's value before and after."""

    field: str = Field(description="features.per_month, account.suspended, sending_domains[news.acme.example]")
    old: Any = None
    new: Any = None


class Promotion(BaseModel):
    """What `promote` carried into a stack: from which copy, on which base, which fields."""

    source: str = Field(description="the copy the change was rehearsed on")
    base: str = Field(description="the fingerprint of the copy's base (operations/promotion/records.py)")
    fields: list[PromotedField] = Field(default_factory=list)

    def summary(self) -> str:
        """`promoted from acme.staging: features.per_month 50000 -> 80000, ...` (one line, values as written)."""
        return f"promoted from {self.source}: " + ", ".join(field_words(f) for f in self.fields)


def field_words(change: PromotedField) -> str:
    """`features.per_month 50000 -> 80000`, `domain news2.acme.example added`."""
    if change.field.startswith("sending_domains[") and change.field.endswith("]"):
        domain = change.field[len("sending_domains["):-1]
        return f"domain {domain} {'added' if change.old is None else 'removed' if change.new is None else 'changed'}"
    if change.old is None:
        return f"{change.field} {json.dumps(change.new)} added"
    if change.new is None:
        return f"{change.field} removed (was {json.dumps(change.old)})"
    return f"{change.field} {json.dumps(change.old)} -> {json.dumps(change.new)}"


class RunEntry(BaseModel):
    """One customer in one run. `started_at` is the run's start (ISO 8601, UTC): entries of one run
    share it and their `run_id`."""

    run_id: str
    started_at: str
    operation: str = Field(description="preview, up, refresh, drift, review, promote; retire, recover, clone, discover, "
                                       "take-over, backend copy")
    stack: str
    customer: str
    platform: Optional[str] = None
    environment: Optional[str] = None
    result: str = Field(description="no changes, changes, drift, failed, not deployed, unchanged (not run); "
                                    "review: dangerous too")
    changes: dict[str, int] = Field(default_factory=dict)
    drift: list[FieldDrift] = Field(default_factory=list, description="the platform against the state")
    differs_from_code: list[CodeDifference] = Field(default_factory=list,
                                                    description="`fleet drift`: where the platform is not the code")
    policy: list[PolicyFinding] = Field(default_factory=list)
    duration_seconds: float = 0.0
    error: Optional[str] = None
    git_commit: Optional[str] = None
    actor: Optional[str] = None
    tool_version: Optional[str] = None
    run_exit_status: Optional[int] = None
    reason: Optional[str] = Field(None, description="why the engine ran this customer (the one pass's verdict)")
    basis: Optional[RunBasis] = Field(None, description="up, refresh: what the run ran with (schema version 2)")
    # What a step that creates, adopts, deletes or moves accounts did (retire, recover, clone, discover,
    # an adoption, a take-over): the vendor objects it concerned, and what happened, in words.
    objects: list[VendorObject] = Field(default_factory=list, description="the vendor objects concerned")
    detail: Optional[str] = Field(None, description="what happened, in words")
    promotion: Optional[Promotion] = Field(None, description="`promote`: the change it carried")


def now_utc() -> str:
    """When a run starts, as its entries record it (ISO 8601, UTC, seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def without_url_passwords(text: Optional[str]) -> Optional[str]:
    """`postgres://team:s3cret@db/x` -> `postgres://team:***@db/x`."""
    return URL_PASSWORD.sub(r"\g<head>***@", text) if text else text


def actor(env: Mapping[str, str]) -> str:
    """Who ran it: the CI variable naming the job's author, else the OS user."""
    for variable in ACTOR_VARIABLES:
        if env.get(variable):
            return env[variable] if variable == "EMAIL_PARTNERS_ACTOR" else f"{env[variable]} (ci)"
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def git_commit(project_dir: Path, env: Mapping[str, str]) -> Optional[str]:
    """The project's commit, `-dirty` when tracked files differ from it; else the CI job's commit."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_dir, capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=project_dir,
                                    capture_output=True, text=True, timeout=10)
            dirty = status.returncode == 0 and status.stdout.strip()
            return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    return next((env[v] for v in COMMIT_VARIABLES if env.get(v)), None)


def tool_version() -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("email-partner-iac")
    except PackageNotFoundError:
        return None
