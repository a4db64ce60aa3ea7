"""A promoted change in a review: the last promotion into the stack (stacks/promotions/<stack>.yaml,
written by `promote`) beside the plan, each promoted field marked where the plan carries it, and the
dangers that come with it marked as promoted: a promotion never carries an acknowledgement, so they
are acknowledged here again, as any other.

Shown while the plan carries any of it (or the preview failed); once an `up` has applied it, the
review of the stack no longer mentions it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..project.stacks import ProjectError
from ..promotion.changes import ENTRY, field_name, leaves
from ..promotion.records import read_promotion_record
from .models import PromotedInPlan, PromotionView, ResourceChange, StackReview

DOMAIN_FIELD = "sending_domains["


def _carries(change: ResourceChange, field: str) -> bool:
    """Whether one planned resource change is the promoted field's."""
    if field.startswith(DOMAIN_FIELD):
        domain, _, setting = field[len(DOMAIN_FIELD):].partition("]")
        if change.resource not in ("SendingDomain", "DomainVerification"):
            return False
        names = {str(v).lower() for f in change.fields if f.field == "domain" for v in (f.old, f.new) if v}
        if not setting:
            return domain in names or (change.op in ("create", "delete") and domain in change.name)
        key = setting.lstrip(".").removeprefix("verification_")
        return any(f.field.split(".")[0] == key for f in change.fields) and (not names or domain in names)
    section, _, path = field.partition(".")
    resource = {"account": "SubAccount", "features": "AccountFeatures"}.get(section)
    wanted = path if section == "account" else field
    return change.resource == resource and any(f.field == wanted or f.field.startswith(wanted + ".")
                                               for f in change.fields)


def promotion_view(project_dir: Path, review: StackReview, declaration: Optional[dict]) -> Optional[PromotionView]:
    """The stack's last promotion as the review shows it, or None (no promotion, or nothing of it planned)."""
    try:
        record = read_promotion_record(project_dir, review.stack)
    except ProjectError:
        return None
    if record is None:
        return None
    declared = {field_name(a): v for a, v in leaves(declaration or {}).items()}
    fields = []
    for promoted in record.fields:
        in_plan = any(_carries(c, promoted.field) for c in review.changes)
        now = declared.get(promoted.field)
        if promoted.field.startswith(DOMAIN_FIELD) and promoted.field.endswith("]"):
            still = (now == ENTRY) == (promoted.new is not None)
        else:
            still = now == promoted.new
        fields.append(PromotedInPlan(field=promoted.field, old=promoted.old, new=promoted.new, in_plan=in_plan,
                                     still_declared=still))
    if not any(f.in_plan for f in fields) and not review.failed:
        return None
    return PromotionView(source=record.source, base=record.base, promoted_at=record.promoted_at,
                         promoted_by=record.promoted_by, fields=fields,
                         left_out=[f"{o.field}: {o.reason}" for o in record.left_out
                                   if o.reason != "already in the target" and "copy rule" not in o.reason])


def mark_promoted_dangers(review: StackReview, view: PromotionView) -> None:
    """Each danger whose resource carries a promoted field says it came from the copy."""
    carried = {f"{c.resource} {c.name}" for c in review.changes
               for f in view.fields if _carries(c, f.field)}
    for danger in review.dangers:
        if danger.resource in carried:
            danger.promoted_from = view.source
