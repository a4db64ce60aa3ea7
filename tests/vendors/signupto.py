"""Sign-Up.to's test partner (a partner id and key on the emulator) and its sample customer, Bakery Ltd."""

from __future__ import annotations

import copy
from typing import Any

import requests

from providers.http import RetryPolicy
from providers.signupto import SignupToClient

from . import BadInput, ControlApi, Rehearsal

PLATFORM = "signupto"

BAKERY: dict[str, Any] = {
    "platform": "signupto",
    "account": {"name": "Bakery Ltd", "owner": {"email": "ops@bakery.example", "timezone": "Europe/London"},
                "country": "GB"},
    "features": {"enablesms": True, "enablesubscriptionmo": True, "list_limit": 300, "subscriber_limit": 5000},
}
CUSTOMER = BAKERY


def customer(account: dict | None = None, features: dict | None = None, drop_features: bool = False) -> dict[str, Any]:
    declared = copy.deepcopy(BAKERY)
    declared["account"].update(account or {})
    if features is not None:
        declared["features"] = features
    if drop_features:
        declared.pop("features")
    return declared


def declare(project, account=None, features=None, drop_features=False) -> dict[str, Any]:
    declared = customer(account, features, drop_features)
    project.set_customer(declared)
    return declared


CHANGED = customer(features={**BAKERY["features"], "list_limit": 400})  # an update in place

SECRETS: dict[str, str] = {}  # nothing of the sample customer is secret
RECREATED_KEEPS_ID = False


def sample(partner: dict[str, Any], changed: bool = False) -> dict[str, Any]:
    """CUSTOMER (or CHANGED): the same for every partner."""
    return copy.deepcopy(CHANGED if changed else CUSTOMER)



BAD_INPUT = [BadInput(id_, customer(features=features), expected) for id_, features, expected in [
    ("feature-name", {"enablesmss": True}, ("features.enablesmss", "supported: enableanalyse")),
    ("limit-below-one", {"list_limit": 0}, ("features.list_limit", "greater than or equal to 1")),
    ("feature-boolean", {"enablesms": "yes"}, ("features.enablesms", "valid boolean")),
    ("mo-needs-sms", {"enablesms": False, "enablesubscriptionmo": True}, ("enablesubscriptionmo requires enablesms",)),
    ("split-needs-bulk", {"enablesendbulkemail": False, "enablesplittest": True},
     ("enablesplittest requires enablesendbulkemail",)),
    ("mail-domain-type", {"custommaildomaintype": "subdomain"}, ("features.custommaildomaintype", "fixed_email", "domain")),
]] + [
    BadInput("sending-domain", {"platform": "signupto", "account": {"name": "x", "owner": {"email": "a@b.example"}},
                                "sending_domains": [{"domain": "news.x.example"}]},
             ("Sign-Up.to's API offers no sending domains",)),
]


def partner(control: ControlApi, tag: str = "partner") -> dict[str, Any]:
    """A fresh partner (id, 40-character key, its own credit-holding account: `partner_account_id`)."""
    return {**control.post("/signupto/partners", {}), "api_url": control.url + "/signupto"}


def client(partner: dict[str, Any]) -> SignupToClient:
    return SignupToClient.as_partner(partner["api_url"], partner["partner_id"], partner["partner_key"],
                                     retry=RetryPolicy(max_attempts=2, base_delay=0.05))


def account_ids(api: SignupToClient) -> list[str]:
    return [str(a.id) for a in api.list_accounts()]


def remove_account(api: SignupToClient, control: ControlApi, account_id: str) -> None:
    """The API cannot delete accounts; the emulator's control API stands in for Sign-Up.to support."""
    requests.delete(f"{control.url}/_control/signupto/accounts/{account_id}", timeout=10).raise_for_status()


def assert_declared(api: SignupToClient, account_id: str) -> None:
    account = api.get_account(account_id)
    assert account is not None
    assert (account.name, account.contactemail, account.country) == ("Bakery Ltd", "ops@bakery.example", "GB")
    remote = api.get_features(account_id)
    assert {k: remote[k] for k in BAKERY["features"]} == BAKERY["features"]


def leaked(partner: dict[str, Any], emulator, *texts: str) -> list[str]:
    """The partner key, or the scheme of its signed header, wherever in `texts`."""
    return [c for c in (partner["partner_key"], "SuTPartner") if any(c in text for text in texts)]


def _rehearse(declared: dict[str, Any]) -> None:
    """Limits raised (one capped on the copy, one not) and a feature switched on (the API cannot update or
    suspend an account: its features are what a Sign-Up.to plan change is)."""
    declared["features"].update(subscriber_limit=8000, list_limit=400, enableanalyse=True)


def _assert_promoted(api: SignupToClient, account_id: str) -> None:
    remote = api.get_features(account_id)
    assert {k: remote[k] for k in ("subscriber_limit", "list_limit", "enableanalyse", "enablesms")} == {
        "subscriber_limit": 8000, "list_limit": 400, "enableanalyse": True, "enablesms": True}
    assert api.get_account(account_id).contactemail == "ops@bakery.example"  # the copy's +staging never came back


REHEARSAL = Rehearsal(
    production=lambda partner: copy.deepcopy(BAKERY), rehearse=_rehearse,
    promoted={"features.subscriber_limit": (5000, 8000), "features.list_limit": (300, 400),
              "features.enableanalyse": (None, True)},
    plan={"update": {"AccountFeatures"}}, assert_promoted=_assert_promoted)
