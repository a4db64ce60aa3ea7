"""Provider check/diff logic and shared validators, called directly (no engine, no network)."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from providers.resources.account_features import AccountFeaturesProvider
from providers.resources.common import without_nones
from providers.handlers.domain_verification import VerificationTimeout, wait_until_verified
from providers.resources.sending_domain import SendingDomainProvider
from providers.resources.sub_account import SubAccountProvider
from providers.validators import country_code, email_address, hostname

OWNER = {"email": "a@B.example", "first_name": "Ada", "last_name": "B"}


def failures(result) -> dict[str, str]:
    """{field: reason}; a nested field's failure names it in its reason (`owner.email: ...`), not as the property
    (which the engine would print as `value {<nil>}`)."""
    found = {}
    for f in result.failures:
        field, _, reason = (f.property, "", f.reason) if f.property else f.reason.partition(": ")
        found[field] = reason or f.reason
    return found


@pytest.mark.parametrize("value, expected", [
    ("Mail.Example.COM", "mail.example.com"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("a-b.c1.example", "a-b.c1.example"),
])
def test_hostname_accepts_and_lowercases(value, expected):
    assert hostname(value) == expected


@pytest.mark.parametrize("value, reason", [
    ("example.com.", "ends with a dot"),
    ("bücher.example", "xn--"),
    ("localhost", "not a valid hostname"),
    ("-a.example", "not a valid hostname"),
    ("a..example", "not a valid hostname"),
    ("1.2.3.4", "not a valid hostname"),
    ("a" * 64 + ".example", "not a valid hostname"),
    ("has space.example", "not a valid hostname"),
])
def test_hostname_refuses_with_reason(value, reason):
    with pytest.raises(ValueError, match=reason):
        hostname(value)


def test_email_and_country():
    assert email_address(" Ops@Acme.EXAMPLE ") == "Ops@acme.example"
    with pytest.raises(ValueError, match="not a valid email"):
        email_address("ops@")
    assert country_code("gb") == "GB"
    with pytest.raises(ValueError, match="ISO 3166"):
        country_code("GBR")


def test_sub_account_check_normalises_and_fills_defaults():
    result = SubAccountProvider().check({}, {"platform": "cakemail", "name": " Acme ", "owner": OWNER})
    assert result.failures == []
    assert result.inputs["name"] == "Acme" and result.inputs["owner"]["email"] == "a@b.example"
    assert (result.inputs["trial"], result.inputs["partner"], result.inputs["suspended"]) == (False, False, False)


def test_sub_account_check_names_every_bad_field():
    result = SubAccountProvider().check({}, {"platform": "cakemail", "name": "", "owner": {**OWNER, "email": "x"},
                                             "colour": "blue"})
    reasons = failures(result)
    assert reasons["name"] == "must not be empty or blank (got '')."  # one full stop, every message
    assert "not a valid email" in reasons["owner.email"]
    assert reasons["colour"].startswith("unknown setting for cakemail SubAccount; supported: platform, name, owner")


def test_unknown_platform_lists_the_supported_ones():
    assert failures(SubAccountProvider().check({}, {"platform": "mailchimp", "name": "x"})) == {
        "platform": "unknown platform 'mailchimp'; supported: cakemail, signupto, ciirus, sendgrid."}


def test_signupto_refuses_changes_to_an_existing_account_but_not_on_destroy():
    base = {"platform": "signupto", "name": "Shop", "owner": {"email": "s@shop.example"}}
    # What the engine stores: the checked inputs without their null values, at every depth.
    olds = without_nones(SubAccountProvider().check({}, base).inputs)
    assert SubAccountProvider().check(olds, base).failures == []
    changed = SubAccountProvider().check(olds, {**base, "name": "Shop Two"})
    assert "cannot update an account, so name cannot change" in failures(changed)["name"]
    assert SubAccountProvider().check(olds, {**base, "on_destroy": "keep"}).failures == []


def test_unknown_account_id_in_preview_is_not_an_error():
    result = AccountFeaturesProvider().check({}, {"platform": "signupto", "account_id": Unknown(),
                                                  "features": {"enablesms": True}})
    assert result.failures == []
    bad = AccountFeaturesProvider().check({}, {"platform": "signupto", "account_id": Unknown(),
                                               "features": {"enablesms": 1}})
    assert "features.enablesms" in failures(bad)


def test_defaults_are_kept_while_an_input_is_unknown():
    """Otherwise a preview during the account's update shows `- adopt_existing: false` on its domain."""
    result = SendingDomainProvider().check({}, {"platform": "cakemail", "account_id": Unknown(),
                                                "domain": "news.acme.example"})
    assert result.failures == [] and result.inputs["adopt_existing"] is False
    assert "selector" not in result.inputs  # a default of None is what the engine drops anyway


def test_features_check_keeps_only_declared_names():
    result = AccountFeaturesProvider().check({}, {"platform": "signupto", "account_id": "7",
                                                  "features": {"list_limit": 300.0, "subscriber_limit": "unlimited"}})
    assert result.failures == []
    assert result.inputs["features"] == {"list_limit": 300, "subscriber_limit": "unlimited"}
    bad = AccountFeaturesProvider().check({}, {"platform": "signupto", "account_id": "7",
                                               "features": {"subscriber_limit": "lots"}})
    assert "features.subscriber_limit" in failures(bad)


def test_sending_domain_not_offered_on_signupto():
    reasons = failures(SendingDomainProvider().check({}, {"platform": "signupto", "account_id": "1", "domain": "a.example"}))
    assert reasons["platform"].startswith("SendingDomain is not offered on signupto") and "cakemail, ciirus" in reasons["platform"]


def test_diff_replaces_only_what_the_api_cannot_change():
    provider = SendingDomainProvider()
    olds = {"platform": "ciirus", "account_id": "s-1", "domain": "a.example", "verification_timeout_seconds": 0}
    in_place = provider.diff("id", olds, {**olds, "domain": "b.example"})
    assert in_place.changes and in_place.replaces == []
    cakemail = {**olds, "platform": "cakemail", "selector": None, "adopt_existing": False}
    assert provider.diff("id", cakemail, {**cakemail, "domain": "b.example"}).replaces == ["domain"]
    assert not provider.diff("id", olds, dict(olds)).changes


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _state(*validated):
    return {"domain": "a.example", "records": [
        {"name": f"r{i}.a.example", "type": "TXT", "value": f"v{i}", "purpose": "dkim", "validated": v}
        for i, v in enumerate(validated)]}


def test_wait_returns_as_soon_as_every_record_validates():
    clock = FakeClock()
    answers = iter([_state(False, False)["records"], _state(True, False)["records"], _state(True, True)["records"]])
    final = wait_until_verified(lambda: next(answers), "a.example", 60, clock=clock, sleep=clock.sleep)
    assert all(r["validated"] for r in final) and clock.now < 60


def test_wait_fails_at_deadline_naming_missing_records():
    clock = FakeClock()
    with pytest.raises(VerificationTimeout) as err:
        wait_until_verified(lambda: _state(True, False)["records"], "a.example", 30, clock=clock, sleep=clock.sleep)
    assert clock.now == pytest.approx(30)
    assert 'TXT r1.a.example "v1" (dkim)' in str(err.value) and "r0.a.example" not in str(err.value)
