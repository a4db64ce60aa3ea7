"""What a platform is: the facts about one vendor that every layer above its client needs.

One `Platform` per vendor (providers/platforms/<name>.py), registered once by name in
providers/platforms/__init__.py, and read by everything else: the resources (settings checked at
preview, the handlers offered), the program (the declaration's shape), the tool (environment files,
starters, discovery, review dangers, fleet drift's identities and bulk reads, the policy pack).
A description is cheap to import (no client, no `requests`): the preview of a stack imports its
own platform's only. Nothing here names a vendor.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..http import RetryPolicy
    from .settings import PlatformSettings

RESOURCES = ("SubAccount", "AccountFeatures", "SendingDomain", "DomainVerification")


@dataclass(frozen=True)
class Starter:
    """The active lines of `email-partners new`'s starter declaration: the values to replace first,
    by dotted name per section (every other setting is listed commented out, from the handlers)."""

    account: Mapping[str, Any]
    features: Mapping[str, Any]
    sending_domain: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class DiscoveredAccount:
    """One account that `discover` found: its live declaration, marked for adoption."""

    account_id: str
    name: str
    declaration: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # what the API does not show of this account


@dataclass(frozen=True)
class Discovery:
    """What `email-partners discover` reads: `read(client, settings, page_size, features)` lists the
    accounts the partner's credentials see (`features`: the names AccountFeatures can declare);
    `notes` say what the platform's API cannot show (written in every stack it makes)."""

    read: Callable[[Any, "PlatformSettings", int, Collection[str]], list[DiscoveredAccount]]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Derived:
    """An account setting the program derives from the rest of a declaration (never declared itself):
    each field of `model` comes from `sources[field]` ("features.approved", "sending_domains[0].domain"),
    else the model's default."""

    name: str
    model: type[BaseModel]
    sources: Mapping[str, str]


@dataclass(frozen=True)
class ReviewDanger:
    """A change `email-partners review` names as dangerous on this platform, beyond every platform's own."""

    kind: str                      # how it is acknowledged: `review --acknowledge <kind>`
    resources: tuple[str, ...]     # the resources whose change it is
    ops: tuple[str, ...]           # update, replace, delete
    reason: str


@dataclass(frozen=True)
class Usage:
    """What the platform reports an account uses next to its limits: a review names a limit lowered below it."""

    counts: Mapping[str, str]                          # limit -> the count reported beside it
    read: Callable[[Any, str], Optional[dict[str, Any]]]  # (client, account id) -> the counts, None when unknown


# In an `Owned` key: the partner login the stack uses (`<user> at <apiUrl>`); the id of the account the
# resource belongs to, where known (the one its stack adopts). See providers/ownership.py.
LOGIN = "@login"
ACCOUNT = "@account"


@dataclass(frozen=True)
class Owned:
    """A vendor object one of the platform's resources manages, as the ownership index names it (one
    owner per object across a state backend: providers/ownership.py, operations/ownership/).

    `recorded`: the fields of the resource's recorded state whose values identify it (`id`: the
    resource's id; an input or output; LOGIN). `declared`: the fields of a declaration that name the
    same values before it exists in the stack (an id it adopts, a unique username, ACCOUNT, LOGIN):
    a create with all of them set takes that existing object over, so another stack must not own it."""

    resource: str
    noun: str                      # the vendor's word: account, company, subuser, DKIM key, ...
    recorded: tuple[str, ...]
    declared: tuple[str, ...]


@dataclass(frozen=True)
class Platform:
    name: str                      # the `platform` value, its config namespace and environment prefix
    title: str                     # as people write it: "Sign-Up.to"
    settings: type[PlatformSettings]
    # (settings, retry policy) -> the vendor's client; imports the client module only when called.
    client: Callable[[Any, "RetryPolicy"], Any]
    # One authenticating request (`check-credentials`); raises the client's ApiError when refused.
    verify_credentials: Callable[[Any], None]
    # resource -> "package.module:Class" of its handler, imported only when a stack uses it.
    handlers: Mapping[str, str]
    starter: Starter
    discovery: Discovery
    # A bulk read that serves a whole pass of refresh reads (`fleet drift`'s sweep): (client, max_age) -> count.
    prime_reads: Optional[Callable[[Any, float], int]] = None
    dangers: tuple[ReviewDanger, ...] = ()
    usage: Optional[Usage] = None
    # Whether its API deletes accounts; if not, a SubAccount declares `on_destroy: keep` to leave one behind.
    deletes_accounts: bool = True
    one_account_per_login: bool = False   # the credentials see exactly one account (discover names it)
    one_sending_domain: bool = False      # an account has exactly one, changed in place (not replaced)
    derived_account_settings: tuple[Derived, ...] = ()
    no_limit: tuple[Any, ...] = ()        # what a declared limit says for "no limit" (-1, "unlimited")
    # Account settings that are secrets (a subuser's password): the program hands them to the resource
    # as Pulumi secrets (encrypted in state, `[secret]` in previews) and refuses them written in clear.
    secret_account_settings: tuple[str, ...] = ()
    # The account settings (dotted) holding the e-mail the vendor writes to: a clone into another
    # environment rewrites them by its `copies.owner_email` rule, so a copy never mails the real customer.
    owner_email_settings: tuple[str, ...] = ("owner.email",)
    # Account settings the vendor keeps unique across all its customers (a SendGrid username): a clone
    # rewrites them too (`<value>-<environment>`), under the same rule, so the copy can be created.
    unique_account_settings: tuple[str, ...] = ()
    # What a new sending domain needs published, for a review ({domains}: the new domains).
    domain_records: str = "its records at {domains}"
    # The vendor objects its resources manage, and how each is identified (the ownership index).
    owned: tuple[Owned, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.handlers) - set(RESOURCES)
        if unknown or "SubAccount" not in self.handlers:
            raise ValueError(f"platform {self.name!r}: handlers must include SubAccount and name only "
                             f"{', '.join(RESOURCES)} (got {', '.join(sorted(self.handlers))})")

    def offers(self, resource: str) -> bool:
        return resource in self.handlers
