"""`email-partners dns STACK...`: every DNS record to publish for the stacks' sending domains, in full.

Read from each stack's recorded state (the SendingDomain resources' `records` outputs, which a
create records at once, before anything is verified), so it also works after an `up` that failed
at a DomainVerification deadline. No vendor request is made. Formats: `bind` (zone-file lines, long
TXT values split into 255-character strings as DNS requires), `csv`, `json`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

from ..engine.cli import exported_state
from ..engine.errors import EngineError
from ..engine.urns import kind_of_type

def recorded_records(stack: str, project_dir: Path) -> list[dict[str, Any]]:
    """Each record of the stack's sending domains as state holds it, with the stack and domain."""
    deployment = exported_state(stack, project_dir)
    if deployment is None:
        raise EngineError(f"{stack}: cannot read its state: no stack named '{stack}' in the backend")
    resources = deployment.get("resources") or []
    # A DomainVerification that finished read the records after its SendingDomain did: its verdict is newer.
    verified = {(r.get("outputs") or {}).get("domain"): {(x["name"], x["type"]): x["validated"]
                                                         for x in (r.get("outputs") or {}).get("records") or []}
                for r in resources if kind_of_type(r.get("type", "")) == "DomainVerification"}
    found = []
    for resource in resources:
        if kind_of_type(resource.get("type", "")) != "SendingDomain":
            continue
        outputs = resource.get("outputs") or {}
        later = verified.get(outputs.get("domain"), {})
        for record in outputs.get("records") or []:
            validated = record.get("validated") or later.get((record["name"], record["type"]), False)
            found.append({"stack": stack, "domain": outputs.get("domain"), **record, "validated": validated})
    return found


def txt_strings(value: str) -> str:
    """A TXT value as zone-file character strings of at most 255 bytes each (RFC 1035)."""
    escaped = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in escaped)


def as_bind(records: list[dict[str, Any]]) -> str:
    lines = []
    for r in records:
        value = txt_strings(r["value"]) if r["type"].upper() == "TXT" else r["value"]
        state = "validated" if r.get("validated") else "pending"
        lines.append(f"; {r['stack']} {r['domain']} {r['purpose']} ({state})")
        lines.append(f"{r['name'].rstrip('.')}.\t3600\tIN\t{r['type']}\t{value}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["stack", "domain", "name", "type", "value", "purpose", "validated"])
    for r in records:
        writer.writerow([r["stack"], r["domain"], r["name"], r["type"], r["value"], r["purpose"],
                         "true" if r.get("validated") else "false"])
    return out.getvalue()


def records_of(stacks: Sequence[str], project_dir: Path, pending: bool = False) -> list[dict[str, Any]]:
    """Every record of the stacks' sending domains (only those not validated yet, with `pending`)."""
    return [r for name in stacks for r in recorded_records(name, project_dir) if not (pending and r.get("validated"))]
