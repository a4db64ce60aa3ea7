"""SendGrid's test partner (a parent account and its API key on the emulator) and its sample customer,
Acme's subuser. Usernames are unique across SendGrid (and the emulator), so the sample is made per
partner (`sample`), and its password is stored encrypted (`SECRETS`), as the program requires."""

from __future__ import annotations

import copy
from typing import Any

from providers.http import RetryPolicy
from providers.sendgrid import SendGridClient

from . import BadInput, ControlApi, Rehearsal, serial

PLATFORM = "sendgrid"
PASSWORD = "Subuser-Passw0rd-vendors-never-shown"
SECRETS = {"account.password": PASSWORD}
RECREATED_KEEPS_ID = True  # the id is the username: a subuser made again has the same one
IPS = ["198.51.100.21"]

ACME_SUBUSER: dict[str, Any] = {
    "platform": "sendgrid",
    "account": {"username": "acme-subuser", "email": "ops@acme.example", "ips": IPS},
    "features": {"type": "recurring", "limit": 10000, "reset_frequency": "monthly"},
}
CUSTOMER = ACME_SUBUSER


def customer(account: dict | None = None, features: dict | None = None) -> dict[str, Any]:
    declared = copy.deepcopy(ACME_SUBUSER)
    declared["account"].update(account or {})
    if features is not None:
        declared["features"] = features
    return declared


CHANGED = customer(features={"type": "recurring", "limit": 20000, "reset_frequency": "monthly"})  # in place


def sample(partner: dict[str, Any], changed: bool = False) -> dict[str, Any]:
    """CUSTOMER (or CHANGED) with a username of this partner's own."""
    declared = copy.deepcopy(CHANGED if changed else CUSTOMER)
    declared["account"]["username"] = f"{partner['parent_username']}-acme"
    return declared


def adopting(features: dict[str, Any]) -> dict[str, Any]:
    """The subuser taken over (no password needed, so the program lets the features be checked)."""
    declared = customer({"adopt_account_id": "acme-subuser"}, features=features)
    del declared["account"]["ips"]
    return declared


BAD_INPUT = [BadInput(id_, declared, expected) for id_, declared, expected in [
    ("username", customer({"username": "has space"}), ("'has space' is not a SendGrid username",)),
    ("ips", customer({"ips": ["not-an-ip"]}), ("'not-an-ip' is not an IPv4 address",)),
    ("email", customer({"email": "not-an-email"}), ("email", "not a valid email")),
    ("credits-type", adopting({"type": "sometimes"}), ("features.type", "sometimes")),
    ("credits-need-a-limit", adopting({"type": "nonrecurring"}), ("limit: required with type nonrecurring",)),
    ("password-in-clear", customer({"password": "In-clear-Passw0rd"}),
     ("customer.account.password: is a secret", "pulumi config set --path --secret")),
]]


def partner(control: ControlApi, tag: str = "parent") -> dict[str, Any]:
    """A fresh parent account with IPs of its own and a new API key."""
    parent = control.post("/sendgrid/parents", {"username": serial(tag), "ips": IPS})
    return {"api_url": control.url + "/sendgrid", "parent_username": parent["username"], "api_key": parent["api_key"]}


def client(partner: dict[str, Any]) -> SendGridClient:
    return SendGridClient(partner["api_url"], partner["api_key"], retry=RetryPolicy(max_attempts=2, base_delay=0.05))


def account_ids(api: SendGridClient) -> list[str]:
    return [s.username for s in api.list_subusers()]


def remove_account(api: SendGridClient, control: ControlApi, account_id: str) -> None:
    api.delete_subuser(account_id)


def assert_declared(api: SendGridClient, account_id: str) -> None:
    subuser = api.find_subuser(account_id)
    assert subuser is not None and (subuser.email, subuser.disabled) == ("ops@acme.example", False)
    credits = api.get_credits(account_id)
    assert credits is not None and (credits.type, credits.total, credits.reset_frequency) == (
        "recurring", 10000, "monthly")


def leaked(partner: dict[str, Any], emulator, *texts: str) -> list[str]:
    """The parent's API key, or the subuser's password, wherever in `texts`."""
    return [c for c in (partner["api_key"], PASSWORD) if any(c in text for text in texts)]


def _rehearsal_customer(partner: dict[str, Any]) -> dict[str, Any]:
    return {**sample(partner), "sending_domains": [{"domain": "news.acme.example"}]}


def _rehearse(declared: dict[str, Any]) -> None:
    """More credits (capped on the copy), a new authenticated domain and a suspension."""
    declared["features"]["limit"] = 20000
    declared["sending_domains"].append({"domain": "staging.news2.acme.example"})
    declared["account"]["suspended"] = True


def _assert_promoted(api: SendGridClient, account_id: str) -> None:
    subuser = api.find_subuser(account_id)
    assert subuser is not None and subuser.disabled and subuser.email == "ops@acme.example"
    credits = api.get_credits(account_id)
    assert (credits.type, credits.total, credits.reset_frequency) == ("recurring", 20000, "monthly")
    assert sorted(d.domain for d in api.iter_domains(on_behalf_of=account_id)) == [
        "news.acme.example", "news2.acme.example"]


REHEARSAL = Rehearsal(
    production=_rehearsal_customer, rehearse=_rehearse,
    promoted={"features.limit": (10000, 20000), "account.suspended": (None, True),
              "sending_domains[news2.acme.example]": (None, {"domain": "news2.acme.example"})},
    plan={"update": {"SubAccount", "AccountFeatures"}, "create": {"SendingDomain"}},
    assert_promoted=_assert_promoted)
