"""The review summary as Markdown (a pull-request comment a reviewer reads in a minute) or JSON (bots)."""

from __future__ import annotations

import json
from typing import Any

from providers.resources.common import sentence

from ..history.model import PromotedField, field_words
from .models import GUARD_CODE, StackReview


def _value(value: Any) -> str:
    if value is None:
        return "—"
    text = json.dumps(value) if not isinstance(value, str) else value
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def verdict(reviews: list[StackReview]) -> str:
    failed = [r.stack for r in reviews if r.failed]
    open_dangers = sum(len(r.unacknowledged) for r in reviews)
    if failed:
        return f"preview failed: {', '.join(failed)}"
    if open_dangers:
        return f"{open_dangers} dangerous change(s) without acknowledgement"
    if any(r.dangers for r in reviews):
        return "dangerous changes, all acknowledged"
    return "nothing dangerous"


def markdown(reviews: list[StackReview]) -> str:
    lines = ["# Customer changes", "", f"**Verdict: {verdict(reviews)}** ({len(reviews)} stack(s) reviewed)", ""]
    # A customer no longer declared first: the one danger no preview shows.
    dangers = sorted(((r, d) for r in reviews for d in r.dangers), key=lambda rd: rd[1].kind != "customer-removed")
    if dangers:
        lines += ["## Dangerous", ""]
        for review, danger in dangers:
            state = "acknowledged" if danger.acknowledged else f"**not acknowledged**: acknowledge with {danger.acknowledge_with}"
            promoted = f" (promoted from `{danger.promoted_from}`)" if danger.promoted_from else ""
            lines.append(f"- **{review.stack}** ({review.customer}), {danger.resource}{promoted}: "
                         f"{sentence(danger.reason)} {sentence(state)}")
            for field in danger.fields:  # what the guard refused, as it would have been planned
                lines.append(f"  - planned: `{field.field}` {_value(field.old)} → {_value(field.new)} (replaces the "
                             f"account).")
        lines.append("")
    for review in reviews:
        switch = review.platform_switch
        where = (f"moves from {switch[0]} to {switch[1]}" if switch
                 else f"on {review.platform or 'unknown platform'}")
        lines += [f"## {review.stack}", "",
                  f"Customer `{review.customer}` {where}" + ("; preview **failed**" if review.failed else "") + "."]
        if review.credentials:
            lines.append(f"Credentials: {sentence(review.credentials)}")
        if review.renamed_from:
            lines.append(f"Renamed from `{review.renamed_from}`: a new stack, previewed as such.")
        lines.append("")
        if review.promotion:
            lines += promotion_lines(review.promotion)
        if review.file_change:
            what = f"renamed to `{review.renamed_to}`" if review.renamed_to else "deleted"
            lines += [f"Stack file {what}: nothing manages this customer after the merge (see Dangerous).", ""]
            continue
        if review.changes:
            lines += ["| resource | action | field | old | new |", "|---|---|---|---|---|"]
            for change in review.changes:
                label = f"{change.resource} `{change.name}`"
                if not change.fields:
                    lines.append(f"| {label} | {change.op} | | | |")
                for i, field in enumerate(change.fields):
                    forced = " (forces replacement)" if field.field.split(".")[0] in change.replace_reasons else ""
                    lines.append(f"| {label if i == 0 else ''} | {change.op if i == 0 else ''} | "
                                 f"`{field.field}`{forced} | {_value(field.old)} | {_value(field.new)} |")
            lines.append("")
        elif not review.failed:
            lines += ["No changes.", ""]
        if review.preview_ok:
            lines += [f"{review.unchanged} resource(s) unchanged.", ""]
        for problem in review.problems:
            if GUARD_CODE in problem.message and any(d.kind == "account-replaced" for d in review.dangers):
                continue  # the same words are the danger above
            where = f" ({problem.resource})" if problem.resource else ""
            lines.append(f"- {problem.severity}{where}: {sentence(problem.message)}")
        for violation in review.policy_violations:
            where = f" on {violation.resource}" if violation.resource else ""
            lines.append(f"- policy `{violation.policy}` ({violation.enforcement}){where}: {sentence(violation.message)}")
        if review.problems or review.policy_violations:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def promotion_lines(view) -> list[str]:
    """A promoted change, as such: from which copy, each field, and whether the plan carries it."""
    fields = []
    for f in view.fields:
        where = "" if f.in_plan else " (not in this plan)"
        where += "" if f.still_declared else " (**the stack file no longer says so**)"
        fields.append(f"{field_words(PromotedField(field=f.field, old=f.old, new=f.new))}{where}")
    lines = [f"**Promoted from `{view.source}`** (base `{view.base}`, {view.promoted_at}"
             f"{f' by {view.promoted_by}' if view.promoted_by else ''}): {'; '.join(fields)}.", ""]
    if view.left_out:
        lines += [f"Not promoted from `{view.source}`: {'; '.join(view.left_out)}.", ""]
    return lines


def as_json(reviews: list[StackReview], exit_status: int) -> str:
    return json.dumps({
        "verdict": verdict(reviews), "exit_status": exit_status,
        "stacks": [{**r.model_dump(), "failed": r.failed} for r in reviews],
    }, indent=2) + "\n"
