"""SendingDomain on Ciirus: the sub-account's sending_domain and its DNS, DKIM and SPF records.

The domain lives on the sub-account object (owned by SubAccount), so changing it is an update in
place (new records, unverified again), and `destroy` leaves it: a Ciirus sub-account always has
a domain, and it goes away with the SubAccount.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from ...ciirus.models import SubAccount
from ..base import Recorded
from ..sending_domain import SendingDomainArgs, SendingDomainHandler, SendingDomainState

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...ciirus.client import CiirusClient


class CiirusSendingDomainArgs(SendingDomainArgs):
    platform: Literal["ciirus"]


class CiirusSendingDomain(SendingDomainHandler[CiirusSendingDomainArgs]):
    platform = "ciirus"
    Args = CiirusSendingDomainArgs
    client: CiirusClient
    replace_fields = frozenset({"platform", "account_id"})

    def create(self, inputs: CiirusSendingDomainArgs, marker: Optional[str]) -> tuple[str, SendingDomainState]:
        account = self._set_domain(inputs.account_id, inputs.domain)
        return f"{account.subaccount_id}/sending-domain", self._state(inputs.model_dump(), account)

    def read(self, id_: str, recorded: Recorded) -> Optional[SendingDomainState]:
        account = self.client.get_shared(reader="SendingDomain")
        if account is None or account.subaccount_id != recorded.account_id:
            return None
        return self._state({**recorded.inputs(), "domain": account.sending_domain}, account)

    def update(self, id_: str, recorded: Recorded, new: CiirusSendingDomainArgs) -> SendingDomainState:
        return self._state(new.model_dump(), self._set_domain(new.account_id, new.domain))

    def delete(self, id_: str, recorded: Recorded) -> None:
        """Nothing to do: the domain cannot be removed from a Ciirus sub-account."""

    def _set_domain(self, account_id: str, domain: str) -> SubAccount:
        return self.client.update(account_id, sending_domain=domain)  # keeps daily_send_limit and approval

    @staticmethod
    def _state(inputs: dict, account: SubAccount) -> SendingDomainState:
        domain = account.sending_domain
        records = [
            {"name": domain, "type": "TXT", "value": account.dns_value, "purpose": "verification",
             "validated": account.dns_validation_status},
            {"name": f"mandrill._domainkey.{domain}", "type": "TXT", "value": account.dkim_value, "purpose": "dkim",
             "validated": account.dkim_validation_status},
            {"name": domain, "type": "TXT", "value": account.spf_value, "purpose": "spf",
             "validated": account.spf_validation_status},
        ]
        return SendingDomainState(**inputs, records=records)
