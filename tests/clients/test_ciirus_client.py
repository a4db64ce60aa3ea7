"""The Ciirus client over real HTTP: Basic auth, the 200-that-is-an-error quirk, safe partial updates."""

from __future__ import annotations

import threading

import pytest

from providers.ciirus import CiirusClient, SubAccountExists
from providers.ciirus.models import SubAccountFields
from providers.http import ApiError

FIELDS = SubAccountFields(sending_domain="mail.x.example", daily_send_limit=100, approved=True)


def test_lifecycle(ciirus_api):
    assert ciirus_api.get() is None
    created = ciirus_api.create(FIELDS)
    assert created.subaccount_id.startswith("subaccount-") and created.dns_value.startswith("mandrill_verify.")
    assert ciirus_api.get().fields() == FIELDS
    assert ciirus_api.delete() is True
    assert ciirus_api.get() is None and ciirus_api.delete() is False


def test_existing_sub_account_quirk_is_not_mistaken_for_success(ciirus_api, ciirus_user, control):
    ciirus_api.create(FIELDS)
    # Bypass the client's own pre-check to see the vendor's answer: 200 with error_message.
    body = ciirus_api.http.request("POST", ciirus_api.path, json={**FIELDS.model_dump(), "sending_domain": "other.example"},
                                   idempotent=True)
    assert body["error_message"] == "you already have an existing sub account." and body["sending_domain"] == "mail.x.example"
    with pytest.raises(SubAccountExists) as err:
        ciirus_api.create(SubAccountFields(sending_domain="other.example", daily_send_limit=1, approved=False))
    assert err.value.existing.sending_domain == "mail.x.example"
    assert ciirus_api.get().sending_domain == "mail.x.example"


def test_partial_update_keeps_the_other_fields(ciirus_api, control):
    account_id = ciirus_api.create(FIELDS).subaccount_id
    before = control.last_request_id()
    ciirus_api.update(account_id, daily_send_limit=250)
    [put] = [r for r in control.requests(since_id=before) if r["method"] == "PUT"]
    assert put["body"] == {"sending_domain": "mail.x.example", "daily_send_limit": 250, "approved": True}
    before = control.last_request_id()
    ciirus_api.update(account_id, daily_send_limit=250)  # nothing to change: no PUT at all
    assert [r["method"] for r in control.requests(since_id=before)] == ["GET"]


def test_concurrent_updates_of_different_fields_do_not_lose_each_other(ciirus_user, ciirus_api):
    account_id = ciirus_api.create(FIELDS).subaccount_id
    a = CiirusClient(ciirus_user["api_url"], ciirus_user["username"], ciirus_user["password"], ciirus_user["api_version"])
    b = CiirusClient(ciirus_user["api_url"], ciirus_user["username"], ciirus_user["password"], ciirus_user["api_version"])
    threads = [threading.Thread(target=lambda: a.update(account_id, sending_domain="new.x.example")),
               threading.Thread(target=lambda: b.update(account_id, daily_send_limit=7, approved=False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ciirus_api.get().fields() == SubAccountFields(sending_domain="new.x.example", daily_send_limit=7, approved=False)


@pytest.mark.parametrize("version, field", [("v2023.07.31", "mc_user_id"), ("v2024.07.31", "management_company_user_id")])
def test_both_api_versions(ciirus_user, version, field):
    client = CiirusClient(ciirus_user["api_url"], ciirus_user["username"], ciirus_user["password"], version)
    account = client.create(FIELDS) if client.get() is None else client.get()
    assert getattr(account, field) == account.user_id == account.management_user_id


def test_unknown_version_is_refused_before_any_call(ciirus_user):
    with pytest.raises(ValueError, match="supported: v2023.07.31, v2024.07.31"):
        CiirusClient(ciirus_user["api_url"], "u", "p", "v2025.01.01")


def test_bad_credentials_and_bad_values_are_clear_errors(ciirus_user, ciirus_api):
    bad = CiirusClient(ciirus_user["api_url"], ciirus_user["username"], "wrong", ciirus_user["api_version"])
    with pytest.raises(ApiError) as err:
        bad.get()
    assert err.value.status == 401 and str(err.value) == \
        f"ciirus GET /{ciirus_user['api_version']}/emails/subaccount failed (HTTP 401): invalid credentials; " \
        f"check ciirus:username and ciirus:password (or CIIRUS_USERNAME and CIIRUS_PASSWORD)"
    with pytest.raises(ApiError, match="sending_domain"):
        ciirus_api.http.request("POST", ciirus_api.path, json={"sending_domain": "not a domain", "daily_send_limit": 1,
                                                                "approved": True})


def test_create_survives_a_lost_answer_without_duplicating(ciirus_api, control):
    ciirus_api.http._sleep = lambda s: None
    control.fault(r"^/ciirus/.*/emails/subaccount$", method="POST", drop=True, after_processing=True)
    account = ciirus_api.create(FIELDS)
    assert ciirus_api.get().subaccount_id == account.subaccount_id


def test_update_refuses_a_sub_account_other_than_the_expected_one(ciirus_api):
    ciirus_api.create(FIELDS)
    with pytest.raises(ApiError, match="sub-account subaccount-0-partner-api does not exist"):
        ciirus_api.update("subaccount-0-partner-api", daily_send_limit=1)
    assert ciirus_api.get().daily_send_limit == 100


def test_a_404_that_is_not_the_vendors_none_is_an_error_not_a_deletion(ciirus_user):
    wrong = CiirusClient(ciirus_user["api_url"] + "/typo", ciirus_user["username"], ciirus_user["password"])
    with pytest.raises(ApiError) as err:
        wrong.get()
    assert err.value.status == 404


def test_an_error_inside_a_200_keeps_the_vendors_words(ciirus_api):
    with pytest.raises(ApiError, match="sending limit exceeded"):
        ciirus_api._sub_account("GET", {"error_message": "sending limit exceeded"})


def test_refresh_reads_share_one_get_and_writes_drop_it(ciirus_api, control):
    assert ciirus_api.get_shared("SubAccount") is None
    created = ciirus_api.create(FIELDS)  # a write: the shared "none" must not be served
    before = control.last_request_id()
    assert ciirus_api.get_shared("AccountFeatures").subaccount_id == created.subaccount_id
    assert ciirus_api.get_shared("SendingDomain").subaccount_id == created.subaccount_id
    assert [r["method"] for r in control.requests(since_id=before)] == ["GET"]
    ciirus_api.update(created.subaccount_id, daily_send_limit=7)
    assert ciirus_api.get_shared("SubAccount").daily_send_limit == 7
