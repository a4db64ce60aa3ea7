"""SubAccount on Ciirus: the one emails/subaccount of the configured API user.

On Ciirus one remote object carries the sub-account, its sending domain and its limits, and the
API only creates it with all three. So SubAccount owns the object's existence and sends `initial`
values once, in the POST that creates it; from then on the sending domain belongs to
SendingDomain and daily_send_limit/approved to AccountFeatures, and SubAccount neither writes
them again nor reports drift on them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ...ciirus.models import SubAccount, SubAccountFields
from ...platforms.ciirus import CiirusInitialSettings
from ...resources.diagnostics import warn
from ...resources.markers import within_window
from ..base import CannotAdopt, Recorded, Refused
from ..sub_account import SubAccountHandler, SubAccountState

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...ciirus.client import CiirusClient


class CiirusSubAccountArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["ciirus"]
    initial: CiirusInitialSettings  # derived by the program (providers/platforms/ciirus.py: INITIAL)
    adopt_existing: StrictBool = Field(False, description="take over the API user's sub-account if it has one "
                                                          "instead of refusing (see README)")
    # Take over exactly this sub-account (as `email-partners discover` writes): an error if the API
    # user has none or another one, never a create.
    adopt_account_id: Optional[str] = Field(None, description="take over exactly this sub-account (see "
                                                              "`email-partners discover`)")


class CiirusSubAccount(SubAccountHandler[CiirusSubAccountArgs]):
    platform = "ciirus"
    Args = CiirusSubAccountArgs
    client: CiirusClient
    replace_fields = frozenset({"platform"})
    # `initial` and `adopt_existing` only matter to the create; changing them later changes nothing.
    compared_fields = ("platform",)

    @classmethod
    def customer_name(cls, recorded: Recorded) -> Optional[str]:
        """A Ciirus sub-account has no name: its sending domain names the customer."""
        return (recorded.initial or {}).get("sending_domain")

    def create(self, inputs: CiirusSubAccountArgs, marker: Optional[str]) -> tuple[str, SubAccountState]:
        from ...ciirus.client import SubAccountExists

        if inputs.adopt_account_id is not None:
            account = self.client.get()
            if account is None or account.subaccount_id != inputs.adopt_account_id:
                found = "none" if account is None else account.subaccount_id
                raise CannotAdopt(f"cannot adopt Ciirus sub-account {inputs.adopt_account_id}: this API user's "
                                   f"sub-account is {found}. Nothing was created; check adopt_account_id.")
            return account.subaccount_id, self._outputs(inputs.model_dump(), account)
        try:
            account = self.client.create(SubAccountFields(**inputs.initial.model_dump()))
        except SubAccountExists as exc:
            e = exc.existing
            if not inputs.adopt_existing and not self._made_by_interrupted_create(e, inputs):
                raise Refused(
                    f"Ciirus already has a sub-account for this API user: {e.subaccount_id} (created {e.created_at}, "
                    f"sending domain {e.sending_domain}, daily_send_limit {e.daily_send_limit}, approved {e.approved}). "
                    f"It was not changed. To manage it with this stack, add `adopt_existing: true` to the account and "
                    f"run `pulumi up` again; its domain and limits then follow your SendingDomain and AccountFeatures."
                ) from None
            account = e
        return account.subaccount_id, self._outputs(inputs.model_dump(), account)

    @staticmethod
    def _made_by_interrupted_create(existing: SubAccount, inputs: CiirusSubAccountArgs) -> bool:
        """The API stores nothing of ours, so: every `initial` value matches exactly and it was made
        within RECOGNITION_WINDOW. Then an earlier run of this resource made it and was cut short."""
        try:
            created = dt.datetime.fromisoformat(existing.created_at) if existing.created_at else None
        except ValueError:
            created = None
        if existing.fields() != SubAccountFields(**inputs.initial.model_dump()) or not within_window(created):
            return False
        warn(f"ciirus sub-account {existing.subaccount_id} (created {existing.created_at}) matches every `initial` "
             f"value and was made by an earlier, interrupted run: taking it over")
        return True

    def read(self, account_id: str, recorded: Recorded) -> Optional[SubAccountState]:
        account = self.client.get_shared(reader="SubAccount")
        if account is None or account.subaccount_id != account_id:
            return None
        return self._outputs(recorded.inputs(), account)

    def update(self, account_id: str, recorded: Recorded, new: CiirusSubAccountArgs) -> SubAccountState:
        # Nothing remote to change (see compared_fields): what was recorded, with the new inputs.
        return SubAccountState(**{**recorded.model_dump(exclude_unset=True), **new.model_dump()})

    def delete(self, account_id: str, recorded: Recorded) -> None:
        current = self.client.get()
        if current is not None and current.subaccount_id == account_id:
            self.client.delete()

    @staticmethod
    def _outputs(inputs: dict, account: SubAccount) -> SubAccountState:
        return SubAccountState(**inputs, account_id=account.subaccount_id, created_at=account.created_at,
                               owner_user_id=None if account.user_id is None else str(account.user_id))
