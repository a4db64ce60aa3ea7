"""Twilio SendGrid: a parent account's subusers, their credits, and domains authenticated on their behalf.

The parent authenticates with an API key; a subuser is named by its username everywhere in the API
(paths, the `on-behalf-of` header), so the username is the sub-account's id. The API cannot read
a subuser's password or IPs back, and cannot change its e-mail or password once it exists.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import SecretStr

from ..sendgrid import DEFAULT_API_URL
from .description import DiscoveredAccount, Discovery, Owned, Platform, ReviewDanger, Starter
from .settings import DEFAULT_TIMEOUT_SECONDS, ApiUrl, Looks, PlatformSettings, Seconds, Setting

if TYPE_CHECKING:
    from ..http import RetryPolicy
    from ..sendgrid.client import SendGridClient
    from ..sendgrid.models import SubuserCredits


class SendGridSettings(PlatformSettings):
    api_url: ApiUrl = DEFAULT_API_URL
    # The key authenticates; the parent's username names the partner (check-credentials, fleet drift).
    parent_username: Annotated[str, Setting(login=True)]
    api_key: Annotated[SecretStr, Setting(looks_like=Looks("a SendGrid API key (SG.<id>.<secret>)",
                                                           lambda v: v.startswith("SG.") and len(v) > 10))]
    timeout_seconds: Seconds = DEFAULT_TIMEOUT_SECONDS


def client(settings: SendGridSettings, retry: RetryPolicy) -> SendGridClient:
    from ..sendgrid.client import SendGridClient

    return SendGridClient(settings.api_url, settings.api_key.get_secret_value(), retry=retry)


def verify_credentials(client: SendGridClient) -> None:
    next(client.iter_subusers(page_size=1), None)  # one page of one: a key that is not a parent's is refused


def declared_credits(credits: SubuserCredits) -> dict[str, Any]:
    """The subuser's credits in the words AccountFeatures declares them: `limit` is the allocation
    (`total`) of recurring credits; a nonrecurring allocation reads back only as what `remain`s of it."""
    found: dict[str, Any] = {"type": credits.type}
    if credits.type == "recurring":
        found.update(limit=credits.total, reset_frequency=credits.reset_frequency)
    elif credits.type == "nonrecurring":
        found["limit"] = credits.remain
    return found


def discover(client: SendGridClient, settings: SendGridSettings, page_size: int,
             features: Collection[str]) -> list[DiscoveredAccount]:
    """Every subuser with its e-mail, state, credits and authenticated domains (one listing of the
    parent's domains serves every subuser's)."""
    domains: dict[str, list[dict[str, Any]]] = {}
    for domain in client.iter_domains(page_size=page_size):
        if domain.username != settings.parent_username:
            spec = {"domain": domain.domain, "subdomain": domain.subdomain, "adopt_domain_id": str(domain.id)}
            if not domain.automatic_security:
                spec["automatic_security"] = False
            domains.setdefault(domain.username, []).append(spec)
    found = []
    for subuser in client.iter_subusers(page_size=page_size):
        account = {"adopt_account_id": subuser.username, "username": subuser.username, "email": subuser.email,
                   "suspended": subuser.disabled}
        declaration: dict[str, Any] = {"platform": "sendgrid", "account": account}
        notes = []
        credits = client.get_credits(subuser.username)
        if credits is not None:
            declaration["features"] = {k: v for k, v in declared_credits(credits).items() if k in features}
            if credits.type == "nonrecurring":
                notes.append("nonrecurring credits: SendGrid shows only what remains of the allocation; "
                             "features.limit is declared as that")
        if subuser.username in domains:
            declaration["sending_domains"] = domains[subuser.username]
        found.append(DiscoveredAccount(subuser.username, subuser.username, declaration, notes))
    return found


def prime_reads(client: SendGridClient, max_age: float) -> int:
    """One listing of every subuser serves the pass's subuser reads (the client's per-pass answers)."""
    return client.prime_subusers(max_age)


PLATFORM = Platform(
    name="sendgrid", title="SendGrid", settings=SendGridSettings, client=client,
    verify_credentials=verify_credentials,
    handlers={"SubAccount": "providers.handlers.sendgrid.sub_account:SendGridSubAccount",
              "AccountFeatures": "providers.handlers.sendgrid.account_features:SendGridAccountFeatures",
              "SendingDomain": "providers.handlers.sendgrid.sending_domain:SendGridSendingDomain",
              "DomainVerification": "providers.handlers.sendgrid.domain_verification:SendGridVerification"},
    starter=Starter(
        account={"username": "{customer}", "email": "owner@{customer}.example", "ips": ["198.51.100.10"]},
        features={"type": "recurring", "limit": 10000, "reset_frequency": "monthly"},
        sending_domain={"domain": "news.{customer}.example"}),
    discovery=Discovery(discover, notes=(
        "SendGrid's API does not show a subuser's password or IPs: both are left out (a password is only needed "
        "to create a subuser; IPs declared later are set by the next `pulumi up`)",
        "nonrecurring credits read back as what remains of the allocation, not the allocation itself")),
    prime_reads=prime_reads,
    dangers=(ReviewDanger("sendgrid-credits", ("AccountFeatures",), ("update",),
                          "setting a SendGrid subuser's credits starts a new allocation: what it has used so far is "
                          "forgotten (a nonrecurring allocation is refilled to the declared limit)"),),
    secret_account_settings=("password",),
    owner_email_settings=("email",),
    unique_account_settings=("username",),
    domain_records="its CNAME records (the return path, s1._domainkey and s2._domainkey) at {domains}",
    # A subuser by its username (unique across SendGrid: a create of that username takes over the one that
    # exists); an authenticated domain by its id.
    owned=(Owned("SubAccount", "subuser", ("username",), ("username",)),
           Owned("SendingDomain", "authenticated domain", ("id",), ("adopt_domain_id",))),
)
