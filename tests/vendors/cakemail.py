"""Cakemail's test partner (a partner login on the emulator) and its sample customer, Acme Corp."""

from __future__ import annotations

import copy
import hashlib
import re
import sqlite3
from typing import Any

from providers.cakemail import CakemailClient
from providers.http import RetryPolicy

from . import BadInput, ControlApi, Rehearsal, serial

PLATFORM = "cakemail"

ACME: dict[str, Any] = {
    "platform": "cakemail",
    "account": {
        "name": "Acme Corp",
        "owner": {"email": "ops@acme.example", "first_name": "Ada", "last_name": "Lovelace",
                  "language": "en_US", "timezone": "America/Montreal"},
        "trial": False,
        "partner": False,
        "suspended": False,
    },
}
CUSTOMER = ACME


def customer(**account_changes: Any) -> dict[str, Any]:
    declared = copy.deepcopy(ACME)
    declared["account"].update(account_changes)
    return declared


def with_features(features: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(ACME), "features": features}


CHANGED = customer(name="Acme Two")  # an update in place: its preview shows a diff

SECRETS: dict[str, str] = {}  # nothing of the sample customer is secret
RECREATED_KEEPS_ID = False


def sample(partner: dict[str, Any], changed: bool = False) -> dict[str, Any]:
    """CUSTOMER (or CHANGED): the same for every partner."""
    return copy.deepcopy(CHANGED if changed else CUSTOMER)



BAD_INPUT = [
    BadInput("name-empty", customer(name=""), ("name", "empty")),
    BadInput("owner-email", customer(owner={**ACME["account"]["owner"], "email": "not-an-email"}),
             ("owner.email", "not a valid email")),
    BadInput("owner-timezone", customer(owner={**ACME["account"]["owner"], "timezone": "Mars/Olympus"}),
             ("owner.timezone", "time zone")),
    BadInput("unknown-setting", customer(colour="blue"), ("colour", "unknown setting")),
    BadInput("unknown-platform", {**customer(), "platform": "mailchimp"}, ("platform", "cakemail")),
    BadInput("feature-name", with_features({"per_mnth": 1}), ("features.per_mnth", "supported: per_campaign, per_month"),
             absent=(".0)",)),
    # every mistake at once; whole numbers as written, though the engine carries them as floats
    BadInput("feature-values", with_features({"per_month": -5, "lists": -3}),
             ("features.per_month", "greater than or equal to 0 (got -5).", "features.lists",
              "greater than or equal to -1 (got -3)."), absent=(".0)",)),
    BadInput("feature-boolean", with_features({"use_ab_split": "yes"}), ("features.use_ab_split", "valid boolean"),
             absent=(".0)",)),
    BadInput("feature-of-the-account", with_features({"trial": True}), ("trial is a SubAccount setting",),
             absent=(".0)",)),
    # mistakes in several resources: every one of them at once (the engine alone stops at the first resource)
    BadInput("several-resources", {**with_features({"per_month": -5}), "account": {**ACME["account"], "name": ""},
                                   "sending_domains": [{"domain": "bad domain"}]},
             ("3 problems, in several resources", "SubAccount test-account: name", "AccountFeatures test-features: "
              "features.per_month", "'bad domain' is not a valid hostname")),
]


def partner(control: ControlApi, tag: str = "partner") -> dict[str, Any]:
    """Fresh partner credentials, so tests never see each other's accounts."""
    name = serial(tag)
    login = {"username": f"{name}@e2e.example", "password": f"pw-{name}-Secr3t!"}
    control.post("/cakemail/partners", login)
    return {"api_url": control.url + "/cakemail", **login}


def client(partner: dict[str, Any]) -> CakemailClient:
    return CakemailClient(partner["api_url"], partner["username"], partner["password"],
                          retry=RetryPolicy(max_attempts=2, base_delay=0.05))


def account_ids(api: CakemailClient) -> list[str]:
    return [a.id for a in api.iter_accounts()]


def remove_account(api: CakemailClient, control: ControlApi, account_id: str) -> None:
    api.delete_account(account_id)


def assert_declared(api: CakemailClient, account_id: str) -> None:
    account = api.get_account(account_id)
    assert account is not None and account.name == ACME["account"]["name"]


def declare(project, **account_changes: Any) -> dict[str, Any]:
    declared = customer(**account_changes)
    project.set_customer(declared)
    return declared


def leaked_tokens(emulator, *texts: str) -> list[str]:
    """Token-shaped strings in `texts` that the emulator really issued (it stores only their sha256)."""
    with sqlite3.connect(emulator.db_path) as db:
        issued = {row[0] for row in db.execute("SELECT token_hash FROM cakemail_tokens")}
    assert issued, "the emulator issued no token: the test would prove nothing"
    candidates = {m for text in texts for m in re.findall(r"[A-Za-z0-9_\-]{32,}", text)}
    return [c for c in candidates if hashlib.sha256(c.encode()).hexdigest() in issued]


def leaked(partner: dict[str, Any], emulator, *texts: str) -> list[str]:
    """The partner's password, a bearer header, or a token the emulator issued, wherever in `texts`."""
    found = [c for c in (partner["password"], "Bearer") if any(c in text for text in texts)]
    return found + leaked_tokens(emulator, *texts)


def _rehearsal_customer(partner: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(ACME), "features": {"per_month": 50000, "maximum_contacts": 10000, "use_ab_split": False},
            "sending_domains": [{"domain": "news.acme.example"}]}


def _rehearse(declared: dict[str, Any]) -> None:
    """A plan change (a capped limit raised, a switch), a new sending domain and a suspension."""
    declared["features"].update(per_month=80000, use_ab_split=True)
    declared["sending_domains"].append({"domain": "staging.news2.acme.example"})
    declared["account"].update(suspended=True, allow_replace=True)  # the acknowledgement is staging's own


def _assert_promoted(api: CakemailClient, account_id: str) -> None:
    account = api.get_account(account_id)
    assert account.suspended
    assert {k: account.usage_limits[k] for k in ("per_month", "maximum_contacts", "use_ab_split")} == {
        "per_month": 80000, "maximum_contacts": 10000, "use_ab_split": True}  # the cap never reached production
    assert sorted(k.domain for k in api.list_dkim_keys(account_id)) == ["news.acme.example", "news2.acme.example"]


REHEARSAL = Rehearsal(
    production=_rehearsal_customer, rehearse=_rehearse,
    promoted={"features.per_month": (50000, 80000), "features.use_ab_split": (False, True),
              "sending_domains[news2.acme.example]": (None, {"domain": "news2.acme.example"}),
              "account.suspended": (False, True)},
    plan={"update": {"SubAccount", "AccountFeatures"}, "create": {"SendingDomain"}},
    assert_promoted=_assert_promoted)
