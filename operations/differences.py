"""What differs, as every report records it: drift (the platform against the state) and the code's
differences (the declaration against the platform), and the one comparison that finds drift.

The engine path (operations/engine/events.py reads the engine's refresh events) and the one-pass
sweep (operations/drift/read.py calls the providers in this process) both report through
`resource_drift`, so "drift" means the same whichever found it.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from .values import comparable, field_differences, masked


class FieldDrift(BaseModel):
    """A field of a resource that differs between the state and the platform."""

    resource: str = Field(description="the resource's name in the stack, e.g. acme.production-account")
    type: str = Field(description="SubAccount, AccountFeatures, SendingDomain")
    field: Optional[str] = Field(description="a dotted path; None when the whole resource is gone")
    recorded: Any = Field(None, description="the value in state (what the code last set)")
    actual: Any = Field(None, description="the value read from the platform; '[secret]' for secrets")

    def masked(self) -> "FieldDrift":
        """With secret-named fields' values as `[secret]`, whatever the reader already did."""
        name = (self.field or "").rsplit(".", 1)[-1]
        return self.model_copy(update={"recorded": masked(name, self.recorded), "actual": masked(name, self.actual)})


class CodeDifference(BaseModel):
    """A field where the platform (as just read) is not what the code declares: what `up` would change."""

    resource: str = Field(description="the resource's name in the stack")
    type: str = Field(description="SubAccount, AccountFeatures, SendingDomain")
    op: str = Field(description="what `up` would do: update, replace, create (gone from the platform), delete")
    field: Optional[str] = Field(None, description="a dotted path; None for a whole resource (create, delete)")
    declared: Any = Field(None, description="the value in the code")
    actual: Any = Field(None, description="the value on the platform; '[secret]' for secrets")

    def masked(self) -> "CodeDifference":
        name = (self.field or "").rsplit(".", 1)[-1]
        return self.model_copy(update={"declared": masked(name, self.declared), "actual": masked(name, self.actual)})


def resource_drift(name: str, type_: str, old_inputs: Optional[dict], old_outputs: Optional[dict],
                   new_inputs: Optional[dict], new_outputs: Optional[dict]) -> list[FieldDrift]:
    """The per-field verdict on one resource a refresh found changed (new outputs None: gone)."""
    if new_outputs is None:
        return [FieldDrift(resource=name, type=type_, field=None, recorded="present", actual="gone")]
    # The declared inputs say what the code controls; outputs cover resources without inputs in a read.
    differences = (field_differences(comparable(old_inputs or {}), comparable(new_inputs or {}))
                   or field_differences(comparable(old_outputs or {}), comparable(new_outputs or {})))
    return [FieldDrift(resource=name, type=type_, field=path, recorded=recorded, actual=actual)
            for path, recorded, actual in differences]


def drift_facts(drift: list[FieldDrift]) -> list[tuple]:
    """A drift list as comparable facts (order-free): how two verdicts are held against each other."""
    return sorted((d.type, d.resource, d.field or "", repr(d.recorded), repr(d.actual)) for d in drift)


def code_facts(differences: list[CodeDifference]) -> list[tuple]:
    """The code's differences as comparable facts (order-free)."""
    return sorted((d.type, d.resource, d.op, d.field or "", repr(d.declared), repr(d.actual)) for d in differences)


def drift_words(drift: list[FieldDrift]) -> str:
    """One line for a drift list (`SubAccount a name: 'A' -> 'B'`)."""
    return "; ".join(f"{d.type} {d.resource} {d.field or '(gone)'}: {d.recorded!r} -> {d.actual!r}"
                     for d in drift) or "no drift"
