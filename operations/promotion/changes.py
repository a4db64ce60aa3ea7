"""The rehearsed change of a copy, mapped back to the stack it was copied from: what `promote` writes.

Three declarations meet, as in git's three-way merge: the copy as `clone` wrote it (the base), the
copy now, and the target now (beside the source as it was at the copy, which tells the target's own
changes apart). Only what changed between the copy then and the copy now is promoted, each field
mapped back through the copy rules (CopyRules, operations/project/environments.py: e-mail tags
undone, the domain prefix removed, a capped limit promoted as the value the change asked for); what
the rules alone made is no change at all.

Never promoted: identities and secrets (adoption markers, a vendor-unique username, passwords, any
encrypted value) and acknowledgements (`allow_replace`, `protect`, `on_destroy`): the target's own
review asks for those again. What cannot be mapped back without a decision (a catch-all owner, a
domain without the prefix, a limit the cap makes ambiguous, a field both sides changed) is refused,
naming the field, unless `--set FIELD=VALUE` decides it.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Mapping, Optional

from pydantic import BaseModel, Field

from providers.platforms import describe, described, names

from ..errors import UsageError
from ..history.model import PromotedField
from ..values import SECRET
from .records import CopyRecord, LeftOut, PromotedChange, is_secure, without_secrets

ADOPTION = ("adopt_account_id", "adopt_existing")            # an account taken over: the source's own
DOMAIN_IDENTITIES = ("adopt_existing", "adopt_domain_id")     # a domain's object taken over
GUARDS = ("allow_replace", "protect", "on_destroy")          # acknowledgements: each environment gives its own
DOMAINS = "sending_domains"
ENTRY = "(declared)"   # the value of a domain entry's own address: it is declared
MISSING = None         # an address not declared (a declared null is refused by the program)

Address = tuple[str, ...]


class PromotionError(UsageError):
    """A promotion refused as a whole: nothing was written."""


class Change(PromotedChange):
    """One edit of the target's declaration (`address`: where, in the declaration's own terms)."""

    address: Address = Field(default=(), exclude=True)


class Decision(BaseModel):
    """A change of the copy that cannot be mapped back without the user's word (`--set FIELD=VALUE`)."""

    field: str
    reason: str
    copy_old: Any = None
    copy_new: Any = None
    settable: bool = Field(True, description="whether --set can decide it (else: edit the target by hand)")


class PromotionPlan(BaseModel):
    copy_stack: str
    target: str
    base: str
    changes: list[Change] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    left_out: list[LeftOut] = Field(default_factory=list)
    target_changed: list[PromotedField] = Field(default_factory=list, description="the target's own changes since "
                                                                                 "the copy (kept as they are)")
    domains: dict[str, str] = Field(default_factory=dict, exclude=True,
                                    description="each sending domain of the copy -> its name in the target")


# --- the declaration as addressed leaves ------------------------------------------------------------------

def leaves(declaration: Mapping[str, Any]) -> dict[Address, Any]:
    """Every declared value by address: ("features", "per_month"), ("account", "owner", "email"); a sending
    domain by its name, ("sending_domains", "news.acme.example") for the entry and one address per setting.
    Lists and encrypted values are single values."""
    found: dict[Address, Any] = {}
    if declaration.get("platform") is not None:
        found[("platform",)] = declaration["platform"]
    for section in ("account", "features"):
        _walk(declaration.get(section), (section,), found)
    for spec in declaration.get(DOMAINS) or []:
        if isinstance(spec, dict) and spec.get("domain"):
            name = str(spec["domain"]).lower()
            found[(DOMAINS, name)] = ENTRY
            for key, value in spec.items():
                if key != "domain":
                    _walk(value, (DOMAINS, name, str(key)), found)
    return found


def _walk(value: Any, address: Address, found: dict[Address, Any]) -> None:
    if isinstance(value, dict) and not is_secure(value):
        for key, inner in value.items():
            _walk(inner, (*address, str(key)), found)
    elif value is not None:
        found[address] = value


def field_name(address: Address) -> str:
    """As people (and `--set`) name it: `features.per_month`, `sending_domains[news.acme.example].selector`."""
    if address[0] == DOMAINS:
        return f"{DOMAINS}[{address[1]}]" + "".join(f".{part}" for part in address[2:])
    return ".".join(address)


def shown(value: Any) -> Any:
    """A value as a report shows it (encrypted values as `[secret]`)."""
    return SECRET if is_secure(value) else value


def words(value: Any) -> str:
    return "not declared" if value is MISSING else json.dumps(shown(value))


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[PromotedField]:
    """What changed between two declarations, field by field (a domain entry: added or removed by name)."""
    old, new = leaves(without_secrets(before)), leaves(without_secrets(after))
    found = []
    for address in _ordered(new, old):
        if old.get(address) != new.get(address) and not _inside_a_changed_entry(address, old, new):
            entry = len(address) == 2 and address[0] == DOMAINS  # added or removed: the domain's name stands for it
            before, after = old.get(address), new.get(address)
            found.append(PromotedField(field=field_name(address),
                                       old=(address[1] if before else None) if entry else shown(before),
                                       new=(address[1] if after else None) if entry else shown(after)))
    return found


def _ordered(first: Mapping[Address, Any], second: Mapping[Address, Any]) -> list[Address]:
    return [*first, *(a for a in second if a not in first)]


def _inside_a_changed_entry(address: Address, old: Mapping[Address, Any], new: Mapping[Address, Any]) -> bool:
    """A setting of a domain entry that was added or removed as a whole (the entry says it)."""
    return len(address) > 2 and address[0] == DOMAINS and ((DOMAINS, address[1]) in old) != ((DOMAINS, address[1]) in new)


# --- the plan -----------------------------------------------------------------------------------------------

def plan_promotion(record: CopyRecord, copy_now: Mapping[str, Any], target_now: Mapping[str, Any], target: str,
                   overrides: Optional[Mapping[str, Any]] = None) -> PromotionPlan:
    """What `promote` writes into `target` (see the module docstring). Raises PromotionError for a
    `--set` that names no field of the plan, or one that is never promoted."""
    return _Planner(record, copy_now, target_now, target, dict(overrides or {})).plan()


class _Planner:
    def __init__(self, record: CopyRecord, copy_now: Mapping[str, Any], target_now: Mapping[str, Any], target: str,
                 overrides: dict[str, Any]):
        self.record, self.rules, self.overrides, self.used = record, record.rules, overrides, set()
        self.copy_now = copy_now
        platform = copy_now.get("platform")
        self.platform = describe(platform) if platform in names() else None
        self.no_limit = [v for p in described() for v in p.no_limit]
        self.base, self.now = leaves(without_secrets(record.copy_declaration)), leaves(without_secrets(copy_now))
        self.source, self.target = leaves(without_secrets(record.source_declaration)), leaves(without_secrets(target_now))
        self.result = PromotionPlan(copy_stack=record.stack, target=target, base=record.base,
                                    target_changed=differences(record.source_declaration, target_now))
        self.domain_names = {k.lower(): v.lower() for k, v in record.domains.items()}
        self.result.domains = dict(self.domain_names)

    def plan(self) -> PromotionPlan:
        for address in _ordered(self.now, self.base):
            before, after = self.base.get(address), self.now.get(address)
            if before == after or _inside_a_changed_entry(address, self.base, self.now):
                continue
            if address[0] == "platform":
                self.decide(address, "a change of platform is a new account under the target environment's own "
                            "provider settings: not promoted", before, after, settable=False)
            elif address[0] == DOMAINS:
                self.domain(address, before, after)
            else:
                self.setting(address, before, after)
        self.rules_only()
        self.check_overrides()
        return self.result

    # --- what each kind of field does ---------------------------------------------------------------
    def never(self, address: Address, value: Any) -> Optional[str]:
        """Why a field is never promoted, or None."""
        section, path = address[0], ".".join(address[1:])
        platform = self.platform
        if is_secure(value) or (section == "account" and platform and path in platform.secret_account_settings):
            return "a secret: never copied across environments (set the target's own with `pulumi config set --path --secret`)"
        if section == "account" and (address[1] in ADOPTION or (platform and path in platform.unique_account_settings)):
            return "an identity of the copy's environment: never promoted"
        if section == "account" and address[1] in GUARDS:
            return "an acknowledgement: each environment gives its own, in its own review"
        if section == DOMAINS and len(address) > 2 and address[2] in DOMAIN_IDENTITIES:
            return "an identity of the copy's environment: never promoted"
        return None

    def setting(self, address: Address, before: Any, after: Any) -> None:
        field = field_name(address)
        why = self.never(address, after if after is not MISSING else before)
        if why:
            self.leave_out(field, why, before, after)
            return
        wanted, refusal = after, None
        emails = self.platform.owner_email_settings if self.platform else ("owner.email",)
        if address[0] == "account" and ".".join(address[1:]) in emails and after is not MISSING:
            wanted = self.rules.original_email(after, self.record.environment)
            if wanted is None:
                refusal = (f"the copy rule owner_email: {self.rules.owner_email} cannot be undone for {after!r}: "
                           f"the target's address cannot be told")
        elif address[0] == "features" and after is not MISSING:
            wanted, refusal = self.rules.original_limit(address[1], self.source.get(address), before, after,
                                                        self.target.get(address), self.no_limit)
        if refusal:
            self.decide(address, refusal, before, after)
            return
        self.merge(field, address, self.source.get(address), wanted, before, after)

    def domain(self, address: Address, before: Any, after: Any) -> None:
        copy_name = address[1]
        known = copy_name in self.domain_names
        name = self.domain_names[copy_name] if known else self.rules.original_domain(copy_name)
        if len(address) == 2 and after == ENTRY:          # a domain added on the copy
            self.added_domain(copy_name, name)
            return
        if name is None:
            self.decide(address, "not a domain the copy rules made", before, after, settable=False)
            return
        target_address = (DOMAINS, name, *address[2:])
        if len(address) == 2:                             # removed on the copy
            self.merge(f"{DOMAINS}[{name}]", target_address, self.source.get(target_address), MISSING,
                       before, after, entry=True)
            return
        why = self.never(address, after if after is not MISSING else before)
        if why:
            self.leave_out(field_name(target_address), why, before, after)
        elif (DOMAINS, name) not in self.target:
            self.decide(target_address, f"the target no longer declares the sending domain {name}", before, after,
                        settable=False)
        else:
            self.merge(field_name(target_address), target_address, self.source.get(target_address), after, before,
                       after)

    def added_domain(self, copy_name: str, name: Optional[str]) -> None:
        spec = next(dict(s) for s in self.copy_now.get(DOMAINS) or [] if str(s.get("domain") or "").lower() == copy_name)
        for key in DOMAIN_IDENTITIES:
            if key in spec:
                self.leave_out(f"{DOMAINS}[{copy_name}].{key}", "an identity of the copy's environment: never promoted",
                               None, spec.pop(key))
        name_field = f"{DOMAINS}[{copy_name}].domain"
        if name_field in self.overrides:
            self.used.add(name_field)
            name = str(self.overrides[name_field])
        elif name is None:
            prefix = self.rules.domain_prefix
            self.result.decisions.append(Decision(
                field=name_field, copy_new=spec["domain"],
                reason=f"added on the copy without the environment's prefix {prefix + '.'!r} (the copy rule makes "
                       f"every domain {prefix}.<domain>), so its name in the target cannot be told"))
            return
        spec["domain"] = name
        self.result.domains[copy_name] = name.lower()
        address = (DOMAINS, name.lower())
        self.merge(f"{DOMAINS}[{name.lower()}]", address, self.source.get(address), spec, None, spec, entry=True)

    def merge(self, field: str, address: Address, source: Any, wanted: Any, copy_old: Any, copy_new: Any,
              entry: bool = False) -> None:
        """The three-way rule: the copy's change goes in unless the target changed the field too."""
        current = self.target.get(address)
        if entry:  # a whole domain entry: compare presence, and the spec when adding
            current_spec = self.target_spec(address[1]) if current is not MISSING else MISSING
            if field in self.overrides:
                raise PromotionError(f"--set {field}: a whole sending domain is added or removed as the copy did; "
                                     f"--set takes one setting (e.g. {field}.selector=...)")
            if wanted is MISSING and current is MISSING:
                self.leave_out(field, "already in the target", ENTRY, MISSING)
            elif wanted is not MISSING and current is not MISSING:
                if current_spec == {**wanted, "domain": str(wanted["domain"]).lower()}:
                    self.leave_out(field, "already in the target", MISSING, wanted)
                else:
                    self.decide(address, f"the target already declares {address[1]}, differently", MISSING, wanted,
                                settable=False)
            elif source != current:
                self.decide(address, "the target changed it too since the copy", copy_old, copy_new, settable=False)
            else:
                self.change(field, address, current_spec, wanted, copy_old, copy_new)
            return
        if field in self.overrides:
            self.used.add(field)
            wanted = self.overrides[field]
        elif current != source and wanted != current:
            self.decide(address, f"the target changed it too since the copy ({words(source)} -> {words(current)})",
                        copy_old, copy_new)
            return
        if wanted == current:
            self.leave_out(field, "already in the target", copy_old, copy_new)
        else:
            self.change(field, address, current, wanted, copy_old, copy_new)

    def target_spec(self, name: str) -> dict:
        """The target's entry of a sending domain, as declared (name in lower case)."""
        return {"domain": name, **{a[2]: v for a, v in self.target.items() if len(a) == 3 and a[:2] == (DOMAINS, name)}}

    def change(self, field: str, address: Address, old: Any, new: Any, copy_old: Any, copy_new: Any) -> None:
        self.result.changes.append(Change(field=field, address=address, old=old, new=new,
                                          copy_old=_copy_value(copy_old), copy_new=_copy_value(copy_new)))

    def decide(self, address: Address, reason: str, copy_old: Any, copy_new: Any, settable: bool = True) -> None:
        field = field_name(address)
        if settable and field in self.overrides:
            self.used.add(field)
            self.merge(field, address, self.target.get(address), self.overrides[field], copy_old, copy_new)
            return
        self.result.decisions.append(Decision(field=field, reason=reason, copy_old=_copy_value(copy_old),
                                              copy_new=_copy_value(copy_new), settable=settable))

    def leave_out(self, field: str, reason: str, copy_old: Any, copy_new: Any) -> None:
        if field in self.overrides and reason != "already in the target":
            raise PromotionError(f"--set {field}: {reason}")
        self.result.left_out.append(LeftOut(field=field, reason=reason, copy_old=_copy_value(copy_old),
                                            copy_new=_copy_value(copy_new)))

    def rules_only(self) -> None:
        """The copy rules' own rewrites that the copy kept: no change, so not promoted (said, not hidden)."""
        changed = {c.field for c in self.result.changes} | {d.field for d in self.result.decisions} \
            | {o.field for o in self.result.left_out}
        for rewrite in self.record.rewrites:
            field = rewrite.field
            if field.endswith(ADOPTION):  # the copy creates its own account: no change of the copy's
                continue
            if field.startswith(f"{DOMAINS}[") and field.endswith("].domain"):
                if (DOMAINS, str(rewrite.copy_value).lower()) not in self.now:
                    continue
            elif field in changed:
                continue
            self.result.left_out.append(LeftOut(
                field=field, reason=f"a copy rule's own rewrite ({words(rewrite.source)} -> "
                                    f"{words(rewrite.copy_value)}), not a change", copy_old=rewrite.copy_value,
                copy_new=rewrite.copy_value))

    def check_overrides(self) -> None:
        unused = [f for f in self.overrides if f not in self.used]
        if unused:
            fields = [c.field for c in self.result.changes] + [d.field for d in self.result.decisions if d.settable]
            raise PromotionError(f"--set {unused[0]}: not a field of this promotion (the copy's changes: "
                                 f"{', '.join(fields) or 'none'}); nothing was written")


def _copy_value(value: Any) -> Any:
    return None if value is MISSING or value == ENTRY else shown(value)


# --- applying a plan ---------------------------------------------------------------------------------------

def apply_changes(declaration: Any, changes: list[Change], new_map: Callable[[], Any] = dict,
                  new_list: Callable[[], Any] = list) -> Any:
    """`declaration` (a dict, or ruamel's round-trip map) with the changes made in place: values set or
    removed, domain entries appended or removed; missing parents made with `new_map`/`new_list`."""
    for change in changes:
        address, value = change.address, copy.deepcopy(change.new)
        if address[0] == DOMAINS:
            entries = declaration.get(DOMAINS)
            if entries is None:
                entries = declaration[DOMAINS] = new_list()
            index = next((i for i, s in enumerate(entries) if str(s.get("domain") or "").lower() == address[1]), None)
            if len(address) == 2:
                if value is MISSING:
                    del entries[index]
                else:
                    entries.append(_as_map(value, new_map))
                continue
            holder, path = entries[index], address[2:]
        else:
            holder, path = declaration, address
        for part in path[:-1]:
            if not isinstance(holder.get(part), dict):
                holder[part] = new_map()
            holder = holder[part]
        if value is MISSING:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = _as_map(value, new_map) if isinstance(value, dict) else value
    return declaration


def _as_map(value: dict, new_map: Callable[[], Any]) -> Any:
    made = new_map()
    for key, inner in value.items():
        made[key] = _as_map(inner, new_map) if isinstance(inner, dict) else inner
    return made


def applied(declaration: Mapping[str, Any], changes: list[Change]) -> dict[str, Any]:
    """A plain copy of `declaration` with the changes made."""
    return apply_changes(copy.deepcopy(dict(declaration)), changes)
