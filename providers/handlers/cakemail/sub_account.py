"""SubAccount on Cakemail: a partner sub-account (create, read, patch, suspend/unsuspend, delete)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from ...cakemail.models import LANGUAGES, Account, AccountOwnerUser, CreateAccount, PatchAccount
from ...ownership import TAKE_OVER_VARIABLE, ManagedBy
from ...resources.diagnostics import warn
from ...resources.markers import MARKER_KEY, within_window
from ...validators import email_address, not_blank, timezone_name
from ..base import CannotAdopt, Gone, Recorded, Refused
from ..sub_account import SubAccountHandler, SubAccountState

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...cakemail.client import CakemailClient


class Owner(BaseModel):
    """The account's owner user. Cakemail cannot patch it, so any change means a new account."""

    model_config = ConfigDict(extra="forbid")

    email: str
    first_name: str
    last_name: str
    language: Optional[str] = None
    timezone: Optional[str] = None

    _email = field_validator("email")(email_address)
    _names = field_validator("first_name", "last_name")(not_blank)

    @field_validator("language")
    @classmethod
    def _language(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"{value!r} is not a language Cakemail knows (for example en, en_US, fr_CA)")
        return value

    _timezone = field_validator("timezone")(timezone_name)


class CakemailSubAccountArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["cakemail"]
    name: str = Field(max_length=255, description="the account's name, changeable later")
    owner: Optional[Owner] = Field(None, description="the account's owner user")
    trial: StrictBool = False
    partner: StrictBool = False
    suspended: StrictBool = False
    # Take over this existing account instead of creating one (`pulumi import` does not work for
    # dynamic resources). Its owner is not readable through the API, so `owner` is optional then.
    adopt_account_id: Optional[str] = Field(None, description="take over this existing account instead of creating "
                                                              "one (see `email-partners discover`)")

    _name = field_validator("name")(not_blank)

    @model_validator(mode="after")
    def _owner_unless_adopted(self):
        if self.owner is None and self.adopt_account_id is None:
            raise ValueError("owner: is required to create an account (or set adopt_account_id to take over an "
                             "existing one)")
        return self


def _when(timestamp: Optional[int]) -> Optional[dt.datetime]:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc) if timestamp else None


def _with_owner(marker: str, owner: Owner) -> str:
    digest = hashlib.sha256(f"{marker}:{owner.model_dump_json()}".encode()).hexdigest()
    return f"{marker.split('-')[0]}-{digest[:24]}"


def _iso(timestamp: Optional[int]) -> Optional[str]:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat() if timestamp else None


class CakemailSubAccount(SubAccountHandler[CakemailSubAccountArgs]):
    platform = "cakemail"
    Args = CakemailSubAccountArgs
    client: CakemailClient
    # Fields whose change the API cannot apply in place.
    replace_fields = frozenset({"platform", "owner"})
    # adopt_account_id only matters to the create: dropping it later changes nothing.
    compared_fields = ("platform", "name", "owner", "trial", "partner", "suspended")

    @classmethod
    def refuse_changes(cls, recorded: Optional[Recorded], new: CakemailSubAccountArgs) -> list[tuple[str, str]]:
        """An adopted account's owner is unknown to us and cannot be patched: a declared change to it
        would replace (delete) a live customer's account, so it is refused instead."""
        adopted = recorded.adopt_account_id if recorded and recorded.platform == new.platform else None
        if not adopted:
            return []
        refused = []
        old_owner, new_owner = recorded.owner, new.model_dump().get("owner")
        if (old_owner or None) != (new_owner or None) and (old_owner or new_owner):
            refused.append(("owner", f"account {adopted} was adopted: Cakemail neither shows nor changes an account's "
                                     f"owner, so declaring or changing it here would replace the customer's account. "
                                     f"Put the owner back as it was ({old_owner!r})"))
        if new.adopt_account_id not in (None, adopted):
            refused.append(("adopt_account_id", f"this resource already manages account {adopted}; to take over "
                                                f"{new.adopt_account_id}, declare it in another stack"))
        return refused

    def create(self, inputs: CakemailSubAccountArgs, marker: Optional[str]) -> tuple[str, SubAccountState]:
        # A replacement (new owner) is a new account: its marker differs from the old account's.
        from ...http import ApiError

        if inputs.adopt_account_id is not None:
            return self._adopt(inputs)
        input_marker, marker = marker, marker and _with_owner(marker, inputs.owner)
        account, known_ids = self._recognise(inputs, marker) if marker else (None, None)
        if account is not None and self._managed_by_other(account) is not None:
            theirs = self._managed_by_other(account)
            raise Refused(f"cakemail account {account.id} ({account.name!r}, created {_iso(account.created_on)}) was made "
                          f"by this very resource of {theirs}, not of this one ({self.managed_by.backend}): it is not "
                          f"taken over, and nothing was created. If that stack moved here, `email-partners backend "
                          f"copy` carries its state; otherwise retire it there first")
        if account is not None:
            warn(f"cakemail account {account.id} ({account.name!r}, created {_iso(account.created_on)}) was made by "
                 f"an earlier, interrupted run of this resource: taking it over instead of creating another")
            account = self._align(account, inputs)
        else:
            owner = inputs.owner
            account = self.client.create_account(CreateAccount(
                name=inputs.name,
                account_owner=AccountOwnerUser(**owner.model_dump()),
                trial=inputs.trial,
                partner=inputs.partner,
            ), known_ids=known_ids)
        if marker:
            try:
                account = self.client.mark_account(account, marker, self._owner())
            except ApiError as exc:  # the account exists: keep its id rather than fail the create
                warn(f"account {account.id} was created but its creation marker could not be stored ({exc})")
        kept = {**inputs.model_dump(), MARKER_KEY: input_marker}  # state keeps the input as given
        if inputs.suspended and not account.suspended:
            try:
                account = self.client.set_suspended(account.id, True)
            except ApiError as exc:
                # The account exists: losing its id would make the next `up` create a second one. Record
                # it as not suspended, so the next preview shows the suspension still to do.
                warn(f"account {account.id} was created but not suspended ({exc}); the next `pulumi up` suspends it")
                kept["suspended"] = False
        return account.id, self._outputs(kept, account)

    def _recognise(self, inputs: CakemailSubAccountArgs, marker: str) -> tuple[Optional[Account], set[str]]:
        """The account an interrupted create of this resource made, if any, and the ids of every
        account of that name (what a create must not mistake for its own after a lost answer).

        Ours: an account of the declared name whose metadata carries this resource's marker. Failing
        that, a create whose answer was lost before the marking: the only account of that name
        without any marker, made within RECOGNITION_WINDOW, whose readable declared fields (name,
        partner, trial) match. Another resource's marker never matches."""
        candidates = self.client.full_accounts_named(inputs.name)
        known = {a.id for a in candidates}
        ours = [a for a in candidates if self.client.marker_of(a) == marker]
        if ours:
            return max(ours, key=lambda a: (a.created_on or 0, a.id)), known
        unmarked = [a for a in candidates if self.client.marker_of(a) is None and not self.client.owner_of(a)
                    and within_window(_when(a.created_on)) and not self.managed_elsewhere(a.id)]
        if len(unmarked) != 1:
            return None, known
        account = unmarked[0]
        trial_matches = account.status not in ("trial", "active") or (account.status == "trial") == inputs.trial
        return (account if account.partner == inputs.partner and trial_matches else None), known

    def _align(self, account: Account, inputs: CakemailSubAccountArgs) -> Account:
        """A taken-over account gets the declared name and flags (the owner was set by the same create)."""
        changes = {f: getattr(inputs, f) for f in ("trial", "partner")
                   if (account.partner if f == "partner" else account.status == "trial") != getattr(inputs, f)}
        if account.name != inputs.name:
            changes["name"] = inputs.name
        return self.client.patch_account(account.id, PatchAccount(**changes)) if changes else account

    def _adopt(self, inputs: CakemailSubAccountArgs) -> tuple[str, SubAccountState]:
        """Take over an existing account without writing to it: the declaration must match the live values
        (as `pulumi import` requires), so that adopting changes nothing and the next preview is clean."""
        account_id = inputs.adopt_account_id
        account = self.client.get_account(account_id)
        if account is None:
            raise CannotAdopt(f"cannot adopt cakemail account {account_id}: it does not exist, or it belongs to "
                               f"another partner (the API answers the same for both). Nothing was created; check "
                               f"adopt_account_id.")
        live = {"name": account.name, "partner": account.partner, "suspended": account.suspended}
        if account.status in ("trial", "active"):
            live["trial"] = account.status == "trial"
        declared = inputs.model_dump()
        differences = [f"{k}: declared {declared[k]!r}, live {v!r}" for k, v in live.items() if declared[k] != v]
        if differences:
            raise CannotAdopt(f"cannot adopt cakemail account {account_id}: the declaration differs from the live "
                               f"account ({'; '.join(differences)}). Declare the live values to adopt it (nothing was "
                               f"changed); change them afterwards in a reviewed update.")
        theirs = self._managed_by_other(account)
        if theirs is not None:
            if not (theirs.same_backend(self.managed_by) and os.environ.get(TAKE_OVER_VARIABLE) == theirs.stack):
                where = (f"to move it here: `email-partners take-over {self.managed_by.stack} --from {theirs.stack}`"
                         if theirs.same_backend(self.managed_by) else
                         "retire it in that backend first, or move that backend's stacks here with `email-partners "
                         "backend copy`")
                raise CannotAdopt(f"cannot adopt cakemail account {account_id}: it is managed by {theirs} (its "
                                   f"metadata says so), and adopting it here would give it two owners. Nothing was "
                                   f"changed; {where}.")
            # The take-over of exactly that stack: the account names its new owner from now on, and its old
            # resource's creation marker goes (that resource no longer deletes it: see delete).
            warn(f"cakemail account {account_id} is taken over from {theirs}")
            account = self.client.mark_account(account, None, self._owner())
        return account.id, self._outputs(declared, account)

    def _owner(self) -> Optional[dict[str, str]]:
        """This resource's stack, as the account's metadata keeps it (None when the call's stack is unknown)."""
        by = self.managed_by
        return None if by is None else {"project": by.project, "stack": by.stack, "backend": by.backend or ""}

    def _managed_by_other(self, account: Account) -> Optional[ManagedBy]:
        """The stack the account's metadata names as its manager, when that is not this resource's stack
        (of this backend); None when it names none, or this call's stack is unknown."""
        named = self.client.owner_of(account)
        if self.managed_by is None or not named.get("stack"):
            return None
        theirs = ManagedBy(project=named.get("project", ""), stack=named["stack"], backend=named.get("backend"))
        return None if theirs.same_stack(self.managed_by) and theirs.same_backend(self.managed_by) else theirs

    def read(self, account_id: str, recorded: Recorded) -> Optional[SubAccountState]:
        account = self.client.get_account_shared(account_id, reader="SubAccount")
        if account is None:
            return None
        inputs = recorded.inputs()  # with the creation marker
        # The owner's details are not readable back (only its user id): keep what was declared.
        inputs.update(name=account.name, partner=account.partner, suspended=account.suspended)
        if account.status in ("trial", "active"):
            inputs["trial"] = account.status == "trial"
        return self._outputs(inputs, account)

    def update(self, account_id: str, recorded: Recorded, new: CakemailSubAccountArgs) -> SubAccountState:
        changes = {f: getattr(new, f) for f in ("name", "trial", "partner") if getattr(recorded, f) != getattr(new, f)}
        account: Optional[Account] = None
        if changes:
            account = self.client.patch_account(account_id, PatchAccount(**changes))
        if recorded.suspended != new.suspended:
            account = self.client.set_suspended(account_id, new.suspended)
        if account is None:
            account = self.client.get_account(account_id)
            if account is None:
                raise Gone(f"cakemail account {account_id} no longer exists; run `pulumi refresh` to recreate it")
        return self._outputs({**new.model_dump(), MARKER_KEY: recorded.creation_marker}, account)

    def delete(self, account_id: str, recorded: Recorded) -> None:
        account = self.client.get_account(account_id)
        if account is None:
            return  # already gone is fine
        theirs = self._managed_by_other(account)
        if theirs is not None and not theirs.same_stack(self.managed_by):
            # Taken over by another stack (`email-partners take-over`): that stack deletes it, not this one.
            warn(f"cakemail account {account_id} is managed by {theirs} now (its metadata says so): not deleted")
            return
        marker = self.client.marker_of(account)
        ours = recorded.creation_marker and recorded.owner and _with_owner(recorded.creation_marker,
                                                                         Owner.model_validate(recorded.owner))
        if marker is not None and marker != ours:
            # A replacement took this account over (see _recognise): it is now the new resource's.
            warn(f"cakemail account {account_id} now belongs to another resource (its creation marker changed): "
                 f"not deleted")
            return
        self.client.delete_account(account_id)

    @staticmethod
    def _outputs(inputs: dict, account: Account) -> SubAccountState:
        return SubAccountState(**inputs, account_id=account.id, status=account.status,
                               created_at=_iso(account.created_on), owner_user_id=account.account_owner.user_id,
                               lineage=account.lineage)
