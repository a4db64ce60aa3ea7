"""`email-partners dns STACK...`: every DNS record to publish for the stacks' sending domains, in full.

Read from each stack's recorded state (the SendingDomain resources' `records` outputs, which a
create records at once, before anything is verified), so it also works after an `up` that failed
at a DomainVerification deadline. No vendor request is made. Formats: `bind` (zone-file lines, long
TXT values split into 255-character strings as DNS requires), `csv`, `json`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import click

from . import automation

SENDING_DOMAIN = ":SendingDomain"
VERIFICATION = ":DomainVerification"


def recorded_records(stack: str, project_dir) -> list[dict[str, Any]]:
    """Each record of the stack's sending domains as state holds it, with the stack and domain."""
    result = automation.run_cli(["stack", "export", "--stack", stack], project_dir)
    if result.returncode != 0:
        raise click.ClickException(f"{stack}: cannot read its state: {result.stderr.strip()[-500:]}")
    resources = json.loads(result.stdout).get("deployment", {}).get("resources") or []
    # A DomainVerification that finished read the records after its SendingDomain did: its verdict is newer.
    verified = {(r.get("outputs") or {}).get("domain"): {(x["name"], x["type"]): x["validated"]
                                                         for x in (r.get("outputs") or {}).get("records") or []}
                for r in resources if r.get("type", "").endswith(VERIFICATION)}
    found = []
    for resource in resources:
        if not resource.get("type", "").endswith(SENDING_DOMAIN):
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


@click.command(help=__doc__)
@click.argument("stacks", nargs=-1, required=True)
@click.option("--pending", is_flag=True, help="Only the records the platform has not validated yet.")
@click.option("--format", "format_", type=click.Choice(["bind", "csv", "json"]), default="bind", show_default=True)
@click.pass_obj
def dns(ctx, stacks: tuple[str, ...], pending: bool, format_: str) -> None:
    project_dir = ctx.require_stacks(stacks)
    records = [r for name in stacks for r in recorded_records(name, project_dir)
               if not (pending and r.get("validated"))]
    if format_ == "json":
        click.echo(json.dumps(records, indent=2))
    else:
        click.echo(as_bind(records) if format_ == "bind" else as_csv(records), nl=False)
    if not records and sys.stderr.isatty():
        click.echo("no records" + (" pending" if pending else ""), err=True)
