"""A promotion and `promote --check` for people (text, a table) and for machines (JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import yaml
from rich.markup import escape
from rich.table import Table

from ..errors import UsageError
from ..history.model import PromotedField, field_words
from .check import CopyStatus
from .run import Promoted


def parse_setting(text: str) -> tuple[str, Any]:
    """`--set features.per_month=80000` -> ("features.per_month", 80000): the value read as YAML, so
    numbers, true/false and "unlimited" are what a stack file would say."""
    field, equals, value = text.partition("=")
    if not equals or not field.strip():
        raise UsageError(f"--set {text!r}: expected FIELD=VALUE (e.g. --set features.per_month=80000)")
    try:
        return field.strip(), yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise UsageError(f"--set {text!r}: the value is not a YAML scalar: {exc}") from None


def _value(value: Any) -> str:
    return "not declared" if value is None else json.dumps(value)


def promotion_text(result: Promoted, project_dir: Path) -> str:
    plan, lines = result.plan, []
    if not plan.changes:
        lines.append(f"Nothing to promote from {plan.copy_stack} to {plan.target}: the copy has no change since its "
                     f"base ({plan.base}) that is not already in the target.")
    else:
        lines.append(f"Promote {plan.copy_stack} -> {plan.target} (base {plan.base}):")
        width = max(len(c.field) for c in plan.changes)
        for change in plan.changes:
            if change.field.startswith("sending_domains[") and len(change.address) == 2:
                what = "added" if change.old is None else "removed"
            else:
                what = f"{_value(change.old)} -> {_value(change.new)}"
                if change.copy_new != change.new or change.copy_old is not None:
                    what += f"   (on the copy: {_value(change.copy_old)} -> {_value(change.copy_new)})"
            lines.append(f"  {change.field:<{width}}  {what}")
    if plan.left_out:
        lines.append("Not promoted:")
        lines += [f"  {o.field}: {o.reason}" for o in plan.left_out]
    if plan.target_changed:
        lines.append(f"{plan.target} changed since the copy (kept as it is): "
                     + ", ".join(field_words(f) for f in plan.target_changed))
    if result.diff:
        lines += ["", result.diff.rstrip("\n"), ""]
    target = result.target_file.relative_to(project_dir) if result.target_file.is_relative_to(project_dir) \
        else result.target_file
    if result.written:
        lines.append(f"Wrote {target} and {result.record_file.relative_to(project_dir)}, and moved the\ncopy's base "
                     f"({result.base_file.relative_to(project_dir)}). Next: commit them in a pull request; "
                     f"`email-partners review {plan.target}` shows the promotion beside the plan (a dangerous change "
                     f"is acknowledged there again).")
    elif plan.changes:
        lines.append(f"Dry run: {target} was not written.")
    return "\n".join(lines) + "\n"


def promotion_json(result: Promoted, project_dir: Path) -> str:
    plan = result.plan
    return json.dumps({
        "copy": plan.copy_stack, "target": plan.target, "base": plan.base, "written": result.written,
        "file": str(result.target_file.relative_to(project_dir)),
        "record": str(result.record_file.relative_to(project_dir)) if result.record_file else None,
        "base_record": str(result.base_file.relative_to(project_dir)) if result.base_file else None,
        "changes": [c.model_dump() for c in plan.changes], "left_out": [o.model_dump() for o in plan.left_out],
        "target_changed": [f.model_dump() for f in plan.target_changed], "diff": result.diff,
        "warnings": result.warnings}, indent=2) + "\n"


def _fields(fields: list[PromotedField]) -> str:
    return "\n".join(field_words(f) for f in fields) or "-"


def check_table(statuses: list[CopyStatus], environment: Optional[str]) -> Table:
    title = f"copies{f' in {environment}' if environment else ''} against the stacks they were copied from"
    table = Table(title=title, title_justify="left")
    for column in ("copy", "target", "state", "to promote", "target changed since the copy"):
        table.add_column(column, overflow="fold")
    for s in statuses:
        to_promote = [field_words(f) for f in s.to_promote] + [f"{d.field}: needs a decision" for d in s.needs_decision]
        table.add_row(escape(s.copy_stack), escape(s.target or "-"), s.state + (f"\n{escape(s.reason)}" if s.reason else ""),
                      escape("\n".join(to_promote) or "-"), escape(_fields(s.target_changed)))
    return table


def check_json(statuses: list[CopyStatus]) -> str:
    return json.dumps({"copies": [s.model_dump(mode="json") for s in statuses]}, indent=2) + "\n"
