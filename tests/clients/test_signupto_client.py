"""The Sign-Up.to client over real HTTP: signing, the seed's auth table, envelope, credits."""

from __future__ import annotations

import email.utils

import pytest

from providers.http import ApiError, AmbiguousWriteError
from providers.signupto import SignupToClient
from providers.signupto.auth import CompanyHashAuth, PartnerHashAuth, string_to_sign
from providers.signupto.models import CreateAccount

FIXED_DATE = email.utils.parsedate_to_datetime("Mon, 23 Nov 2026 02:00:00 GMT").timestamp()
KEY = "0123456789abcdef0123456789abcdef01234567"


# --- signing vectors, derived by hand from the documented algorithm (sha1sum of the literal) ----------
def test_partner_signature_known_vector():
    auth = PartnerHashAuth(1234, KEY, clock=lambda: FIXED_DATE, nonce=lambda: "5f0c2a9e")
    headers = auth.headers("GET", "/v1/account")
    assert string_to_sign("GET", "/v1/account", headers, ("Date", "X-SuT-PID", "X-SuT-CID", "X-SuT-UID", "X-SuT-Nonce"), KEY) == (
        "GET /v1/account\r\nDate: Mon, 23 Nov 2026 02:00:00 GMT\r\nX-SuT-PID: 1234\r\nX-SuT-Nonce: 5f0c2a9e\r\n" + KEY)
    assert headers["Authorization"] == 'SuTPartner signature="d60079af2100dc0f434abb94775c13b035a425ac"'


def test_partner_signature_with_company_id_and_query_string():
    auth = PartnerHashAuth(1234, KEY, clock=lambda: FIXED_DATE, nonce=lambda: "n-2")
    headers = auth.headers("PUT", "/v1/accountFeatures?ignored=1", 77)
    assert headers["X-SuT-CID"] == "77"
    assert headers["Authorization"] == 'SuTPartner signature="affa40d577ae82bc841231b91b6d75b332084738"'


def test_company_signature_known_vector():
    auth = CompanyHashAuth(77, 5, "abcdefabcdefabcdefabcdefabcdefab", clock=lambda: FIXED_DATE, nonce=lambda: "n-3")
    assert auth.headers("GET", "/v1/account")["Authorization"] == 'SuTHash signature="7bc9aedc57e4da9edb533a0d03502c56b25d85f0"'


def test_partner_key_length_is_checked():
    with pytest.raises(ValueError, match="40 characters"):
        PartnerHashAuth(1, "short")


# --- the seed's table, through the client ----------------------------------------------------------
@pytest.fixture
def company(signupto_api, control):
    account = signupto_api.create_account(CreateAccount(name="Table Co", contactemail="t@table.example"))
    user = control.post(f"/signupto/companies/{account.id}/users", {})
    client = SignupToClient(signupto_api.http.base_url, CompanyHashAuth(account.id, user["user_id"], user["hash_key"]))
    client.http._sleep = lambda s: None
    return account, client


def expect(call, status: int, message: str):
    with pytest.raises(ApiError) as err:
        call()
    assert err.value.status == status and err.value.vendor_message == message, str(err.value)
    assert str(err.value).startswith("signupto ")


def test_account_endpoint_table(signupto_api, company):
    account, company_client = company
    # GET: company-level returns its own company; partner-level any or all managed accounts.
    assert [a["id"] for a in company_client.call("GET", "account")] == [account.id]
    assert [a.id for a in signupto_api.list_accounts()] == [account.id]
    assert signupto_api.get_account(account.id).name == "Table Co"
    # POST: company-level needs a higher level; partner-level creates.
    expect(lambda: company_client.call("POST", "account", body={"name": "x", "contactemail": "x@x.example"}),
           401, "Operation requires a higher authentication level")
    # PUT and DELETE: not available at either level.
    for client in (company_client, signupto_api):
        expect(lambda: client.call("PUT", "account", body={"name": "y"}), 405, "Method Not Allowed")
        expect(lambda: client.call("DELETE", "account", params={"id": account.id}), 405, "Method Not Allowed")


def test_account_features_endpoint_table(signupto_api, company):
    account, company_client = company
    assert company_client.call("GET", "accountFeatures")["list_limit"] == 200
    assert signupto_api.get_features(account.id)["list_limit"] == 200
    expect(lambda: signupto_api.call("GET", "accountFeatures"), 401, "Operation requires a company ID")
    expect(lambda: signupto_api.call("PUT", "accountFeatures", body={"enablesms": True}), 401,
           "Operation requires a company ID")
    assert signupto_api.update_features(account.id, {"enablesms": True})["enablesms"] is True
    expect(lambda: company_client.call("PUT", "accountFeatures", body={"enablesms": False}), 405, "Method Not Allowed")
    for client in (company_client, signupto_api):
        scope = None if client is company_client else account.id
        expect(lambda: client.call("POST", "accountFeatures", company_id=scope, body={}), 405, "Method Not Allowed")
        expect(lambda: client.call("DELETE", "accountFeatures", company_id=scope), 405, "Method Not Allowed")


def test_bad_key_is_a_clear_401(signupto_partner):
    client = SignupToClient.as_partner(signupto_partner["api_url"], signupto_partner["partner_id"], "f" * 40)
    expect(client.list_accounts, 401, "Invalid signature")


def test_get_of_a_missing_account_is_none(signupto_api):
    assert signupto_api.get_account(999999) is None


def test_every_retry_is_signed_afresh(signupto_api, control):
    """A retried request reuses no nonce, so the server's replay protection never rejects it.

    The fault is applied after the request was served, so the server has seen (and burnt) each nonce."""
    signupto_api.http._sleep = lambda s: None
    control.fault(r"^/signupto/v1/account$", method="GET", status=503, after_processing=True, count=1)
    assert signupto_api.list_accounts() == []


def test_create_survives_a_lost_answer_without_duplicating(signupto_api, control):
    signupto_api.http._sleep = lambda s: None
    control.fault(r"^/signupto/v1/account$", method="POST", drop=True, after_processing=True)
    account = signupto_api.create_account(CreateAccount(name="Once", contactemail="once@x.example"))
    assert [a.id for a in signupto_api.list_accounts()] == [account.id]


def test_credit_transfer_both_ways(signupto_api, signupto_partner):
    account = signupto_api.create_account(CreateAccount(name="Credits", contactemail="c@x.example"))
    source = signupto_partner["partner_account_id"]
    transfer = signupto_api.transfer_credits(source, account.id, "email", 500, note="welcome pack")
    assert (transfer.amount, transfer.type) == (500, "email")
    assert signupto_api.get_account(account.id).emailcreditbalance == 500
    signupto_api.transfer_credits(source, account.id, "email", -200)
    assert signupto_api.get_account(account.id).emailcreditbalance == 300
    with pytest.raises(ApiError, match="Insufficient"):
        signupto_api.transfer_credits(account.id, source, "sms", 1)
    with pytest.raises(ValueError):
        signupto_api.transfer_credits(source, account.id, "email", 0)


def test_credit_transfer_is_never_resent_blindly(signupto_api, signupto_partner, control):
    account = signupto_api.create_account(CreateAccount(name="Careful", contactemail="c@x.example"))
    signupto_api.http._sleep = lambda s: None
    control.fault(r"^/signupto/v1/creditTransfer$", drop=True, after_processing=True)
    with pytest.raises(AmbiguousWriteError, match="may or may not have been applied"):
        signupto_api.transfer_credits(signupto_partner["partner_account_id"], account.id, "email", 10)
    assert signupto_api.get_account(account.id).emailcreditbalance == 10  # applied once, not twice
