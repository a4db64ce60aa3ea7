"""Each platform's test partner and sample customer, by platform name: what the shared scenarios use.

One module per registered platform (`tests/vendors/<name>.py`, the `TestVendor` shape below), looked
up by the name the registry gives (providers.platforms.names()), so a platform registered without
one fails `vendor()` with a message that says what to add. The partner set-up here is also the
benchmarks' (benchmarks/fleet.py, benchmarks/drift_fleet_maker.py): a partner on the emulator is a
fact of the tests' world, and the benchmarks already build theirs from tests/ (tests.processes,
tests.conftest.Control), so this is the one place both import rather than a copy in each.

A partner is its settings by field name of the platform's settings model (`{"api_url": ...,
"username": ..., "password": ...}` for Cakemail): keys, environment variables and which are secrets
follow from the platform's description, so nothing below names a vendor.
"""

from __future__ import annotations

import importlib
import itertools
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Mapping, Protocol, cast

from providers.platforms import describe, names
from providers.platforms.settings import ProviderSetting, provider_settings

_serial = itertools.count(1)


class ControlApi(Protocol):
    """The emulator's control API as tests (tests.conftest.Control) and benchmarks hold it."""

    url: str

    def post(self, path: str, body: dict) -> dict: ...


class TestVendor(Protocol):
    """What a tests/vendors/<name>.py module offers (module attributes)."""

    PLATFORM: str
    CUSTOMER: dict[str, Any]                    # the sample customer declaration
    CHANGED: dict[str, Any]                     # CUSTOMER with a change the platform makes in place
    SECRETS: Mapping[str, str]                  # customer paths stored encrypted ("account.password": ...)
    RECREATED_KEEPS_ID: bool                    # an account made again has its old id (one per login; a username)
    sample: Callable[[dict[str, Any], bool], dict[str, Any]]  # (partner, changed) -> CUSTOMER/CHANGED as it declares it
    BAD_INPUT: list["BadInput"]                 # declarations refused at preview, with what the refusal says
    partner: Callable[[ControlApi, str], dict[str, Any]]  # (control, tag) -> a fresh partner's settings
    client: Callable[[dict[str, Any]], Any]     # the tests' own view of the remote side, as that partner
    account_ids: Callable[[Any], list[str]]     # the accounts that partner's API lists (the customer's)
    remove_account: Callable[[Any, ControlApi, str], None]  # delete it behind the tool's back
    assert_declared: Callable[[Any, str], None]  # the remote account holds CUSTOMER's values
    leaked: Callable[..., list[str]]            # (partner, emulator, *texts) -> its credentials found in them
    REHEARSAL: "Rehearsal"                      # a change rehearsed on a staging copy, then promoted


@dataclass(frozen=True)
class Rehearsal:
    """A production customer, the change rehearsed on its staging copy, and what `promote` must carry back
    (tests/e2e/test_promotion.py). Staging's copy rules there: `owner_email: plus`, `domain_prefix: staging`,
    and the caps of STAGING_CAPS."""

    production: Callable[[dict[str, Any]], dict[str, Any]]  # (partner) -> the production declaration
    rehearse: Callable[[dict[str, Any]], None]   # the change, made on the staging copy's declaration in place
    promoted: Mapping[str, tuple[Any, Any]]      # field (as promote names it) -> production's (old, new)
    plan: Mapping[str, set[str]]                 # then production's preview: op -> the resource kinds it touches
    assert_promoted: Callable[[Any, str], None]  # (client, account id): the production account after its up


# The staging caps of the promotion scenarios: each platform's sample has a limit above one of them.
STAGING_CAPS = {"per_month": 1000, "maximum_contacts": 500, "subscriber_limit": 500, "daily_send_limit": 100,
                "limit": 1000}


@dataclass(frozen=True)
class BadInput:
    """A declaration the preview refuses before any request: texts its output must and must not hold."""

    id: str
    customer: dict[str, Any]
    expected: tuple[str, ...]
    absent: tuple[str, ...] = ()


def vendor(platform: str) -> TestVendor:
    """tests/vendors/<platform>.py, or an error naming the file a registered platform lacks."""
    try:
        module: ModuleType = importlib.import_module(f"{__name__}.{platform}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{platform}":
            raise
        raise LookupError(f"platform {platform!r} is registered (providers/platforms/__init__.py) but has no "
                          f"tests/vendors/{platform}.py: add its test partner and sample customer "
                          f"(providers/README.md, 'Adding a platform')") from None
    if getattr(module, "PLATFORM", None) != platform:
        raise LookupError(f"tests/vendors/{platform}.py must set PLATFORM = {platform!r}")
    return cast(TestVendor, module)


def declare_sample(project, test_vendor: TestVendor, partner: dict[str, Any], changed: bool = False) -> dict[str, Any]:
    """The vendor's sample customer (or its in-place change) in the project's stack config, its
    SECRETS encrypted as the README says (`pulumi config set --path --secret ...`)."""
    declared = test_vendor.sample(partner, changed)
    project.set_customer(declared)
    for path, value in test_vendor.SECRETS.items():
        project.run("config", "set", "--path", "--secret", f"email-partners:customer.{path}", value)
    return declared


def serial(tag: str) -> str:
    """A name no other test of this run (or of another xdist worker) uses."""
    return f"{tag}-{os.getpid()}-{next(_serial)}"


def _settings(platform: str, partner: dict[str, Any]) -> list[tuple[ProviderSetting, str]]:
    return [(s, str(partner[s.name])) for s in provider_settings(describe(platform)) if s.name in partner]


def without_platform_settings(environ: Mapping[str, str], *prefixes: str) -> dict[str, str]:
    """`environ` less every platform's settings (CAKEMAIL_..., one prefix per registered platform) and
    `prefixes`: a run sees only the partners its test gives it, never the developer's own."""
    dropped = (*(f"{name.upper()}_" for name in names()), *prefixes)
    return {k: v for k, v in environ.items() if not k.startswith(dropped)}


def stack_config(platform: str, partner: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain, secret) stack config of the partner's settings: {"ciirus:username": ...}, {"ciirus:password": ...}."""
    plain, secret = {}, {}
    for setting, value in _settings(platform, partner):
        (secret if setting.secret else plain)[setting.config_key] = value
    return plain, secret


def environment(platform: str, partner: dict[str, Any]) -> dict[str, str]:
    """The partner's settings as environment variables (CAKEMAIL_USERNAME=...), as a CI job sets them."""
    return {setting.env_var: value for setting, value in _settings(platform, partner)}


def partner_from_environment(platform: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The partner whose settings `environ` holds (environment()'s inverse): {"api_url": ..., ...}."""
    return {s.name: environ[s.env_var] for s in provider_settings(describe(platform)) if s.env_var in environ}


@dataclass
class Partners:
    """One fresh partner per platform, shared by a fleet's customers through the environment."""

    env: dict[str, str] = field(default_factory=dict)
    of: dict[str, dict[str, Any]] = field(default_factory=dict)  # platform -> its partner's settings


def fleet_partners(control: ControlApi, tag: str) -> Partners:
    """Fresh partners of every platform, as environment variables for a whole fleet. A platform whose
    login sees one account (Ciirus's API users) gets only its API URL: each of its customers' stacks
    carries a login of its own (`vendor(name).partner(control, tag)` and `stack_config`)."""
    partners = Partners()
    for name in names():
        if describe(name).one_account_per_login:
            partners.env.update(environment(name, {"api_url": f"{control.url}/{name}"}))
            continue
        partner = vendor(name).partner(control, tag)
        partners.of[name] = partner
        partners.env.update(environment(name, partner))
    return partners
