"""SubAccount on Sign-Up.to: a partner-created company account.

The API can create and read an account but neither update nor delete it. So every setting is
fixed once the account exists (a change is refused at preview, naming the field), and `destroy`
follows `on_destroy`: "refuse" (the default) fails and names the option, "keep" removes the
account from the stack and leaves it on the platform.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...resources.common import without_nones
from ...resources.diagnostics import warn
from ...resources.markers import RECOGNITION_WINDOW, within_window
from ...signupto.models import Account, CreateAccount
from ...validators import country_code, email_address, not_blank, timezone_name
from ..base import CannotAdopt, Recorded, Refused
from ..sub_account import SubAccountHandler, SubAccountState

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...signupto.client import SignupToClient


class SignupToOwner(BaseModel):
    """Sign-Up.to keeps a contact email and a time zone on the account, not an owner user."""

    model_config = ConfigDict(extra="forbid")

    email: str
    timezone: Optional[str] = None

    _email = field_validator("email")(email_address)
    _timezone = field_validator("timezone")(timezone_name)


class SignupToSubAccountArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["signupto"]
    name: str = Field(description="the company's name (fixed once the account exists)")
    owner: SignupToOwner = Field(description="the account's contact e-mail and time zone")
    country: Optional[str] = Field(None, description="ISO 3166 alpha-2")
    address: Optional[str] = None
    telephone: Optional[str] = None
    website: Optional[str] = None
    on_destroy: Literal["refuse", "keep"] = Field("refuse", description="keep: `destroy` removes it from the stack "
                                                                        "and leaves it on Sign-Up.to")
    # Take over this existing account instead of creating one (the declaration must match it).
    adopt_account_id: Optional[str] = Field(None, description="take over this existing account instead of creating "
                                                              "one (see `email-partners discover`)")

    _name = field_validator("name")(not_blank)
    _country = field_validator("country")(country_code)


class SignupToSubAccount(SubAccountHandler[SignupToSubAccountArgs]):
    platform = "signupto"
    Args = SignupToSubAccountArgs
    client: SignupToClient
    replace_fields = frozenset({"platform"})
    # Settings stored on the platform, which the API cannot change once the account exists.
    fixed_fields = ("name", "owner", "country", "address", "telephone", "website")
    # adopt_account_id only matters to the create: dropping it later changes nothing.
    compared_fields = ("platform", *fixed_fields, "on_destroy")

    @classmethod
    def refuse_changes(cls, recorded: Optional[Recorded], new: SignupToSubAccountArgs) -> list[tuple[str, str]]:
        """(field, reason) for each fixed setting the user changed on an existing account."""
        if recorded is None or recorded.platform != new.platform:
            return []
        refused = []
        for field in cls.fixed_fields:
            old, value = without_nones(getattr(recorded, field)), without_nones(new.model_dump().get(field))
            if old != value:
                refused.append((field, f"Sign-Up.to's API cannot update an account, so {field} cannot change once "
                                       f"the account exists (it is {old!r}). Put the old value back, or declare a new "
                                       f"account under another resource name"))
        return refused

    def create(self, inputs: SignupToSubAccountArgs, marker: Optional[str]) -> tuple[str, SubAccountState]:
        if inputs.adopt_account_id is not None:
            return self._adopt(inputs)
        account = self._recognise(inputs)
        if account is None:
            account = self.client.create_account(CreateAccount(
                name=inputs.name, contactemail=inputs.owner.email, timezone=inputs.owner.timezone,
                country=inputs.country, address=inputs.address, telephone=inputs.telephone, website=inputs.website,
            ))
        return str(account.id), self._outputs(inputs.model_dump(), account)

    def _recognise(self, inputs: SignupToSubAccountArgs) -> Optional[Account]:
        """The account an interrupted create of this resource made, if any.

        Sign-Up.to stores nothing of ours on an account (no reference, no metadata), so recognition is
        an exact match on every declared field plus a creation time within RECOGNITION_WINDOW. Two
        such accounts cannot be told apart: then nothing is created and both are named."""
        matches = [a for a in self.client.list_accounts() if self._matches(a, inputs)
                   and within_window(dt.datetime.fromtimestamp(a.cdate, dt.timezone.utc) if a.cdate else None)
                   and not self.managed_elsewhere(str(a.id))]  # another stack's is not an interrupted create's
        if len(matches) > 1:
            listed = "; ".join(f"{a.id} ({a.name!r}, created {self._created(a)})" for a in matches)
            raise Refused(
                f"Sign-Up.to already has {len(matches)} accounts that match every declared field of this account and "
                f"were made in the last {RECOGNITION_WINDOW}: {listed}. An interrupted run may have made them; nothing "
                f"was created, so as not to add another. Change a declared field (the name, say) to create a new one.")
        if not matches:
            return None
        account = matches[0]
        warn(f"signupto account {account.id} ({account.name!r}, created {self._created(account)}) matches every "
             f"declared field and was made by an earlier, interrupted run: taking it over instead of creating another")
        return account

    @staticmethod
    def _matches(account: Account, inputs: SignupToSubAccountArgs) -> bool:
        declared = {"name": inputs.name, "contactemail": inputs.owner.email, "timezone": inputs.owner.timezone,
                    "country": inputs.country, "address": inputs.address, "telephone": inputs.telephone,
                    "website": inputs.website}
        return all(getattr(account, field) == value for field, value in declared.items() if value is not None)

    @staticmethod
    def _created(account: Account) -> Optional[str]:
        return dt.datetime.fromtimestamp(account.cdate, dt.timezone.utc).isoformat() if account.cdate else None

    def _adopt(self, inputs: SignupToSubAccountArgs) -> tuple[str, SubAccountState]:
        """Take over an existing account with no write: the API cannot update it, so the declaration must
        match the live values exactly (as `pulumi import` requires)."""
        account_id = inputs.adopt_account_id
        account = self.client.get_account(account_id)
        if account is None:
            raise CannotAdopt(f"cannot adopt Sign-Up.to account {account_id}: it does not exist, or it is not one of "
                               f"this partner's accounts. Nothing was created; check adopt_account_id.")
        declared = inputs.model_dump()
        live = {"name": account.name, "owner.email": account.contactemail}
        if inputs.owner.timezone is not None:
            live["owner.timezone"] = account.timezone
        for field in ("country", "address", "telephone", "website"):
            if declared[field] is not None:
                live[field] = getattr(account, field)
        def value(path: str):
            head, _, tail = path.partition(".")
            return declared[head][tail] if tail else declared[head]
        differences = [f"{k}: declared {value(k)!r}, live {v!r}" for k, v in live.items() if value(k) != v]
        if differences:
            raise CannotAdopt(f"cannot adopt Sign-Up.to account {account_id}: the declaration differs from the live "
                               f"account ({'; '.join(differences)}), and the API cannot update an account. Declare the "
                               f"live values to adopt it; nothing was changed.")
        return str(account.id), self._outputs(declared, account)

    def read(self, account_id: str, recorded: Recorded) -> Optional[SubAccountState]:
        account = self.client.get_account_shared(account_id, reader="SubAccount")
        if account is None:
            return None
        inputs = recorded.inputs()
        owner = dict(recorded.owner or {})
        owner["email"] = account.contactemail
        if owner.get("timezone") is not None:  # only what was declared is compared
            owner["timezone"] = account.timezone
        inputs.update(name=account.name, owner=owner)
        for field in ("country", "address", "telephone", "website"):
            if inputs[field] is not None:
                inputs[field] = getattr(account, field)
        return self._outputs(inputs, account)

    def update(self, account_id: str, recorded: Recorded, new: SignupToSubAccountArgs) -> SubAccountState:
        # Only on_destroy can change (check refuses the rest); it lives in state alone.
        return SubAccountState(**{**recorded.model_dump(exclude_unset=True), "on_destroy": new.on_destroy})

    def delete(self, account_id: str, recorded: Recorded) -> None:
        if recorded.on_destroy == "keep" or self.client.get_account(account_id) is None:
            return  # kept on purpose, or already gone
        raise Refused(
            f"Sign-Up.to's API cannot delete accounts: account {account_id} ({recorded.name!r}) would stay on the "
            f"platform. To remove it from this stack and keep it there, set `on_destroy: keep` on the account, run "
            f"`pulumi up`, then destroy again.")

    @staticmethod
    def _outputs(inputs: dict, account: Account) -> SubAccountState:
        created = dt.datetime.fromtimestamp(account.cdate, dt.timezone.utc).isoformat() if account.cdate else None
        return SubAccountState(**inputs, account_id=str(account.id), created_at=created)
