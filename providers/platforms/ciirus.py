"""Ciirus Partner API: one Mandrill-backed sub-account per API user, carrying its sending domain.

One remote object holds the sub-account, its sending domain (with DNS, DKIM and SPF values) and
its limits, and the API only creates it with all three: the program derives the create's
`initial` values from the declared features and the one sending domain (see `INITIAL`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, field_validator

from ..ciirus import API_VERSIONS, DEFAULT_API_URL, DEFAULT_API_VERSION
from ..validators import hostname
from .description import LOGIN, Derived, DiscoveredAccount, Discovery, Owned, Platform, ReviewDanger, Starter
from .settings import DEFAULT_TIMEOUT_SECONDS, ApiUrl, PlatformSettings, Seconds, Setting

if TYPE_CHECKING:
    from ..ciirus.client import CiirusClient
    from ..http import RetryPolicy


class CiirusSettings(PlatformSettings):
    api_url: ApiUrl = DEFAULT_API_URL
    api_version: Annotated[str, Setting(identity=True, one_of=API_VERSIONS,
                                        one_of_words="a Ciirus API version")] = DEFAULT_API_VERSION
    username: Annotated[str, Setting(login=True)]
    password: SecretStr
    timeout_seconds: Seconds = DEFAULT_TIMEOUT_SECONDS


class CiirusInitialSettings(BaseModel):
    """What the POST that creates the sub-account sends (SubAccount's `initial`, derived: see INITIAL)."""

    model_config = ConfigDict(extra="forbid")

    sending_domain: str
    daily_send_limit: int = Field(0, ge=0)
    approved: StrictBool = False

    _domain = field_validator("sending_domain")(hostname)


INITIAL = Derived("initial", CiirusInitialSettings, {"sending_domain": "sending_domains[0].domain",
                                                     "daily_send_limit": "features.daily_send_limit",
                                                     "approved": "features.approved"})


def client(settings: CiirusSettings, retry: RetryPolicy) -> CiirusClient:
    from ..ciirus.client import CiirusClient

    return CiirusClient(settings.api_url, settings.username, settings.password.get_secret_value(),
                        settings.api_version, retry=retry)


def discover(client: CiirusClient, settings: CiirusSettings, page_size: int,
             features: Collection[str]) -> list[DiscoveredAccount]:
    """The API user's one sub-account, if it has one."""
    account = client.get()
    if account is None:
        return []
    declaration = {"platform": "ciirus", "account": {"adopt_account_id": account.subaccount_id},
                   "features": {"daily_send_limit": account.daily_send_limit, "approved": account.approved},
                   "sending_domains": [{"domain": account.sending_domain}]}
    return [DiscoveredAccount(account.subaccount_id, settings.username, declaration)]


PLATFORM = Platform(
    name="ciirus", title="Ciirus", settings=CiirusSettings, client=client,
    verify_credentials=lambda client: client.get(),
    handlers={"SubAccount": "providers.handlers.ciirus.sub_account:CiirusSubAccount",
              "AccountFeatures": "providers.handlers.ciirus.account_features:CiirusAccountFeatures",
              "SendingDomain": "providers.handlers.ciirus.sending_domain:CiirusSendingDomain",
              "DomainVerification": "providers.handlers.domain_verification:VerificationHandler"},
    starter=Starter(account={"adopt_existing": False}, features={"daily_send_limit": 1000, "approved": False},
                    sending_domain={"domain": "mail.{customer}.example"}),
    discovery=Discovery(discover, notes=("one sub-account per API user: the environment's credentials see exactly "
                                         "one",)),
    dangers=(ReviewDanger("ciirus-shared", ("AccountFeatures", "SendingDomain", "DomainVerification"),
                          ("update", "replace", "delete"),
                          "this changes the customer's one Ciirus sub-account object, which also carries its sending "
                          "domain, daily send limit and approval (a domain change makes its records unverified "
                          "again)"),),
    one_account_per_login=True,
    one_sending_domain=True,
    derived_account_settings=(INITIAL,),
    # The sub-account by its id, and as the API user's one sub-account: any create of a SubAccount with
    # that login takes over (or is refused) the one that exists.
    owned=(Owned("SubAccount", "sub-account", ("account_id",), ("adopt_account_id",)),
           Owned("SubAccount", "sub-account of API user", (LOGIN,), (LOGIN,))),
)
