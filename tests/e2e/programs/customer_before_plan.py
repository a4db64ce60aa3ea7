# The program's composition as it was before it became data (stacks/customer.py at 778eaeb): state
# written by it must preview with no change under the current program (tests/e2e/test_drift_sweep.py).
"""A customer: its declaration in stack config, and the component that builds it.

A live customer's sub-account is guarded twice, because replacing or deleting it loses the
customer's contacts and campaigns:
- `account.allow_replace: true` acknowledges a change that replaces the account (a Cakemail owner
  e-mail, a platform change). Without it, the preview fails naming the customer and the field.
  Remove the line again after the `up`: it acknowledges one change, not every future one.
- `account.protect` (default true) is Pulumi's `protect` option on the SubAccount: `pulumi destroy`,
  or removing the customer from the program, is refused by the engine.

Retiring a customer on purpose: set `account.protect: false` (and, on Sign-Up.to, whose API cannot
delete accounts, `account.on_destroy: keep`), run `pulumi up` so the state records it, then
`pulumi destroy` and `pulumi stack rm`, and delete the stack file.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from providers.resources.common import with_refused_value

from providers.resources.account_features import AccountFeatures
from providers.resources.sending_domain import SendingDomain
from providers.resources.sub_account import SubAccount


class CustomerDeclaration(BaseModel):
    """The `customer` config object. Settings inside `account`, `features` and each sending domain
    are checked by the resources themselves at preview, so the messages name the same fields
    whether or not you use this program."""

    model_config = ConfigDict(extra="forbid")

    platform: Literal["cakemail", "signupto", "ciirus"]
    account: dict[str, Any] = Field(default_factory=dict, description="the sub-account's settings for this platform")
    features: Optional[dict[str, Any]] = Field(None, description="switches and limits to manage; others are left alone")
    sending_domains: list[dict[str, Any]] = Field(default_factory=list, description="each with `domain` and settings")

    @model_validator(mode="after")
    def _platform_shape(self):
        nulls = [name for name, value in (self.features or {}).items() if value is None]
        if nulls:
            raise ValueError(f"features: {', '.join(nulls)} set to null, which Pulumi drops before any provider sees "
                             f"it; write \"unlimited\" for no limit, or leave the setting out to leave it alone")
        domains = [d.get("domain") for d in self.sending_domains]
        if len(set(domains)) != len(domains):
            raise ValueError("sending_domains: each domain may be declared once")
        if self.platform == "ciirus":
            if len(self.sending_domains) != 1:
                raise ValueError("sending_domains: a Ciirus sub-account has exactly one sending domain; declare one")
            if "initial" in self.account:
                raise ValueError("account.initial: for Ciirus it is derived from sending_domains and features; "
                                 "declare those instead")
            _check_ciirus_initial(self)
        for switch in ("protect", "allow_replace"):
            if switch in self.account and not isinstance(self.account[switch], bool):
                raise ValueError(f"account.{switch}: must be true or false (got {self.account[switch]!r})")
        if self.platform == "signupto" and self.sending_domains:
            raise ValueError("sending_domains: Sign-Up.to's API offers no sending domains; supported on cakemail, ciirus")
        return self


# Where each value of a Ciirus account's derived `initial` comes from in the declaration.
CIIRUS_INITIAL_SOURCES = {"sending_domain": "sending_domains[0].domain", "daily_send_limit": "features.daily_send_limit",
                          "approved": "features.approved"}


def _check_ciirus_initial(declaration: "CustomerDeclaration") -> None:
    """Validate the derived `initial` here, so errors name the keys the user wrote, not account.initial.*."""
    from providers.resources.sub_account.ciirus import CiirusInitialSettings

    try:
        CiirusInitialSettings.model_validate(ciirus_initial(declaration))
    except ValidationError as exc:
        raise ValueError("; ".join(
            f"{CIIRUS_INITIAL_SOURCES.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'initial'}: "
            f"{with_refused_value(e['msg'].removeprefix('Value error, '), e.get('input'))}"
            for e in exc.errors())) from None


def ciirus_initial(declaration: "CustomerDeclaration") -> dict[str, Any]:
    features = declaration.features or {}
    return {"sending_domain": declaration.sending_domains[0].get("domain"),
            "daily_send_limit": features.get("daily_send_limit", 0), "approved": features.get("approved", False)}


def load_declaration(config: pulumi.Config) -> CustomerDeclaration:
    raw = config.get_object("customer")
    if raw is None:
        raise pulumi.RunError(
            f"stack {pulumi.get_stack()!r} declares no customer: add a `{config.name}:customer` object to "
            f"stacks/Pulumi.{pulumi.get_stack()}.yaml (see stacks/Pulumi.demo-cakemail.yaml)")
    try:
        return CustomerDeclaration.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            (f"customer.{'.'.join(str(p) for p in e['loc'])}: " if e["loc"] else "customer: ")
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, "))
            for e in exc.errors())
        raise pulumi.RunError(f"invalid customer declaration in stack config: {problems}") from None


def account_settings(declaration: CustomerDeclaration) -> dict[str, Any]:
    """On Ciirus the API creates the sub-account together with its domain, limit and approval."""
    settings = dict(declaration.account)
    settings.pop("protect", None)  # a resource option, not an account setting (see Customer)
    if declaration.platform == "ciirus":
        settings["initial"] = ciirus_initial(declaration)
    return settings


class Customer(pulumi.ComponentResource):
    account: SubAccount
    features: Optional[AccountFeatures] = None
    domains: dict[str, SendingDomain]

    def __init__(self, name: str, declaration: CustomerDeclaration, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("emailpartners:index:Customer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Protected unless retired on purpose (`protect: false`). A replacement acknowledged with
        # `allow_replace: true` is not blocked by the engine's protection: the provider's check has
        # already refused it unless acknowledged (see the module docstring).
        protect = declaration.account.get("protect", True) and not declaration.account.get("allow_replace", False)
        self.account = SubAccount(f"{name}-account", platform=declaration.platform,
                                  opts=pulumi.ResourceOptions(parent=self, protect=protect),
                                  **account_settings(declaration))
        if declaration.features is not None:
            self.features = AccountFeatures(f"{name}-features", platform=declaration.platform,
                                            account_id=self.account.account_id, features=declaration.features, opts=child)
        self.domains = {}
        for spec in declaration.sending_domains:
            settings = dict(spec)
            domain = settings.pop("domain", None)
            key = str(domain).strip().lower()  # the resource keeps its name when only the case changes
            # Ciirus has one domain per sub-account, changed in place: its resource name must not follow it.
            resource_name = f"{name}-sending-domain" if declaration.platform == "ciirus" else f"{name}-{key}"
            self.domains[key] = SendingDomain(resource_name, platform=declaration.platform,
                                                      account_id=self.account.account_id, domain=domain,
                                                      opts=child, **settings)
        self.register_outputs({"account_id": self.account.account_id, "status": self.account.status})
