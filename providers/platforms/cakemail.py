"""Cakemail: partner sub-accounts; the partner logs in with an e-mail address and a password."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Annotated

from pydantic import SecretStr

from ..cakemail import DEFAULT_API_URL
from .description import ACCOUNT, DiscoveredAccount, Discovery, Owned, Platform, Starter
from .settings import DEFAULT_TIMEOUT_SECONDS, ApiUrl, Looks, PlatformSettings, Seconds, Setting, an_email_address

if TYPE_CHECKING:
    from ..cakemail.client import CakemailClient
    from ..http import RetryPolicy


class CakemailSettings(PlatformSettings):
    api_url: ApiUrl = DEFAULT_API_URL
    username: Annotated[str, Setting(login=True, looks_like=Looks(
        "an e-mail address (Cakemail partners log in with one)", an_email_address))]
    password: SecretStr
    timeout_seconds: Seconds = DEFAULT_TIMEOUT_SECONDS


def client(settings: CakemailSettings, retry: RetryPolicy) -> CakemailClient:
    from ..cakemail.client import CakemailClient

    return CakemailClient(settings.api_url, settings.username, settings.password.get_secret_value(), retry=retry)


def verify_credentials(client: CakemailClient) -> None:
    client.auth.headers("POST", "/token")  # the password grant: one request


def discover(client: CakemailClient, settings: CakemailSettings, page_size: int,
             features: Collection[str]) -> list[DiscoveredAccount]:
    """Every sub-account with its name, flags, limits and DKIM keys (the owner is not readable)."""
    found = []
    for account in client.iter_accounts(per_page=page_size):
        limits = {k: v for k, v in (account.usage_limits or {}).items() if v is not None and k in features}
        if not limits:
            full = client.get_account(account.id)
            limits = {k: v for k, v in ((full.usage_limits if full else None) or {}).items()
                      if v is not None and k in features}
        notes = ["suspended: trial status not shown, declared false"] if account.suspended else []
        declared_account = {"adopt_account_id": account.id, "name": account.name,
                            "trial": account.status == "trial", "partner": account.partner,
                            "suspended": account.suspended}
        domains = [{"domain": k.domain, "selector": k.selector, "adopt_existing": True}
                   for k in client.list_dkim_keys(account.id)]
        declaration = {"platform": "cakemail", "account": declared_account, "features": limits}
        if domains:
            declaration["sending_domains"] = domains
        found.append(DiscoveredAccount(account.id, account.name or account.id, declaration, notes))
    return found


PLATFORM = Platform(
    name="cakemail", title="Cakemail", settings=CakemailSettings, client=client,
    verify_credentials=verify_credentials,
    handlers={"SubAccount": "providers.handlers.cakemail.sub_account:CakemailSubAccount",
              "AccountFeatures": "providers.handlers.cakemail.account_features:CakemailAccountFeatures",
              "SendingDomain": "providers.handlers.cakemail.sending_domain:CakemailSendingDomain",
              "DomainVerification": "providers.handlers.domain_verification:VerificationHandler"},
    starter=Starter(
        account={"name": "{title}", "owner.email": "owner@{customer}.example", "owner.first_name": "First",
                 "owner.last_name": "Last", "owner.language": "en_US", "owner.timezone": "America/Montreal"},
        features={"per_month": 10000, "maximum_contacts": 5000},
        sending_domain={"domain": "news.{customer}.example"}),
    discovery=Discovery(discover, notes=(
        "Cakemail's API does not show an account's owner (only its user id): the owner is left out; it is only "
        "needed to create an account, and an adopted account's owner cannot be declared later",
        "a suspended account does not show whether it is a trial: trial is declared false")),
    prime_reads=lambda client, max_age: client.prime_accounts(max_age=max_age),
    no_limit=(-1,),
    domain_records="its DKIM TXT record at <selector>._domainkey.{domains}",
    # An account by its id; a DKIM key by its account and domain (one key per domain): a new key for a
    # domain of an adopted account takes over the one that exists.
    owned=(Owned("SubAccount", "account", ("account_id",), ("adopt_account_id",)),
           Owned("SendingDomain", "DKIM key", ("account_id", "domain"), (ACCOUNT, "domain"))),
)
