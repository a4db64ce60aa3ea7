"""A review's result: per stack, the changes per resource with each field's old and new value, the
dangers (each with how it is acknowledged), problems and policy findings. render.py renders them."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from providers.platforms import described
from providers.resources.sub_account import GUARD_CODE  # in every refusal of the replacement guard

# The reason to acknowledge each dangerous kind with, and how (a platform's own kinds: its description's dangers).
KINDS = {
    "customer-removed": "`review --acknowledge customer-removed`",
    "account-replaced": "`account.allow_replace: true` in the stack file",
    "account-deleted": "`account.protect: false` in the stack file (recorded by an `up`)",
    "domain-replaced": "`review --acknowledge domain-replaced`",
    "account-suspended": "`review --acknowledge account-suspended`",
    "account-undeletable": "`review --acknowledge account-undeletable`",
    **{danger.kind: f"`review --acknowledge {danger.kind}`" for platform in described() for danger in platform.dangers},
    "limit-below-usage": "`review --acknowledge limit-below-usage`",
}


class FieldChange(BaseModel):
    field: str
    old: Any = None
    new: Any = None


class ResourceChange(BaseModel):
    resource: str          # SubAccount, AccountFeatures, SendingDomain
    name: str              # the resource's name in the stack
    op: str                # create | update | replace | delete
    fields: list[FieldChange] = Field(default_factory=list)
    replace_reasons: list[str] = Field(default_factory=list)
    account_id: Optional[str] = None   # the account a features or domain resource belongs to


class Danger(BaseModel):
    kind: str
    resource: str
    reason: str
    acknowledged: bool
    acknowledge_with: str
    fields: list["FieldChange"] = Field(default_factory=list, description="the planned change, old -> new, "
                                                                         "where the danger is one the guard refused")
    promoted_from: Optional[str] = Field(None, description="the copy whose promoted change brings it (`promote`)")


class Problem(BaseModel):
    severity: str          # error | warning
    resource: Optional[str] = None
    message: str


class PolicyViolation(BaseModel):
    policy: str
    pack: Optional[str] = None
    enforcement: str       # mandatory | advisory | ...
    resource: Optional[str] = None
    message: str


class PromotedInPlan(BaseModel):
    field: str
    old: Any = None
    new: Any = None
    in_plan: bool = Field(description="the plan changes it")
    still_declared: bool = Field(True, description="the stack file still says what the promotion wrote")


class PromotionView(BaseModel):
    source: str
    base: str
    promoted_at: str
    promoted_by: Optional[str] = None
    fields: list[PromotedInPlan] = Field(default_factory=list)
    left_out: list[str] = Field(default_factory=list, description="the copy's changes not promoted, and why")


class StackReview(BaseModel):
    stack: str
    customer: str
    platform: Optional[str] = None
    preview_ok: bool
    dangers: list[Danger] = Field(default_factory=list)
    changes: list[ResourceChange] = Field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = Field(default_factory=list)
    policy_violations: list[PolicyViolation] = Field(default_factory=list)
    credentials: Optional[str] = None   # the result of --check-credentials
    file_change: Optional[str] = None   # with --base: "deleted" or "renamed" (no preview then), else None
    renamed_from: Optional[str] = None  # the stack this one's file was renamed from
    renamed_to: Optional[str] = None
    promotion: Optional["PromotionView"] = None  # a promoted change in the plan (review/promotion.py)

    @property
    def failed(self) -> bool:
        """A preview that cannot run; a refusal by the replacement guard alone is a danger, not a failure."""
        errors = [p for p in self.problems if p.severity == "error" and GUARD_CODE not in p.message]
        mandatory = [v for v in self.policy_violations if v.enforcement == "mandatory"]
        return bool(errors or mandatory) or (not self.preview_ok and not self._guard_only)

    @property
    def _guard_only(self) -> bool:
        return any(GUARD_CODE in p.message for p in self.problems)

    @property
    def platform_switch(self) -> Optional[tuple[Any, Any]]:
        """(old, new) when the plan moves the customer to another platform."""
        for change in self.changes:
            for field in change.fields:
                if change.resource == "SubAccount" and field.field == "platform" and field.old and field.new:
                    return field.old, field.new
        return None

    @property
    def unacknowledged(self) -> list[Danger]:
        return [d for d in self.dangers if not d.acknowledged]
