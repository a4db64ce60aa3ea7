"""A customer: its declaration in stack config, and the component that builds it.

A live customer's sub-account is guarded twice, because replacing or deleting it loses the
customer's contacts and campaigns:
- `account.allow_replace: true` acknowledges a change that replaces the account (a Cakemail owner
  e-mail, a platform change). Without it, the preview fails naming the customer and the field.
  Remove the line again after the `up`: it acknowledges one change, not every future one.
- `account.protect` (default true) is Pulumi's `protect` option on the SubAccount: `pulumi destroy`,
  or removing the customer from the program, is refused by the engine.

Retiring a customer on purpose: set `account.protect: false` (and, where the platform's API cannot
delete accounts, as Sign-Up.to's, `account.on_destroy: keep`), run `pulumi up` so the state records it (it warns
what that means), then `email-partners retire STACK` (destroy, then `pulumi stack rm`, which
deletes the stack file too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from providers.platforms import describe, names, offering
from providers.platforms.description import Derived
from providers.resources.common import with_refused_value
from providers.validators import validation_problems

from providers.resources.account_features import AccountFeatures
from providers.resources.domain_verification import DomainVerification
from providers.resources.sending_domain import SendingDomain
from providers.resources.sub_account import SubAccount


class CustomerDeclaration(BaseModel):
    """The `customer` config object. Settings inside `account`, `features` and each sending domain
    are checked by the resources themselves at preview, so the messages name the same fields
    whether or not you use this program."""

    model_config = ConfigDict(extra="forbid")

    platform: Literal[names()]
    account: dict[str, Any] = Field(default_factory=dict, description="the sub-account's settings for this platform")
    features: Optional[dict[str, Any]] = Field(None, description="switches and limits to manage; others are left alone")
    sending_domains: list[dict[str, Any]] = Field(default_factory=list, description="each with `domain` and settings")

    @model_validator(mode="after")
    def _platform_shape(self):
        problems = []  # every mistake of the declaration at once, not the first
        platform = describe(self.platform)
        nulls = [name for name, value in (self.features or {}).items() if value is None]
        if nulls:
            problems.append(f"features: {', '.join(nulls)} set to null, which Pulumi drops before any provider sees "
                            f"it; write \"unlimited\" for no limit, or leave the setting out to leave it alone")
        domains = [d.get("domain") for d in self.sending_domains]
        if len(set(domains)) != len(domains):
            problems.append("sending_domains: each domain may be declared once")
        for i, spec in enumerate(self.sending_domains):
            timeout = spec.get("verification_timeout_seconds")
            if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)
                                        or not 0 <= timeout <= 3600):
                problems.append(f"sending_domains[{i}].verification_timeout_seconds: must be a whole number of "
                                f"seconds from 0 to 3600 (got {timeout!r})")
        if platform.one_sending_domain and len(self.sending_domains) != 1:
            problems.append(f"sending_domains: a {platform.title} sub-account has exactly one sending domain; declare one")
        for derived in platform.derived_account_settings:
            if derived.name in self.account:
                problems.append(f"account.{derived.name}: for {platform.title} it is derived from "
                                f"{_sources_in_words(derived)}; declare those instead")
            if not platform.one_sending_domain or len(self.sending_domains) == 1:
                problems += _derived_problems(self, derived)
        for switch in ("protect", "allow_replace"):
            if switch in self.account and not isinstance(self.account[switch], bool):
                problems.append(f"account.{switch}: must be true or false (got {self.account[switch]!r})")
        if self.sending_domains and not platform.offers("SendingDomain"):
            problems.append(f"sending_domains: {platform.title}'s API offers no sending domains; supported on "
                            f"{', '.join(offering('SendingDomain'))}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _sources_in_words(derived: Derived) -> str:
    """`sending_domains and features`: the parts of the declaration a derived setting comes from."""
    parts = dict.fromkeys(source.split(".")[0].split("[")[0] for source in derived.sources.values())
    return " and ".join(parts)


def _source_value(declaration: "CustomerDeclaration", source: str) -> Any:
    """The declared value at `features.approved` or `sending_domains[0].domain`, else None."""
    value: Any = declaration.model_dump()
    for part in source.replace("]", "").replace("[", ".").split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def derived_setting(declaration: "CustomerDeclaration", derived: Derived) -> dict[str, Any]:
    """Each field of the derived setting from its source, else the model's default."""
    values = {}
    for name, info in derived.model.model_fields.items():
        value = _source_value(declaration, derived.sources[name]) if name in derived.sources else None
        values[name] = value if value is not None or info.is_required() else info.get_default(call_default_factory=True)
    return values


def _derived_problems(declaration: "CustomerDeclaration", derived: Derived) -> list[str]:
    """Validate the derived setting here, so errors name the keys the user wrote, not account.<setting>.*."""
    try:
        derived.model.model_validate(derived_setting(declaration, derived))
    except ValidationError as exc:
        return [f"{derived.sources.get(str(p.loc[0]), p.loc[0]) if p.loc else derived.name}: "
                f"{with_refused_value(p.message, p.value)}" for p in validation_problems(exc)]
    return []


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
            (f"customer.{'.'.join(str(p) for p in problem.loc)}: " if problem.loc else "customer: ")
            + ("unknown key" if problem.kind == "extra_forbidden" else problem.message)
            for problem in validation_problems(exc))
        raise pulumi.RunError(f"invalid customer declaration in stack config: {problems}") from None


def account_settings(declaration: CustomerDeclaration) -> dict[str, Any]:
    """The account's settings as declared, with those the platform derives (Ciirus creates the
    sub-account together with its domain, limit and approval: its `initial`)."""
    settings = dict(declaration.account)
    settings.pop("protect", None)  # a resource option, not an account setting (see Customer)
    for derived in describe(declaration.platform).derived_account_settings:
        settings[derived.name] = derived_setting(declaration, derived)
    return settings


def _warn_unprotected(stack: str, declaration: CustomerDeclaration) -> None:
    """Every run of a stack with `protect: false` says what that means, so the `up` that records it
    is not silent about it."""
    platform = describe(declaration.platform)
    if not platform.deletes_accounts and declaration.account.get("on_destroy") == "keep":
        fate = f"leaves the account on {platform.title} (on_destroy: keep), no longer managed"
    elif not platform.deletes_accounts:
        fate = f"is refused by the provider until `on_destroy: keep` is set ({platform.title} cannot delete accounts)"
    else:
        fate = f"deletes its {declaration.platform} account with all its contacts and campaigns"
    pulumi.log.warn(f"customer {stack}: account.protect is false, so the account is not protected: "
                    f"`email-partners retire {stack}` (or `pulumi destroy`) {fate}. Remove the line to protect it again.")


def _secret_settings(declaration: CustomerDeclaration) -> list[str]:
    """The declared account settings that are secrets (a SendGrid subuser's password): handed to the
    resource as Pulumi secrets, so state keeps them encrypted and previews show `[secret]`. One
    written in clear in the stack file is refused: it would sit in the repository as it is."""
    declared = [key for key in describe(declaration.platform).secret_account_settings if key in declaration.account]
    if declared and not pulumi.runtime.is_config_secret(f"{pulumi.Config().name}:customer"):
        raise pulumi.RunError(
            f"customer.account.{declared[0]}: is a secret, but stacks/Pulumi.{pulumi.get_stack()}.yaml holds it in "
            f"clear; store it encrypted: `pulumi config set --path --secret "
            f"'{pulumi.Config().name}:customer.account.{declared[0]}' <value>`")
    return declared


@dataclass(frozen=True)
class PlannedResource:
    """One resource of a customer, as data: what the `Customer` component registers, and what a
    reader of the fleet (`fleet drift`'s sweep) compares with the recorded state without running
    the program."""

    kind: Literal["SubAccount", "AccountFeatures", "SendingDomain", "DomainVerification"]
    name: str                              # the resource name in the stack (the last part of its URN)
    props: dict[str, Any]                  # the keyword arguments of the resource class
    # props that take another resource's value: prop -> (that resource's name, "id" or an output's name)
    links: dict[str, tuple[str, str]] = field(default_factory=dict)
    protect: Optional[bool] = None         # Pulumi's `protect` option; None leaves the engine's default


def plan(name: str, declaration: CustomerDeclaration) -> list[PlannedResource]:
    """The customer's resources, in registration order: a pure function of the stack name and
    the declaration (no engine, no request)."""
    # Protected unless retired on purpose (`protect: false`). A replacement acknowledged with
    # `allow_replace: true` is not blocked by the engine's protection: the provider's check has
    # already refused it unless acknowledged (see the module docstring).
    protect = declaration.account.get("protect", True) and not declaration.account.get("allow_replace", False)
    account = f"{name}-account"
    # Dependents take the account's id, not its `account_id` output: the same value, but known during a
    # preview of an in-place update of the account (unknown only when it is replaced), so a preview after
    # a refresh plans nothing on them.
    of_account = {"account_id": (account, "id")}
    resources = [PlannedResource("SubAccount", account, {"platform": declaration.platform,
                                                         **account_settings(declaration)}, protect=bool(protect))]
    if declaration.features is not None:
        resources.append(PlannedResource("AccountFeatures", f"{name}-features",
                                         {"platform": declaration.platform, "features": declaration.features},
                                         links=of_account))
    for spec in declaration.sending_domains:
        settings = dict(spec)
        domain = settings.pop("domain", None)
        timeout = settings.pop("verification_timeout_seconds", None)
        # One domain per sub-account (Ciirus), changed in place: its resource name must not follow it.
        resource_name = (f"{name}-sending-domain" if describe(declaration.platform).one_sending_domain
                         else f"{name}-{domain_key(domain)}")
        resources.append(PlannedResource("SendingDomain", resource_name,
                                         {"platform": declaration.platform, "domain": domain, **settings},
                                         links=of_account))
        if timeout:  # the wait is a resource of its own, after the domain's records are in state
            resources.append(PlannedResource(
                "DomainVerification", f"{resource_name}-verification",
                {"platform": declaration.platform, "timeout_seconds": timeout},
                links={**of_account, "domain": (resource_name, "domain"), "sending_domain_id": (resource_name, "id")}))
    return resources


def declaration_problems(name: str, declaration: CustomerDeclaration) -> list[str]:
    """Every problem the resources' own checks find in the declaration, resource by resource, before any
    is registered: the engine stops at the first resource whose check fails, so a declaration with
    mistakes in several resources would otherwise be told them one resource at a time. The same checks
    and words as at preview (each provider's `check`; values taken from another resource are unknown here,
    as in a preview)."""
    from pulumi.runtime.rpc import UNKNOWN

    from providers.resources.catalog import PROVIDERS, engine_props
    from providers.resources.common import presented

    problems = []
    for planned in plan(name, declaration):
        props = {**planned.props, **{key: UNKNOWN for key in planned.links}}
        result = PROVIDERS[planned.kind]().check_inputs({}, engine_props(planned.kind, pulumi.get_project(), name,
                                                                          planned.name, **props))
        for failure in presented(result.failures, result.inputs):
            problems.append(f"{planned.kind} {planned.name}: "
                            + (f"{failure.property}: " if failure.property else "") + failure.reason)
    return problems


def domain_key(domain: Any) -> str:
    """The resource keeps its name when only the case of its domain changes."""
    return str(domain).strip().lower()


class Customer(pulumi.ComponentResource):
    account: SubAccount
    features: Optional[AccountFeatures] = None
    domains: dict[str, SendingDomain]
    verifications: dict[str, DomainVerification]

    def __init__(self, name: str, declaration: CustomerDeclaration, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("emailpartners:index:Customer", name, None, opts)
        if declaration.account.get("protect") is False:
            _warn_unprotected(name, declaration)
        classes = {"SubAccount": SubAccount, "AccountFeatures": AccountFeatures, "SendingDomain": SendingDomain,
                   "DomainVerification": DomainVerification}
        made: dict[str, pulumi.CustomResource] = {}
        self.domains, self.verifications = {}, {}
        secrets = _secret_settings(declaration)
        problems = declaration_problems(name, declaration)
        if len({problem.split(":", 1)[0] for problem in problems}) > 1:  # one resource's: the engine says them all
            raise pulumi.RunError(f"the customer declaration has {len(problems)} problems, in several resources (all "
                                  f"of them, so that they are fixed at once):\n  " + "\n  ".join(problems))
        for planned in plan(name, declaration):
            props = dict(planned.props)
            if planned.kind == "SubAccount":
                props.update({key: pulumi.Output.secret(props[key]) for key in secrets})
            for key, (source, attribute) in planned.links.items():
                props[key] = getattr(made[source], attribute)
            resource = made[planned.name] = classes[planned.kind](planned.name, opts=pulumi.ResourceOptions(
                parent=self, protect=planned.protect), **props)
            if planned.kind == "SubAccount":
                self.account = resource
            elif planned.kind == "AccountFeatures":
                self.features = resource
            elif planned.kind == "SendingDomain":
                self.domains[domain_key(planned.props["domain"])] = resource
            else:  # a DomainVerification: keyed like the domain it waits for
                self.verifications[next(k for k, d in self.domains.items() if d is made[planned.links["domain"][0]])] \
                    = resource
        self.register_outputs({"account_id": self.account.account_id, "status": self.account.status})
