"""What a declaration would take over, and whom that would make a second owner.

A customer's declaration claims the existing objects its creates would take over (an id it adopts,
a SendGrid username, a Ciirus API user's one sub-account, a DKIM key of an adopted account's
domain: the platform descriptions' `owned`, through providers/ownership.py). A claim on an object
another stack of the backend manages is refused, naming that stack, before anything runs: by
`discover` (it writes no such stack), `fleet preview` and `fleet up` (that customer fails at once),
and `take-over` (which moves exactly those objects, from exactly the stack it names).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from providers.ownership import Owner, VendorObject, claimed_objects, login_of

from ..project.program import load_composition
from ..project.stacks import CustomerStack
from .index import Ownership


@dataclass
class Claim:
    object: VendorObject
    resource: str        # the resource of the declaration that takes it over


@dataclass
class Conflict:
    """A stack whose declaration takes over what other stacks manage (or claim in the same run)."""

    stack: str
    object: VendorObject
    owners: list[Owner] = field(default_factory=list)
    claimed_by: list[str] = field(default_factory=list)   # other stacks of the same run claiming it

    def message(self, ownership: Ownership) -> str:
        if self.owners:
            owners = ", ".join(sorted({o.stack for o in self.owners}))
            return (f"refused: {self.object} is managed by stack {owners} in {ownership.index.backend}; adopting it "
                    f"in {self.stack} would give it two owners, so nothing was run. To move it: `email-partners "
                    f"take-over {self.stack} --from {self.owners[0].stack}`")
        return (f"refused: {self.object} is also taken over by stack {', '.join(self.claimed_by)} in this run: "
                f"declare it in one stack only; nothing was run")


def _plain(config: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in config.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}


def claims(stack: str, declaration: Mapping[str, Any], config: Mapping[str, Any], project_dir: Path,
           environ: Optional[Mapping[str, str]] = None) -> list[Claim]:
    """The objects the declaration's creates would take over, by the program's own plan (stacks/customer.py);
    none when the declaration is not valid (its preview fails anyway, naming why)."""
    composition = load_composition(project_dir)
    platform = declaration.get("platform")
    if composition is None or not isinstance(platform, str):
        return []
    try:
        planned = composition.plan(stack, composition.CustomerDeclaration.model_validate(declaration))
    except (ValueError, TypeError, KeyError):
        return []
    account = next((p.props.get("adopt_account_id") for p in planned if p.kind == "SubAccount"), None)
    login = login_of(platform, _plain(config), os.environ if environ is None else environ)
    return [Claim(obj, p.name) for p in planned for obj in claimed_objects(platform, p.kind, p.props, account, login)]


def stack_claims(stack: CustomerStack, project_dir: Path, environ: Optional[Mapping[str, str]] = None) -> list[Claim]:
    return claims(stack.name, stack.declaration, stack.config, project_dir, environ)


def conflicts(stacks: Sequence[CustomerStack], ownership: Ownership, project_dir: Path,
              environ: Optional[Mapping[str, str]] = None,
              taking_over_from: Optional[str] = None) -> dict[str, list[Conflict]]:
    """Per stack, each object it would take over that another stack manages (`taking_over_from`'s
    excepted), or that another of `stacks` would take over as well."""
    claimed: dict[str, list[Claim]] = {s.name: stack_claims(s, project_dir, environ) for s in stacks}
    by_object: dict[VendorObject, list[str]] = {}
    for name, found in claimed.items():
        for claim in found:
            if name not in {o.stack for o in ownership.index.owners_of(claim.object)}:
                by_object.setdefault(claim.object, []).append(name)
    result: dict[str, list[Conflict]] = {}
    for name, found in claimed.items():
        for claim in found:
            others = ownership.index.others_than(claim.object, name, taking_over_from)
            if name in {o.stack for o in ownership.index.owners_of(claim.object)}:
                continue  # already this stack's: nothing is taken over (two owners are `owners`' business)
            rivals = [s for s in by_object.get(claim.object, []) if s != name]
            if others or rivals:
                result.setdefault(name, []).append(Conflict(name, claim.object, others, rivals))
    return result
