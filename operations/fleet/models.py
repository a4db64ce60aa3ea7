"""What a fleet operation reports: one result per customer, the run's report, and its exit status.

The engine path (customer.py), the one-pass sweep (operations/drift/) and a merge of shards'
reports (merge.py) all produce these; the table and JSON render them (render.py), the run history
records them (record.py).
"""

from __future__ import annotations

from typing import Literal, Optional, Protocol

from pydantic import BaseModel, Field

from providers.ownership import VendorObject

from ..differences import CodeDifference, FieldDrift
from ..exit_status import ExitStatus
from ..history.model import RunBasis, now_utc

__all__ = ["Result", "OPERATIONS", "UNCHANGED", "CustomerResult", "FleetReport", "exit_status", "now_utc", "Display", "NoDisplay"]

Result = Literal["no changes", "changes", "adopted", "drift", "failed", "not deployed", "unchanged (not run)"]
OPERATIONS = ("preview", "up", "refresh", "drift")
UNCHANGED: Result = "unchanged (not run)"  # the one pass's verdict: the engine would do nothing (operations/changes/)


class CustomerResult(BaseModel):
    stack: str
    customer: str
    platform: Optional[str]
    environment: Optional[str]
    operation: str
    result: Result
    changes: dict[str, int] = Field(default_factory=dict, description="create/update/replace/delete counts")
    drift: list[FieldDrift] = Field(default_factory=list,
                                    description="what changed on the platform since the state was written")
    differs_from_code: Optional[list[CodeDifference]] = Field(
        None, description="`fleet drift`: where the platform is not what the code declares ([] when it is; "
                          "None when not checked). Unlike `drift`, a refresh does not clear it")
    duration_seconds: float = 0.0
    error: Optional[str] = None
    reason: Optional[str] = Field(None, description="preview, up: why the one pass sent this customer to the engine "
                                                    "(None: unchanged, or every customer ran through it)")
    plan: Optional[list[CodeDifference]] = Field(
        None, description="preview, up through the engine: each step of its plan, field by field (None: not run)")
    basis: Optional[RunBasis] = Field(None, exclude=True, description="up, refresh: what the run ran with, "
                                                                      "for the run history (operations/changes/)")
    objects: list[VendorObject] = Field(default_factory=list, description="the vendor objects it adopted, or "
                                                                          "whose ownership refused it")
    detail: Optional[str] = Field(None, description="what happened to them, in words (the run history keeps it)")

    @property
    def drifted(self) -> bool:
        """The platform is not what the code says (or, where that was not checked, not what state says)."""
        return bool(self.drift) or bool(self.differs_from_code)


class FleetReport(BaseModel):
    """The JSON document of `--json`: the run, then one entry per customer (sorted by stack)."""

    operation: str
    started_at: str
    duration_seconds: float
    parallel: int
    exit_status: int
    shard: Optional[str] = Field(None, description="K/N when this run was one shard of N (--shard)")
    missing_shards: list[str] = Field(default_factory=list,
                                      description="merged reports (`fleet report`): the shards with no report")
    customers: list[CustomerResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="how the run went about it (e.g. `fleet drift`'s sweep)")
    rate_limit_wait_seconds: float = Field(
        0.0, description="how long requests were held for the vendors' own rate limits (a Retry-After, or the reset "
                         "of a spent window): overlapping waits counted once; a merged report sums its shards'")

    @property
    def failed(self) -> list[CustomerResult]:
        return [c for c in self.customers if c.result == "failed"]

    @property
    def drifted(self) -> list[CustomerResult]:
        return [c for c in self.customers if c.drifted]


def exit_status(report: FleetReport) -> ExitStatus:
    if report.failed:
        return ExitStatus.FAILED
    if report.operation == "drift" and report.drifted:
        return ExitStatus.DRIFT
    return ExitStatus.OK


class Display(Protocol):
    """What a fleet run tells as it goes (a live display on a terminal: render.Progress)."""

    def start(self, stack: str) -> None: ...

    def step(self, stack: str, text: str) -> None: ...

    def finish(self, result: CustomerResult) -> None: ...


class NoDisplay:
    """Tells nothing: a run driven by a program, a CI job or a test."""

    def start(self, stack: str) -> None:
        pass

    def step(self, stack: str, text: str) -> None:
        pass

    def finish(self, result: CustomerResult) -> None:
        pass
