"""Sign-Up.to (PMPAPI): partner-created company accounts, their feature switches and limits.

Its API can create and read an account but neither update nor delete one, and offers no sending
domains; it reports what an account uses next to its limits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Annotated, Any, Optional, Union

from pydantic import SecretStr

from ..signupto import DEFAULT_API_URL
from .description import DiscoveredAccount, Discovery, Owned, Platform, Starter, Usage
from .settings import DEFAULT_TIMEOUT_SECONDS, ApiUrl, Looks, PlatformSettings, Seconds, Setting

if TYPE_CHECKING:
    from ..http import RetryPolicy
    from ..signupto.client import SignupToClient

# The API's "no limit" is null, which the engine cannot carry (it drops nulls): users write "unlimited".
UNLIMITED = "unlimited"


class SignupToSettings(PlatformSettings):
    api_url: ApiUrl = DEFAULT_API_URL
    partner_id: Annotated[Union[int, str], Setting(login=True, looks_like=Looks(
        "the partner's numeric id (for example 1001)", lambda v: v.isdigit() and int(v) > 0))]
    partner_key: Annotated[SecretStr, Setting(looks_like=Looks("the 40-character partner key", lambda v: len(v) == 40))]
    timeout_seconds: Seconds = DEFAULT_TIMEOUT_SECONDS


def client(settings: SignupToSettings, retry: RetryPolicy) -> SignupToClient:
    from ..signupto.client import SignupToClient

    return SignupToClient.as_partner(settings.api_url, settings.partner_id, settings.partner_key.get_secret_value(),
                                     retry=retry)


def discover(client: SignupToClient, settings: SignupToSettings, page_size: int,
             features: Collection[str]) -> list[DiscoveredAccount]:
    """Every company with its settings (fixed: the API cannot update them) and declarable features."""
    from ..signupto.models import NULLABLE_LIMITS

    found = []
    for account in client.list_accounts():
        owner = {"email": account.contactemail}
        if account.timezone:
            owner["timezone"] = account.timezone
        declared_account = {"adopt_account_id": str(account.id), "name": account.name, "owner": owner,
                            "on_destroy": "keep"}
        for key in ("country", "address", "telephone", "website"):
            if getattr(account, key) is not None:
                declared_account[key] = getattr(account, key)
        declared_features, left_out = {}, []
        for key, value in (client.get_features(account.id) or {}).items():
            if key not in features:
                continue
            if value is None and key in NULLABLE_LIMITS:
                value = UNLIMITED
            if value is None:
                left_out.append(key)
                continue
            declared_features[key] = value
        notes = [f"not declared (null): {', '.join(sorted(left_out))}"] if left_out else []
        found.append(DiscoveredAccount(str(account.id), account.name, {"platform": "signupto",
                                                                       "account": declared_account,
                                                                       "features": declared_features}, notes))
    return found


def usage(client: SignupToClient, account_id: str) -> Optional[dict[str, Any]]:
    return client.get_account_usage(account_id)


PLATFORM = Platform(
    name="signupto", title="Sign-Up.to", settings=SignupToSettings, client=client,
    verify_credentials=lambda client: client.list_accounts(),
    handlers={"SubAccount": "providers.handlers.signupto.sub_account:SignupToSubAccount",
              "AccountFeatures": "providers.handlers.signupto.account_features:SignupToAccountFeatures"},
    starter=Starter(
        account={"name": "{title}", "owner.email": "owner@{customer}.example", "owner.timezone": "Europe/London",
                 "country": "GB", "on_destroy": "refuse"},
        features={"enableemail": True, "enablesendbulkemail": True, "list_limit": 200, "subscriber_limit": 10000}),
    discovery=Discovery(discover, notes=(
        "Sign-Up.to's API cannot update or delete an account: its settings are fixed as discovered, and on_destroy "
        "is declared keep (a destroy leaves the account and its data in place)",
        "null settings (a dependent switch whose parent is off, custommaildomaintype, maildomainprimary) cannot be "
        "declared: they are left out and stay unmanaged")),
    prime_reads=lambda client, max_age: client.prime_accounts(max_age=max_age),
    usage=Usage(counts={"list_limit": "list_count", "user_limit": "user_count", "subscriber_limit": "subscriber_count"},
                read=usage),
    deletes_accounts=False,
    no_limit=(UNLIMITED,),
    owned=(Owned("SubAccount", "company", ("account_id",), ("adopt_account_id",)),),
)
