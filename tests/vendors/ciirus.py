"""Ciirus's test partner (an API user on the emulator: one sub-account each) and its sample customer, a shop."""

from __future__ import annotations

import base64
import copy
from typing import Any

from providers.ciirus import DEFAULT_API_VERSION, CiirusClient
from providers.http import RetryPolicy

from . import BadInput, ControlApi, Rehearsal, serial

PLATFORM = "ciirus"

SHOP: dict[str, Any] = {
    "platform": "ciirus",
    "account": {},
    "features": {"daily_send_limit": 500, "approved": True},
    "sending_domains": [{"domain": "mail.shop.example"}],
}
CUSTOMER = SHOP


def customer(account=None, features=None, domain=None, **domain_settings) -> dict[str, Any]:
    declared = copy.deepcopy(SHOP)
    declared["account"].update(account or {})
    if features is not None:
        declared["features"] = features
    declared["sending_domains"][0].update({**({"domain": domain} if domain else {}), **domain_settings})
    return declared


def declare(project, account=None, features=None, domain=None, **domain_settings) -> dict[str, Any]:
    declared = customer(account, features, domain, **domain_settings)
    project.set_customer(declared)
    return declared


CHANGED = customer(features={"daily_send_limit": 900, "approved": True})  # an update in place

SECRETS: dict[str, str] = {}  # nothing of the sample customer is secret
RECREATED_KEEPS_ID = True  # one sub-account per login: made again, it has the same id


def sample(partner: dict[str, Any], changed: bool = False) -> dict[str, Any]:
    """CUSTOMER (or CHANGED): the same for every partner."""
    return copy.deepcopy(CHANGED if changed else CUSTOMER)



BAD_INPUT = [
    *(BadInput(f"domain-{id_}", customer(domain=domain), ("domain", expected)) for id_, domain, expected in [
        ("not-a-hostname", "not a domain", "not a valid hostname"),
        ("trailing-dot", "mail.shop.example.", "ends with a dot"),
        ("single-label", "localhost", "not a valid hostname"),
        ("leading-hyphen", "-bad.example", "not a valid hostname"),
        ("unicode", "bücher.example", "xn--"),
    ]),
    BadInput("every-mistake-at-once-with-integers-as-written",
             customer(features={"daily_send_limit": -5, "approved": "yes"}, domain="not a domain",
                      verification_timeout_seconds=-1),
             ("features.daily_send_limit: Input should be greater than or equal to 0 (got -5)",
              "features.approved: Input should be a valid boolean (got 'yes')",
              "sending_domains[0].domain: 'not a domain' is not a valid hostname",
              "sending_domains[0].verification_timeout_seconds: must be a whole number of seconds"),
             absent=("-5.0",)),
]


def partner(control: ControlApi, tag: str = "ciirus") -> dict[str, Any]:
    """Fresh API-user credentials (one sub-account per user)."""
    name = serial(tag)
    user = {"username": name, "password": f"{name}-pw!"}
    control.post("/ciirus/users", user)
    return {**user, "api_url": control.url + "/ciirus", "api_version": DEFAULT_API_VERSION}


def client(partner: dict[str, Any]) -> CiirusClient:
    return CiirusClient(partner["api_url"], partner["username"], partner["password"], partner["api_version"],
                        retry=RetryPolicy(max_attempts=2, base_delay=0.05))


def account_ids(api: CiirusClient) -> list[str]:
    current = api.get()
    return [] if current is None else [current.subaccount_id]


def remove_account(api: CiirusClient, control: ControlApi, account_id: str) -> None:
    api.delete()


def assert_declared(api: CiirusClient, account_id: str) -> None:
    remote = api.get()
    assert remote is not None and remote.subaccount_id == account_id
    assert (remote.sending_domain, remote.daily_send_limit, remote.approved) == ("mail.shop.example", 500, True)


def leaked(partner: dict[str, Any], emulator, *texts: str) -> list[str]:
    """The API user's password, or its basic credentials as sent, wherever in `texts`."""
    basic = base64.b64encode(f"{partner['username']}:{partner['password']}".encode()).decode()
    return [c for c in (partner["password"], basic) if any(c in text for text in texts)]


def _rehearse(declared: dict[str, Any]) -> None:
    """The daily limit raised from the copy's cap, and the one sending domain changed for another."""
    declared["features"]["daily_send_limit"] = 800
    declared["sending_domains"][0]["domain"] = "staging.mail2.shop.example"


def _assert_promoted(api: CiirusClient, account_id: str) -> None:
    remote = api.get()
    assert remote is not None and remote.subaccount_id == account_id
    assert (remote.sending_domain, remote.daily_send_limit, remote.approved) == ("mail2.shop.example", 800, True)


REHEARSAL = Rehearsal(
    production=lambda partner: copy.deepcopy(SHOP), rehearse=_rehearse,
    promoted={"features.daily_send_limit": (500, 800),
              "sending_domains[mail.shop.example]": ({"domain": "mail.shop.example"}, None),
              "sending_domains[mail2.shop.example]": (None, {"domain": "mail2.shop.example"})},
    plan={"update": {"AccountFeatures", "SendingDomain"}}, assert_promoted=_assert_promoted)
