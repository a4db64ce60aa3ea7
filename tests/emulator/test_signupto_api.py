"""The emulated Sign-Up.to PMAPI/PMPAPI, over real HTTP: auth, the seed's tables, features, credits."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
import requests

from emulator import EmulatorServer
from emulator.signupto.auth import PARTNER_HEADERS, sign

from .signupto_helpers import (assert_error, company_headers, control, http_date,
                               new_partner, new_user, partner_headers, sha1_hex, string_to_sign)

HIGHER = "Operation requires a higher authentication level"
NEEDS_CID = "Operation requires a company ID"
NOT_ALLOWED = "Method Not Allowed"
KEY = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def sut(emulator):
    """A partner client, one managed company, a partner+CID client and a company-level client."""
    partner, info = new_partner(emulator)
    company = partner.create("Acme", "ops@acme.example")
    return {"partner": partner, "info": info, "company": company,
            "with_cid": partner.as_company(company["id"]), "user": new_user(emulator, company["id"])}


# -- signing -----------------------------------------------------------------------------------
def test_known_vector():
    literal = ("GET /v1/account\r\n"
               "Date: Mon, 23 Nov 2026 02:00:00 GMT\r\n"
               "X-SuT-PID: 1001\r\n"
               "X-SuT-CID: 42\r\n"
               "X-SuT-Nonce: abc123\r\n"
               "0123456789abcdef0123456789abcdef01234567")
    expected = hashlib.sha1(literal.encode("utf-8")).hexdigest()
    assert expected == "45231d8bee72561d7039e4b6e4868dbc5163f35e"
    headers = partner_headers("GET", "/v1/account", 1001, KEY, 42,
                              date="Mon, 23 Nov 2026 02:00:00 GMT", nonce="abc123")
    order = ("Date", "X-SuT-PID", "X-SuT-CID", "X-SuT-UID", "X-SuT-Nonce")
    assert string_to_sign("GET", "/v1/account", headers, KEY, order) == literal
    assert headers["Authorization"] == f'SuTPartner signature="{expected}"'
    assert sign("GET", "/v1/account", headers, PARTNER_HEADERS, KEY) == expected  # the emulator agrees

    company = ("PUT /v1/accountFeatures\r\nDate: Mon, 23 Nov 2026 02:00:00 GMT\r\n"
               "X-SuT-CID: 42\r\nX-SuT-UID: 7\r\nX-SuT-Nonce: n1\r\n" + "k" * 32)
    headers = company_headers("PUT", "/v1/accountFeatures", 42, 7, "k" * 32,
                              date="Mon, 23 Nov 2026 02:00:00 GMT", nonce="n1")
    assert headers["Authorization"] == f'SuTHash signature="{sha1_hex(company)}"'


def test_the_signed_path_is_the_path_requested_without_its_query(emulator, sut):
    """An independent client signs its real URL path (here /signupto/v1/account); a signature over a
    rewritten path (/v1/account) is refused, as the real API would refuse one over another path."""
    partner, company = sut["partner"], sut["company"]
    r = partner.call("GET", "account", params={"id": company["id"]})
    assert r.status_code == 200 and r.json()["response"]["data"][0]["id"] == company["id"]
    signed_without_prefix = partner_headers("GET", "/v1/account", partner.pid, partner.key)
    assert_error(partner.call("GET", "account", headers=signed_without_prefix), 401, "Invalid signature")


# -- the seed's tables -------------------------------------------------------------------------
ROWS = [
    # endpoint, method, who, expected status, expected message (None: success)
    ("account", "GET", "partner", 200, None),
    ("account", "GET", "with_cid", 200, None),
    ("account", "GET", "user", 200, None),
    ("account", "POST", "partner", 200, None),
    ("account", "POST", "with_cid", 200, None),
    ("account", "POST", "user", 401, HIGHER),
    ("account", "PUT", "partner", 405, NOT_ALLOWED),
    ("account", "PUT", "with_cid", 405, NOT_ALLOWED),
    ("account", "PUT", "user", 405, NOT_ALLOWED),
    ("account", "DELETE", "partner", 405, NOT_ALLOWED),
    ("account", "DELETE", "with_cid", 405, NOT_ALLOWED),
    ("account", "DELETE", "user", 405, NOT_ALLOWED),
    ("accountFeatures", "GET", "partner", 401, NEEDS_CID),
    ("accountFeatures", "GET", "with_cid", 200, None),
    ("accountFeatures", "GET", "user", 200, None),
    ("accountFeatures", "POST", "partner", 405, NOT_ALLOWED),
    ("accountFeatures", "POST", "with_cid", 405, NOT_ALLOWED),
    ("accountFeatures", "POST", "user", 405, NOT_ALLOWED),
    ("accountFeatures", "PUT", "partner", 401, NEEDS_CID),
    ("accountFeatures", "PUT", "with_cid", 200, None),
    ("accountFeatures", "PUT", "user", 405, NOT_ALLOWED),
    ("accountFeatures", "DELETE", "partner", 405, NOT_ALLOWED),
    ("accountFeatures", "DELETE", "with_cid", 405, NOT_ALLOWED),
    ("accountFeatures", "DELETE", "user", 405, NOT_ALLOWED),
]
BODIES = {("account", "POST"): {"name": "New Co", "contactemail": "new@co.example"},
          ("accountFeatures", "PUT"): {"enablesms": True}}


def test_seed_tables(sut):
    company_id = sut["company"]["id"]
    for endpoint, method, who, status, message in ROWS:
        body = BODIES.get((endpoint, method))
        r = sut[who].call(method, endpoint, json=body)
        if message is not None:
            assert_error(r, status, message)
            if status == 405:
                assert r.headers["Allow"] == ("GET, POST" if endpoint == "account" else "GET, PUT")
            continue
        assert r.status_code == 200, (endpoint, method, who, r.text)
        envelope = r.json()
        assert envelope["status"] == "ok" and envelope["response"]["next"] is None
        data = envelope["response"]["data"]
        if (endpoint, method) == ("account", "GET"):
            assert isinstance(data, list) and envelope["response"]["count"] == len(data)
            if who != "partner":
                assert [a["id"] for a in data] == [company_id]
        elif endpoint == "account":  # POST: the new account, not the CID's
            assert data["name"] == "New Co" and data["id"] != company_id
        else:
            assert data["id"] == company_id and envelope["response"]["count"] == 1
    listed = sut["partner"].call("GET", "account").json()["response"]
    assert listed["count"] == 3 and listed["data"][0]["id"] == company_id


def test_account_object_and_defaults(sut):
    data = sut["company"]
    assert list(data) == [
        "id", "name", "address", "country", "telephone", "website", "contactemail", "timezone",
        "list_limit", "user_limit", "subscriber_limit", "automation_limit", "search_limit",
        "smsautomation_limit", "subscriberprofilefield_limit", "emailcreditbalance",
        "smscreditbalance", "inboxtestcreditbalance", "list_count", "user_count",
        "subscriber_count", "folder_count", "cdate", "mdate"]
    assert data["country"] == "GB" and data["timezone"] == "Europe/London"
    assert data["list_limit"] == 200 and data["user_limit"] == 5 and data["subscriber_limit"] is None
    assert data["emailcreditbalance"] == data["smscreditbalance"] == 0
    assert isinstance(data["cdate"], float) and data["address"] is None
    full = sut["partner"].create("Full", "a@b.example", country="FR", timezone="Europe/Paris",
                                 address="1 rue", telephone="+33 1", website="https://x.example")
    assert (full["country"], full["timezone"], full["website"]) == ("FR", "Europe/Paris",
                                                                    "https://x.example")


def test_account_post_validation(sut):
    partner = sut["partner"]
    cases = [
        ({"id": 5, "name": "x", "contactemail": "a@b.example"}, "POST requests cannot include an id"),
        ({"name": "x", "contactemail": "a@b.example", "colour": "red"}, "Unknown field: colour"),
        ({"contactemail": "a@b.example"}, "Missing required field: name"),
        ({"name": " ", "contactemail": "a@b.example"}, "Invalid value for name: must not be empty"),
        ({"name": "x", "contactemail": "nope"}, "Invalid value for contactemail: not a valid email address"),
        ({"name": "x", "contactemail": "a@b.example", "country": "gb"},
         "Invalid value for country: not an ISO 3166-1 alpha-2 country code (two uppercase letters)"),
        ({"name": "x", "contactemail": "a@b.example", "timezone": "Mars/Base"},
         "Invalid value for timezone: not a tz database time zone name (e.g. Europe/London)"),
        ({"name": 5, "contactemail": "a@b.example"}, "Invalid value for name: Input should be a valid string"),
    ]
    for body, message in cases:
        assert_error(partner.call("POST", "account", json=body), 400, message)
    assert_error(partner.call("POST", "account", data="[1]"), 400, "Request body must be a JSON object")


def test_get_account_by_id(emulator, sut):
    partner, company = sut["partner"], sut["company"]
    r = partner.call("GET", "account", params={"id": company["id"]}).json()["response"]
    assert r["count"] == 1 and r["data"][0]["name"] == "Acme"
    assert_error(partner.call("GET", "account", params={"id": 999999}), 404, "No matching account")
    own = sut["info"]["partner_account_id"]
    assert_error(partner.call("GET", "account", params={"id": own}), 404, "No matching account")
    other, _ = new_partner(emulator)
    assert other.call("GET", "account").json()["response"] == {"count": 0, "next": None, "data": []}
    assert_error(other.call("GET", "account", params={"id": company["id"]}), 404, "No matching account")


def test_control_removal_stands_in_for_support(emulator, sut):
    partner, company = sut["partner"], sut["company"]
    removed = requests.delete(f"{emulator.url}/_control/signupto/accounts/{company['id']}", timeout=5)
    assert removed.status_code == 200 and removed.json() == {"removed": company["id"]}
    assert_error(partner.call("GET", "account", params={"id": company["id"]}), 404, "No matching account")
    assert requests.delete(f"{emulator.url}/_control/signupto/accounts/{company['id']}", timeout=5).status_code == 400


# -- auth failures -----------------------------------------------------------------------------
def test_auth_failures(emulator, sut):
    partner, company, user = sut["partner"], sut["company"], sut["user"]
    path = "/signupto/v1/account"  # as requested
    bad = partner_headers("GET", path, partner.pid, partner.key)
    bad["Authorization"] = 'SuTPartner signature="' + "0" * 40 + '"'
    assert_error(partner.call("GET", "account", headers=bad), 401, "Invalid signature")
    wrong_key = partner_headers("GET", path, partner.pid, "x" * 40)
    assert_error(partner.call("GET", "account", headers=wrong_key), 401, "Invalid signature")
    old = partner_headers("GET", path, partner.pid, partner.key, date=http_date(time.time() - 301))
    assert_error(partner.call("GET", "account", headers=old), 401,
                 "Request date is outside the allowed window")
    ahead = partner_headers("GET", path, partner.pid, partner.key, date=http_date(time.time() + 400))
    assert_error(partner.call("GET", "account", headers=ahead), 401,
                 "Request date is outside the allowed window")

    once = partner_headers("GET", path, partner.pid, partner.key, nonce="same-nonce")
    assert partner.call("GET", "account", headers=once).status_code == 200
    again = partner_headers("GET", path, partner.pid, partner.key, nonce="same-nonce")
    assert_error(partner.call("GET", "account", headers=again), 401, "Nonce has already been used")
    other, _ = new_partner(emulator)  # nonces are per principal
    assert other.call("GET", "account", headers=partner_headers(
        "GET", path, other.pid, other.key, nonce="same-nonce")).status_code == 200

    uid_only = partner_headers("GET", path, partner.pid, partner.key, uid=user.uid)
    assert_error(partner.call("GET", "account", headers=uid_only), 401, "X-SuT-UID requires X-SuT-CID")
    for name in ("Date", "X-SuT-PID", "X-SuT-Nonce", "Authorization"):
        headers = partner_headers("GET", path, partner.pid, partner.key)
        del headers[name]
        assert_error(partner.call("GET", "account", headers=headers), 401, f"Missing {name} header")
    headers = partner_headers("GET", path, partner.pid, partner.key, date="2026-11-23T02:00:00Z")
    r = partner.call("GET", "account", headers=headers)
    assert r.status_code == 401 and r.json()["response"]["message"].startswith("Invalid Date header")
    headers = partner_headers("GET", path, "abc", partner.key)
    r = partner.call("GET", "account", headers=headers)
    assert r.status_code == 401 and "X-SuT-PID" in r.headers["X-PMAPI-Error-Message"]
    assert_error(partner.call("GET", "account", headers=partner_headers("GET", path, 424242, KEY)),
                 401, "Unknown partner 424242")

    # company-level
    missing_uid = company_headers("GET", path, company["id"], user.uid, user.hash_key)
    del missing_uid["X-SuT-UID"]
    assert_error(user.call("GET", "account", headers=missing_uid), 401, "Missing X-SuT-UID header")
    stranger = company_headers("GET", path, company["id"], 9999, user.hash_key)
    assert_error(user.call("GET", "account", headers=stranger), 401,
                 f"Unknown user 9999 for company {company['id']}")
    forged = company_headers("GET", path, company["id"], user.uid, "y" * 32)
    assert_error(user.call("GET", "account", headers=forged), 401, "Invalid signature")
    reused = company_headers("GET", path, company["id"], user.uid, user.hash_key, nonce="u1")
    assert user.call("GET", "account", headers=reused).status_code == 200
    reused = company_headers("GET", path, company["id"], user.uid, user.hash_key, nonce="u1")
    assert_error(user.call("GET", "account", headers=reused), 401, "Nonce has already been used")


def test_unmanaged_company_is_forbidden(emulator, sut):
    other, info = new_partner(emulator)
    cid = sut["company"]["id"]
    for endpoint in ("account", "accountFeatures"):
        assert_error(other.as_company(cid).call("GET", endpoint), 403,
                     f"Company {cid} is not managed by this partner")
    own = info["partner_account_id"]
    assert_error(other.as_company(own).call("GET", "accountFeatures"), 403,
                 f"Company {own} is not managed by this partner")
    # POST /account ignores the CID entirely
    assert other.as_company(cid).call("POST", "account", json={
        "name": "Mine", "contactemail": "m@x.example"}).status_code == 200


def test_unknown_endpoint(emulator, sut):
    r = sut["partner"].call("GET", "lists")
    assert_error(r, 404, "Unknown endpoint: /v1/lists")
    assert_error(requests.get(f"{emulator.url}/signupto/v1/account/", timeout=5), 404,
                 "Unknown endpoint: /v1/account/")


# -- accountFeatures ---------------------------------------------------------------------------
def test_features_partial_put(sut):
    client, cid = sut["with_cid"], sut["company"]["id"]
    before = client.call("GET", "accountFeatures").json()["response"]["data"]
    assert before["enableemail"] is True and before["enablesms"] is False
    assert before["enablesplittest"] is False and before["enablesubscriptionmo"] is None
    assert before["contactemail"] == "ops@acme.example" and before["timezone"] == "Europe/London"
    time.sleep(0.01)
    r = client.call("PUT", "accountFeatures", json={
        "id": cid, "enablesms": True, "list_limit": 10, "subscriber_limit": None,
        "custommaildomaintype": "domain", "contactemail": "new@acme.example"})
    assert r.status_code == 200, r.text
    after = r.json()["response"]["data"]
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"enablesms", "list_limit", "custommaildomaintype", "contactemail", "mdate"}
    assert after["mdate"] > before["mdate"] and after["cdate"] == before["cdate"]
    assert sut["user"].call("GET", "accountFeatures").json()["response"]["data"] == after
    account = client.call("GET", "account").json()["response"]["data"][0]
    assert account["list_limit"] == 10 and account["contactemail"] == "new@acme.example"


def test_features_validation(sut):
    client, cid = sut["with_cid"], sut["company"]["id"]
    cases = [
        ({"enablesms": 1}, "Invalid value for enablesms: Input should be a valid boolean"),
        ({"enableemail": None}, "Invalid value for enableemail: Input should be a valid boolean"),
        ({"list_limit": 0}, "Invalid value for list_limit: Input should be greater than or equal to 1"),
        ({"user_limit": "5"}, "Invalid value for user_limit: Input should be a valid integer"),
        ({"subscriber_limit": 0},
         "Invalid value for subscriber_limit: Input should be greater than or equal to 1"),
        ({"custommaildomaintype": "mx"},
         "Invalid value for custommaildomaintype: Input should be 'fixed_email' or 'domain'"),
        ({"contactemail": "x"}, "Invalid value for contactemail: not a valid email address"),
        ({"cdate": 1.0}, "Field cdate is read-only"),
        ({"mdate": 1.0}, "Field mdate is read-only"),
        ({"id": cid + 1}, f"id must be the company ID ({cid}) or left out"),
        ({"turbo": True}, "Unknown field: turbo"),
    ]
    for body, message in cases:
        assert_error(client.call("PUT", "accountFeatures", json=body), 400, message)
    assert client.call("PUT", "accountFeatures", json={"subscriberprofilefield_limit": 0,
                                                        "search_limit": None}).status_code == 200


def test_dependent_switches(sut):
    client = sut["with_cid"]

    def put(**body):
        return client.call("PUT", "accountFeatures", json=body)

    assert_error(put(enablesubscriptionmo=True), 400,
                 "enablesubscriptionmo can only be enabled when enablesms is enabled")
    data = put(enablesms=True, enablesubscriptionmo=True).json()["response"]["data"]
    assert data["enablesubscriptionmo"] is True
    data = put(enablesms=False).json()["response"]["data"]
    assert data["enablesms"] is False and data["enablesubscriptionmo"] is None

    data = put(enablesplittest=True).json()["response"]["data"]  # bulk email is on by default
    assert data["enablesplittest"] is True
    assert_error(put(enablesendbulkemail=False, enablesplittest=True), 400,
                 "enablesplittest can only be enabled when enablesendbulkemail is enabled")
    data = put(enablesendbulkemail=False).json()["response"]["data"]
    assert data["enablesplittest"] is None
    data = put(enablesendbulkemail=True).json()["response"]["data"]
    assert data["enablesendbulkemail"] is True and data["enablesplittest"] is None


# -- creditTransfer ----------------------------------------------------------------------------
def _balances(partner, account_id):
    data = partner.call("GET", "account", params={"id": account_id}).json()["response"]["data"][0]
    return data["emailcreditbalance"], data["smscreditbalance"]


def test_credit_transfer(emulator, sut):
    partner, cid, own = sut["partner"], sut["company"]["id"], sut["info"]["partner_account_id"]
    r = partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": own, "destinationaccount_id": cid, "type": "email", "amount": 500,
        "note": "welcome"})
    assert r.status_code == 200, r.text
    data = r.json()["response"]["data"]
    assert list(data) == ["id", "sourceaccount_id", "destinationaccount_id", "type", "amount",
                          "note", "cdate"]
    assert (data["amount"], data["note"], r.json()["response"]["count"]) == (500, "welcome", 1)
    assert _balances(partner, cid) == (500, 0)
    r = partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": own, "destinationaccount_id": cid, "type": "email", "amount": -200})
    assert r.status_code == 200 and r.json()["response"]["data"]["note"] is None
    assert _balances(partner, cid) == (300, 0)

    assert_error(partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": own, "destinationaccount_id": cid, "type": "email", "amount": -301}),
        400, f"Insufficient email credits on account {cid}")
    assert_error(partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": cid, "destinationaccount_id": own, "type": "sms", "amount": 1}),
        400, f"Insufficient sms credits on account {cid}")
    control(emulator, f"/accounts/{own}/credits", {"inboxtest": 0})
    assert_error(partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": own, "destinationaccount_id": cid, "type": "inboxtest", "amount": 1}),
        400, f"Insufficient inboxtest credits on account {own}")
    assert _balances(partner, cid) == (300, 0)  # failed transfers moved nothing

    other, info = new_partner(emulator)
    assert_error(other.call("POST", "creditTransfer", json={
        "sourceaccount_id": info["partner_account_id"], "destinationaccount_id": cid,
        "type": "email", "amount": 1}), 403, f"Account {cid} is not managed by this partner")
    assert_error(partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": own, "destinationaccount_id": 999999, "type": "email", "amount": 1}),
        404, "No matching account 999999")
    assert_error(partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": own, "destinationaccount_id": cid, "type": "email", "amount": 0}),
        400, "Invalid value for amount: must not be zero")
    assert_error(partner.call("POST", "creditTransfer", json={
        "sourceaccount_id": own, "destinationaccount_id": cid, "type": "fax", "amount": 1}),
        400, "Invalid value for type: Input should be 'email', 'sms' or 'inboxtest'")
    assert_error(sut["user"].call("POST", "creditTransfer", json={}), 401, HIGHER)
    for method in ("GET", "PUT", "DELETE"):
        r = partner.call(method, "creditTransfer")
        assert_error(r, 405, NOT_ALLOWED)
        assert r.headers["Allow"] == "POST"


# -- control, faults, log, persistence ---------------------------------------------------------
def test_control_routes(emulator):
    _, info = new_partner(emulator, partner_id=77, partner_key=KEY)
    assert info["partner_id"] == 77 and info["partner_key"] == KEY
    again = control(emulator, "/partners", {"partner_id": 77})  # upsert: new key, same account
    assert again["partner_account_id"] == info["partner_account_id"] and len(again["partner_key"]) == 40
    generated = control(emulator, "/partners")
    assert generated["partner_id"] > 77 and len(generated["partner_key"]) == 40
    user = control(emulator, f"/companies/{info['partner_account_id']}/users")
    assert len(user["hash_key"]) == 32 and user["company_id"] == info["partner_account_id"]
    credits = control(emulator, f"/accounts/{info['partner_account_id']}/credits", {"sms": 5})
    assert credits == {"account_id": info["partner_account_id"], "emailcreditbalance": 100000,
                       "smscreditbalance": 5, "inboxtestcreditbalance": 100}
    for path, body in (("/partners", {"partner_key": "short"}), ("/partners", {"partner_id": "x"}),
                       ("/companies/999999/users", None),
                       (f"/accounts/{info['partner_account_id']}/credits", {"email": -1}),
                       (f"/accounts/{info['partner_account_id']}/credits", {"gold": 1})):
        r = requests.post(f"{emulator.url}/_control/signupto{path}", json=body, timeout=5)
        assert r.status_code == 400 and r.json()["error"], (path, r.text)


def test_faults_and_request_log(emulator, sut):
    partner = sut["partner"]
    requests.delete(f"{emulator.url}/_control/requests", timeout=5)
    r = requests.post(f"{emulator.url}/_control/faults", timeout=5, json={
        "path": "^/signupto/v1/account$", "method": "GET", "status": 503, "retry_after": 1})
    assert r.status_code == 201
    fault_id = r.json()["id"]
    r = partner.call("GET", "account")
    assert_error(r, 503, f"Service Unavailable (injected fault #{fault_id})")
    assert r.headers["Retry-After"] == "1"
    assert partner.call("GET", "account").status_code == 200
    partner.call("POST", "account", json={"name": "Logged", "contactemail": "l@x.example"})

    log = requests.get(f"{emulator.url}/_control/requests", params={"vendor": "signupto"},
                       timeout=5).json()["requests"]
    assert [(e["method"], e["path"], e["status"], e["fault"]) for e in log] == [
        ("GET", "/signupto/v1/account", 503, True), ("GET", "/signupto/v1/account", 200, False),
        ("POST", "/signupto/v1/account", 200, False)]
    assert log[2]["body"] == {"name": "Logged", "contactemail": "l@x.example"}
    text = json.dumps(log)
    for secret in (partner.key, sut["user"].hash_key, "signature", "SuTPartner", "X-SuT"):
        assert secret not in text


def test_reset_and_restart(db_path):
    with EmulatorServer(db_path) as first:
        partner, info = new_partner(first)
        company = partner.create("Persisted", "p@x.example")
        user = new_user(first, company["id"])
        partner.as_company(company["id"]).call("PUT", "accountFeatures", json={"enablesms": True})
    with EmulatorServer(db_path) as second:
        partner.url = user.url = second.url
        data = user.call("GET", "accountFeatures").json()["response"]["data"]
        assert data["enablesms"] is True and data["id"] == company["id"]
        assert partner.call("GET", "account").json()["response"]["data"][0]["name"] == "Persisted"
        assert requests.post(f"{second.url}/_control/reset", timeout=5).status_code == 200
        assert_error(partner.call("GET", "account"), 401, f"Unknown partner {info['partner_id']}")
