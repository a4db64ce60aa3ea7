"""Creates cut short: a vendor that answers after the read timeout, and a lost answer followed by
failing look-ups. Each ends with exactly one account, in the same run or at the next create (the
resource's recognition), never two. Driven through the SubAccount handlers over real HTTP."""

from __future__ import annotations

import time

import pytest

from providers.handlers.cakemail.sub_account import CakemailSubAccount
from providers.handlers.ciirus.sub_account import CiirusSubAccount
from providers.handlers.signupto.sub_account import SignupToSubAccount
from providers.http import OutcomeUnknownError, RetryPolicy
from providers.platforms import describe
from providers.platforms.settings import InvalidSetting, read_settings
from providers.resources.markers import creation_marker

TIMEOUT = "0.4"  # seconds: the emulator's latency below (1 s) outlasts it, so the answer comes too late
MARKER = creation_marker("email-partners", "storm", "partners:SubAccount", "acme-account")


def cakemail_settings(config):
    return read_settings(describe("cakemail"), config)


def cakemail(partner) -> tuple[CakemailSubAccount, object]:
    config = {"cakemail:apiUrl": partner["api_url"], "cakemail:username": partner["username"],
              "cakemail:password": partner["password"], "cakemail:timeoutSeconds": TIMEOUT}
    handler = CakemailSubAccount(config)
    inputs = handler.Args.model_validate({"platform": "cakemail", "name": "Storm Bakery",
                                            "owner": {"email": "o@storm.example", "first_name": "O", "last_name": "S"}})
    return handler, inputs


def signupto(partner) -> tuple[SignupToSubAccount, object]:
    config = {"signupto:apiUrl": partner["api_url"], "signupto:partnerId": str(partner["partner_id"]),
              "signupto:partnerKey": partner["partner_key"], "signupto:timeoutSeconds": TIMEOUT}
    handler = SignupToSubAccount(config)
    inputs = handler.Args.model_validate({"platform": "signupto", "name": "Storm Bakery",
                                            "owner": {"email": "o@storm.example"}, "country": "GB"})
    return handler, inputs


def ciirus(user) -> tuple[CiirusSubAccount, object]:
    config = {"ciirus:apiUrl": user["api_url"], "ciirus:apiVersion": user["api_version"],
              "ciirus:username": user["username"], "ciirus:password": user["password"],
              "ciirus:timeoutSeconds": TIMEOUT}
    handler = CiirusSubAccount(config)
    inputs = handler.Args.model_validate({"platform": "ciirus", "initial": {
        "sending_domain": "storm.example", "daily_send_limit": 100, "approved": False}})
    return handler, inputs


# builder, credentials fixture, the create's path, the look-ups' path, look-ups made before the POST
PLATFORMS = {
    "cakemail": (cakemail, "cakemail_partner", r"^/cakemail/accounts$", r"^/cakemail/accounts", 2),
    "signupto": (signupto, "signupto_partner", r"^/signupto/v1/account$", r"^/signupto/v1/account$", 2),
    "ciirus": (ciirus, "ciirus_user", r"^/ciirus/.*/emails/subaccount$", r"^/ciirus/.*/emails/subaccount$", 1),
}


def remote_accounts(platform: str, handler) -> list[str]:
    """The accounts the vendor API lists (Ciirus: the API user's one sub-account)."""
    if platform == "cakemail":
        return [a.id for a in handler.client.accounts_named("Storm Bakery")]
    if platform == "signupto":
        return [str(a.id) for a in handler.client.list_accounts() if a.name == "Storm Bakery"]
    current = handler.client.get()
    return [] if current is None else [current.subaccount_id]


def posts(control, since: int, post_path: str) -> int:
    import re
    return sum(1 for r in control.requests(since_id=since)
               if r["method"] == "POST" and re.search(post_path, r["path"]))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_answer_after_the_read_timeout_is_found_not_duplicated(platform, request, control):
    build, fixture, post_path, _, _ = PLATFORMS[platform]
    handler, inputs = build(request.getfixturevalue(fixture))
    before = control.last_request_id()
    control.fault(post_path, method="POST", latency_ms=1000, count=1)
    account_id, _ = handler.create(inputs, MARKER)  # the client keeps looking until the late create shows
    assert remote_accounts(platform, handler) == [account_id]
    assert posts(control, before, post_path) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_lost_answer_then_failing_look_ups_is_recognised_by_the_next_create(platform, request, control):
    build, fixture, post_path, list_path, looks_before = PLATFORMS[platform]
    handler, inputs = build(request.getfixturevalue(fixture))
    handler.client.http.retry = type(handler.client.http.retry)(read_timeout=0.4, base_delay=0.01, max_delay=0.05,
                                                                settle_window=0.3)
    before = control.last_request_id()
    control.fault(post_path, method="POST", drop=True, after_processing=True, count=1)
    control.fault(list_path, method="GET", latency_ms=0, count=looks_before)  # let the pre-create look-ups through
    control.fault(list_path, method="GET", status=503, count=10_000)
    with pytest.raises(OutcomeUnknownError) as err:
        handler.create(inputs, MARKER)
    message = str(err.value)
    assert "outcome is unknown" in message and "Run `pulumi up` again" in message and "503" in message
    control.clear_faults()
    assert len(remote_accounts(platform, handler)) == 1  # it landed; nothing was re-sent

    account_id, _ = handler.create(inputs, MARKER)  # the next `up`: recognised, not created again
    assert remote_accounts(platform, handler) == [account_id]
    assert posts(control, before, post_path) == 1


def test_a_cakemail_account_marked_by_another_resource_is_never_taken(cakemail_partner):
    handler, inputs = cakemail(cakemail_partner)
    other_id, _ = handler.create(inputs, creation_marker("email-partners", "other-customer", "partners:SubAccount",
                                                         "acme-account"))
    own_id, _ = handler.create(inputs, MARKER)
    assert own_id != other_id
    assert handler.create(inputs, MARKER)[0] == own_id  # and its own is recognised again


def test_timeout_setting_is_validated(monkeypatch):
    base = {"cakemail:username": "u", "cakemail:password": "p"}
    assert cakemail_settings(base).timeout_seconds == RetryPolicy().read_timeout
    assert cakemail_settings({**base, "cakemail:timeoutSeconds": "2.5"}).timeout_seconds == 2.5
    monkeypatch.setenv("CAKEMAIL_TIMEOUT_SECONDS", "7")
    assert cakemail_settings(base).timeout_seconds == 7
    for bad in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(InvalidSetting, match=r"cakemail:timeoutSeconds \(or CAKEMAIL_TIMEOUT_SECONDS\)"):
            cakemail_settings({**base, "cakemail:timeoutSeconds": bad})


def test_an_answer_later_than_the_look_up_window_fails_as_unknown_then_is_recognised(cakemail_partner, control):
    handler, inputs = cakemail(cakemail_partner)
    handler.client.http.retry = type(handler.client.http.retry)(read_timeout=0.3, base_delay=0.01, settle_window=0.3)
    before = control.last_request_id()
    control.fault(r"^/cakemail/accounts$", method="POST", latency_ms=1500, count=1)
    with pytest.raises(OutcomeUnknownError) as err:
        handler.create(inputs, MARKER)
    assert "after 0.3s (`cakemail:timeoutSeconds` sets it)" in str(err.value)
    assert "not found within 0.3s" in str(err.value)
    time.sleep(1.5)  # the vendor finishes the create after the client gave up
    account_id, _ = handler.create(inputs, MARKER)  # the next `up`: the unmarked account of this run is taken
    assert [a.id for a in handler.client.accounts_named("Storm Bakery")] == [account_id]
    assert handler.client.marker_of(handler.client.get_account(account_id)) is not None
    assert posts(control, before, r"^/cakemail/accounts$") == 1


def test_a_cakemail_replacement_makes_a_new_account_and_deletes_only_the_old_one(cakemail_partner):
    """An owner change replaces: the create must not take the old account (same resource, same name)."""
    handler, inputs = cakemail(cakemail_partner)
    old_id, old_outputs = handler.create(inputs, MARKER)
    new_inputs = inputs.model_copy(update={"owner": inputs.owner.model_copy(update={"email": "new@storm.example"})})
    new_id, _ = handler.create(new_inputs, MARKER)
    assert new_id != old_id
    handler.delete(old_id, handler.Recorded.model_validate(old_outputs.recorded()))
    assert [a.id for a in handler.client.accounts_named("Storm Bakery")] == [new_id]


def test_a_cakemail_account_taken_over_by_another_resource_is_not_deleted_by_the_old_one(cakemail_partner):
    handler, inputs = cakemail(cakemail_partner)
    account_id, outputs = handler.create(inputs, MARKER)
    taken_over = {**outputs.recorded(), "creation_marker": "ep1-someone-else"}
    handler.delete(account_id, handler.Recorded.model_validate(taken_over))
    assert [a.id for a in handler.client.accounts_named("Storm Bakery")] == [account_id]
    handler.delete(account_id, handler.Recorded.model_validate(outputs.recorded()))
    assert handler.client.accounts_named("Storm Bakery") == []


def test_signupto_refuses_when_two_accounts_match_and_names_both(signupto_partner, signupto_api):
    from providers.signupto.models import CreateAccount

    handler, inputs = signupto(signupto_partner)
    twins = [signupto_api.create_account(CreateAccount(name="Storm Bakery", contactemail="o@storm.example",
                                                       country="GB")) for _ in range(2)]
    with pytest.raises(RuntimeError, match="2 accounts that match every declared field") as err:
        handler.create(inputs, MARKER)
    assert all(f"{a.id} ('Storm Bakery', created " in str(err.value) for a in twins)
    assert len(remote_accounts("signupto", handler)) == 2  # nothing created


def test_ciirus_refuses_a_sub_account_that_does_not_match_and_names_the_line_to_adopt(ciirus_user, ciirus_api):
    from providers.ciirus.models import SubAccountFields

    existing = ciirus_api.create(SubAccountFields(sending_domain="other.example", daily_send_limit=5, approved=True))
    handler, inputs = ciirus(ciirus_user)
    with pytest.raises(RuntimeError) as err:
        handler.create(inputs, MARKER)
    message = str(err.value)
    assert existing.subaccount_id in message and f"created {existing.created_at}" in message
    assert "add `adopt_existing: true` to the account" in message
    assert ciirus_api.get().sending_domain == "other.example"  # not changed
