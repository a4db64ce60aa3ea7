"""What a preview plans for one customer, in a reviewer's words: changes per resource with each
field's old and new value, and the dangerous ones first, each with its reason.

Built from `pulumi preview --json` (each step's old and new inputs) and the engine's diagnostics.
Secrets never get through: the engine prints secret values as `[secret]`, and any field whose name
says it holds a credential is masked here as well.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from providers.handlers.account_features import FeaturesState
from providers.handlers.domain_verification import VerificationState
from providers.handlers.sending_domain import SendingDomainState
from providers.handlers.sub_account import SubAccountState
from providers.platforms import describe, names
from providers.resources.common import PROVIDER_KEY

from ..engine.cli import PreviewRun
from ..engine.urns import kind_of_urn, name_of_urn
from ..values import ANSI, masked, leaves, field_differences
from .models import (GUARD_CODE, KINDS, Danger, FieldChange, PolicyViolation, Problem, ResourceChange,
                     StackReview)

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's placeholder for a value known only at `up`
# State that the provider computes, not something the user declared: not a reviewed change.
COMPUTED = {PROVIDER_KEY, *(key for state in (SubAccountState, FeaturesState, SendingDomainState, VerificationState)
                            for key in state.output_keys())}
OPS = {"create": "create", "update": "update", "replace": "replace", "create-replacement": None,
       "delete": "delete", "delete-replaced": None, "same": None, "read": None, "refresh": None}
# Inputs the program computes itself, never shown as declared.
INTERNAL = {"creation_marker"}
# Engine diagnostics that are not about the change (e.g. where it found the policy pack's launcher).
ENGINE_NOISE = (re.compile(r"^using pulumi-analyzer-policy-\S+ from \$PATH"),)


def field_changes(old_inputs: dict, new_inputs: dict) -> list[FieldChange]:
    """Each changed field by its full path (`owner.email`), values masked; the program's computed
    inputs are not a reviewed change."""
    olds = {k: v for k, v in (old_inputs or {}).items() if k not in COMPUTED}
    news = {k: v for k, v in (new_inputs or {}).items() if k not in COMPUTED}
    changes = field_differences(olds, news)
    # With an input still unknown, the provider could not fill in its defaults: compare what is there.
    if any(v == UNKNOWN for v in leaves(dict(new_inputs or {})).values()) and news:
        present = set(leaves(news))
        changes = [c for c in changes if c[0] in present]
    return [FieldChange(field=path, old=masked(path.rsplit(".", 1)[-1], old), new=masked(path.rsplit(".", 1)[-1], new))
            for path, old, new in changes]


def declared_keys(resource: str, new: dict, declaration: Optional[dict], platform: Optional[str]) -> set[str]:
    """The inputs of a created resource that the user declared: not defaults, not the program's internals
    (`creation_marker`, a Ciirus account's derived `initial` is shown: it is what the create sends)."""
    keys = set(new) - INTERNAL
    if not declaration:
        return keys
    if resource == "SubAccount":
        declared = set(declaration.get("account") or {}) - {"protect", "allow_replace"}
        derived = {d.name for d in describe(platform).derived_account_settings} if platform in names() else set()
        return keys & (declared | {"platform", *derived})
    if resource == "AccountFeatures":
        return keys & {"platform", "features"}
    if resource == "SendingDomain":
        domain = str(new.get("domain") or "").lower()
        spec = next((d for d in declaration.get("sending_domains") or []
                     if str(d.get("domain") or "").lower() == domain), {})
        return keys & ((set(spec) - {"verification_timeout_seconds"}) | {"platform"})
    if resource == "DomainVerification":
        return keys & {"domain", "timeout_seconds"}
    return keys


GUARD_FIELD = re.compile(r"(?P<field>[\w.]+) \(from (?P<old>.*?) to (?P<new>.*?)\)(?:,|\s+replaces)")


def refused_fields(refusal: str) -> list[FieldChange]:
    """The fields of a replacement the guard refused, from its message (`owner.email (from 'a' to 'b')`)."""
    import ast

    def value(text: str) -> Any:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text

    head = refusal.split(" replaces ", 1)[0] + " replaces"
    return [FieldChange(field=m["field"], old=masked(m["field"], value(m["old"])), new=masked(m["field"], value(m["new"])))
            for m in GUARD_FIELD.finditer(head.split("changing ", 1)[-1])]


def _resource_of(urn: str) -> tuple[str, str]:
    return kind_of_urn(urn), name_of_urn(urn)


def _inputs(state: Optional[dict]) -> dict:
    return dict((state or {}).get("inputs") or {})


def publish_hint(stack: str) -> str:
    return f"after the `up`, `email-partners dns {stack} --pending` prints them in full"


def domain_removed(old: dict, replaced_by: list[str], stack: str) -> str:
    domain = old.get("domain")
    if replaced_by:
        platform = old.get("platform")
        wording = describe(platform).domain_records if platform in names() else "its records at {domains}"
        return (f"sending domain {domain} is replaced by {', '.join(replaced_by)}: {domain}'s DKIM key is deleted "
                f"(mail from {domain} fails DKIM from then on), and {', '.join(replaced_by)} needs "
                f"{wording.format(domains=', '.join(replaced_by))} published ({publish_hint(stack)})")
    return f"sending domain {domain} is removed with its DKIM key: mail from it fails DKIM from then on"


def dangers_of(change: ResourceChange, platform: Optional[str], old: dict, new: dict,
               acknowledged: set[str], replaced_by: Optional[list[str]] = None, stack: str = "STACK") -> list[Danger]:
    """The plain-words reason for each dangerous part of one resource's change."""
    found: list[tuple[str, str, bool]] = []
    label = f"{change.resource} {change.name}"
    platform = platform or new.get("platform") or old.get("platform")
    described = describe(platform) if platform in names() else None
    undeletable = described is not None and not described.deletes_accounts
    if change.resource == "SubAccount":
        if change.op == "replace":
            reasons = ", ".join(f"platform from {old.get('platform')} to {new.get('platform')}" if r == "platform"
                                else r for r in change.replace_reasons) or "a replace-forcing field"
            found.append(("account-replaced", f"the customer's account is replaced ({reasons} changed): it is deleted "
                          "with all its contacts and campaigns and a new, empty account is created; its features and "
                          "sending domains follow (new DKIM keys: new DNS records to publish)", True))
        elif change.op == "delete":
            keep = undeletable and old.get("on_destroy") == "keep"
            found.append(("account-undeletable" if keep else "account-deleted",
                          f"the account leaves the stack but stays on {described.title} (its API cannot delete "
                          f"accounts)" if keep
                          else "the customer's account is deleted: all its contacts and campaigns are lost", keep is False))
        if change.op in ("update", "create") and new.get("suspended") is True and old.get("suspended") is not True:
            found.append(("account-suspended", "the account is suspended: the customer can no longer send", False))
        if change.op == "create" and undeletable:
            found.append(("account-undeletable", f"a {described.title} account is created, and {described.title}'s API "
                          f"cannot delete accounts: it stays on the platform for good", False))
    elif change.resource == "SendingDomain" and change.op in ("replace", "delete"):
        domain = new.get("domain") or old.get("domain")
        found.append(("domain-replaced", f"sending domain {domain} gets a new DKIM key: new DNS records must be "
                      f"published, and mail from it fails verification until they are ({publish_hint(stack)})"
                      if change.op == "replace" else domain_removed(old, replaced_by or [], stack), False))
    for danger in described.dangers if described is not None else ():
        if change.resource in danger.resources and change.op in danger.ops:
            found.append((danger.kind, danger.reason, False))
    dangers = []
    for kind, reason, by_declaration in found:
        is_ack = by_declaration or kind in acknowledged or "all" in acknowledged
        dangers.append(Danger(kind=kind, resource=label, reason=reason, acknowledged=is_ack,
                              acknowledge_with=KINDS[kind]))
    return dangers


def review_of(stack: str, customer: str, platform: Optional[str], run: PreviewRun, acknowledged: set[str],
              declaration: Optional[dict] = None) -> StackReview:
    """One stack's review from a PreviewRun (operations/engine/cli.py's preview)."""
    review = StackReview(stack=stack, customer=customer, platform=platform, preview_ok=run.ok)
    # A dependent of a replaced account shows in preview as an update with an unknown account id;
    # the engine replaces it at `up` once the new id is known, so the review says so.
    account_replaced = any(OPS.get(s.get("op")) == "replace" and _resource_of(s.get("urn", ""))[0] == "SubAccount"
                           for s in run.steps)
    created_domains = [_inputs(s.get("newState")).get("domain") for s in run.steps
                       if s.get("op") == "create" and _resource_of(s.get("urn", ""))[0] == "SendingDomain"]
    domain_steps: dict[str, dict] = {}  # a changed domain is a new resource name: its create and its delete
    for step in run.steps:
        urn = step.get("urn", "")
        resource, name = _resource_of(urn)
        if resource in ("Stack", "Customer") or resource.startswith("pulumi-python"):
            continue
        op = OPS.get(step.get("op"), step.get("op"))
        if op is None:
            if step.get("op") == "same":
                review.unchanged += 1
            continue
        old, new = _inputs(step.get("oldState")), _inputs(step.get("newState"))
        if resource == "SendingDomain" and op in ("create", "delete"):
            domain_steps.setdefault(op, {})[name] = new if op == "create" else old
        account_id = old.get("account_id") if isinstance(old.get("account_id"), str) else None
        if op == "create":
            new_shown = {k: v for k, v in new.items() if k in declared_keys(resource, new, declaration, platform)}
        else:
            new_shown = new
        change = ResourceChange(resource=resource, name=name, op=op, account_id=account_id,
                                fields=field_changes(old if op != "create" else {}, new_shown if op != "delete" else {}),
                                replace_reasons=[r for r in step.get("replaceReasons") or [] if r not in COMPUTED])
        if op == "update" and not change.fields:
            if account_replaced and "account_id" in new:
                change.op, change.replace_reasons = "replace", ["account_id"]
                change.fields = [FieldChange(field="account_id", old=old.get("account_id"), new="(the new account's)")]
                review.changes.append(change)  # its danger is the account's (see dangers_of)
                continue
            else:
                review.unchanged += 1  # e.g. only the provider blob changed
                continue
        review.changes.append(change)
        review.dangers += dangers_of(change, platform, old, new, acknowledged, created_domains, stack)
    _one_domain_changed(review, domain_steps)
    for diag in run.diagnostics:
        severity = diag.get("severity", "")
        message = ANSI.sub("", (diag.get("message") or "")).strip().removeprefix("error: ").removeprefix("warning: ")
        if severity not in ("error", "warning") or not message or message == "preview failed":
            continue
        if any(noise.search(message) for noise in ENGINE_NOISE):
            continue
        resource = _resource_of(diag["urn"])[1] if diag.get("urn") else None
        review.problems.append(Problem(severity=severity, resource=resource, message=message))
        if GUARD_CODE in message:
            refusal = message.split("has a problem: ", 1)[-1]
            fields = refused_fields(refusal)
            review.dangers.append(Danger(kind="account-replaced", resource=f"SubAccount {resource}",
                                         reason="refused by the guard: " + refusal, fields=fields,
                                         acknowledged=False, acknowledge_with=KINDS["account-replaced"]))
            if fields and resource:  # the change the guard refused, as the reviewer would have seen it planned
                review.changes.append(ResourceChange(resource="SubAccount", name=resource, op="replace (refused)",
                                                     fields=fields, replace_reasons=[f.field.split(".")[0]
                                                                                     for f in fields]))
    for event in run.policy_events:
        resource = _resource_of(event["resourceUrn"])[1] if event.get("resourceUrn") else None
        review.policy_violations.append(PolicyViolation(
            policy=event.get("policyName", "?"), pack=event.get("policyPackName"),
            enforcement=event.get("enforcementLevel", "advisory"), resource=resource,
            message=(event.get("message") or "").strip()))
    if not run.ok and not review.problems and not review.policy_violations:
        tail = "\n".join(line for line in run.stderr.strip().splitlines()[-6:])
        review.problems.append(Problem(severity="error", message=tail or f"pulumi preview exited {run.returncode}"))
    return review


def _one_domain_changed(review: StackReview, steps: dict[str, dict]) -> None:
    """One sending domain created and one deleted in a stack is one domain changed (its resource name follows
    the domain): shown as the one change it is, old domain -> new, without the defaults either side carries."""
    created, deleted = steps.get("create", {}), steps.get("delete", {})
    if len(created) != 1 or len(deleted) != 1:
        return
    (new_name, new), (old_name, old) = next(iter(created.items())), next(iter(deleted.items()))
    pair = [c for c in review.changes if c.resource == "SendingDomain" and c.name in (new_name, old_name)]
    if len(pair) != 2:
        return
    merged = ResourceChange(resource="SendingDomain", name=f"{old_name} -> {new_name}", op="replace",
                            fields=field_changes(old, new), replace_reasons=["domain"],
                            account_id=old.get("account_id") if isinstance(old.get("account_id"), str) else None)
    at = review.changes.index(pair[0])
    review.changes = [c for c in review.changes if c not in pair]
    review.changes.insert(at, merged)


RETIRE_STEPS = ("to retire it, restore the file with `account.protect: false` (on Sign-Up.to also "
                "`account.on_destroy: keep`), run `pulumi up`, then `pulumi destroy --yes` and `pulumi stack rm --yes`, "
                "and only then delete the file (README: retiring a customer)")


def removed_review(stack: str, customer: str, platform: Optional[str], renamed_to: Optional[str],
                   acknowledged: set[str]) -> StackReview:
    """A stack whose file the change deletes or renames: nothing manages its live account afterwards."""
    account = f"its {platform} account" if platform else "its account"
    if renamed_to:
        reason = (f"{stack} is renamed to {renamed_to}, and a rename is a new stack: {account} stays live and "
                  f"unmanaged (its state stays in the backend under {stack}), and {renamed_to} creates a new, "
                  f"empty account; to keep managing the customer, keep the old name, or {RETIRE_STEPS}")
    else:
        reason = f"{stack} is no longer declared: {account} stays live and unmanaged; {RETIRE_STEPS}"
    danger = Danger(kind="customer-removed", resource=f"stack file stacks/Pulumi.{stack}.yaml", reason=reason,
                    acknowledged=bool({"customer-removed", "all"} & acknowledged),
                    acknowledge_with=KINDS["customer-removed"])
    return StackReview(stack=stack, customer=customer, platform=platform, preview_ok=True, dangers=[danger],
                       file_change="renamed" if renamed_to else "deleted", renamed_to=renamed_to)


def _usage(review: StackReview):
    return describe(review.platform).usage if review.platform in names() else None


def lowered_limits(review: StackReview) -> dict[str, dict[str, tuple[Any, Any]]]:
    """{account_id: {limit: (old, new)}} for each limit the plan lowers (a number below the old) that the
    platform reports usage beside (its description's `usage`)."""
    usage = _usage(review)
    lowered: dict[str, dict[str, tuple[Any, Any]]] = {}
    for change in review.changes if usage is not None else ():
        if change.resource != "AccountFeatures" or change.op != "update" or not change.account_id:
            continue
        for field in change.fields:
            name = field.field.removeprefix("features.")
            if name in usage.counts and isinstance(field.new, (int, float)) and (
                    field.old in describe(review.platform).no_limit
                    or (isinstance(field.old, (int, float)) and field.new < field.old)):
                lowered.setdefault(change.account_id, {})[name] = (field.old, field.new)
    return lowered


def usage_dangers(review: StackReview, usage_of, acknowledged: set[str]) -> list[Danger]:
    """A lowered limit below what the account uses now, as the API reports it (`usage_of(account_id)`
    returns the account's counts, or None when unknown)."""
    dangers = []
    usage = _usage(review)
    for account_id, limits in lowered_limits(review).items():
        counts = usage_of(account_id) or {}
        for limit, (old, new) in sorted(limits.items()):
            used = counts.get(usage.counts[limit])
            if isinstance(used, (int, float)) and used > new:
                dangers.append(Danger(
                    kind="limit-below-usage", resource=f"AccountFeatures of account {account_id}",
                    reason=f"{limit} goes from {old} to {new}, below the {used:g} the customer uses now "
                           f"({usage.counts[limit]}, as {describe(review.platform).title} reports it)",
                    acknowledged=bool({"limit-below-usage", "all"} & acknowledged),
                    acknowledge_with=KINDS["limit-below-usage"]))
    return dangers
