"""Sign-Up.to company-level Token authorisation (SuTToken), next to Hash, over real HTTP:
POST /v1/token, what a token may do per the seed's tables, expiry, and what stays secret."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from .signupto_helpers import assert_error, control, new_partner

HIGHER = "Operation requires a higher authentication level"
NOT_ALLOWED = "Method Not Allowed"


def _login(emulator, company_id, username="ops@acme.example", password="s3cret-login", **extra):
    return control(emulator, f"/companies/{company_id}/users",
                   {"username": username, "password": password, **extra})


def _token(emulator, username="ops@acme.example", password="s3cret-login") -> requests.Response:
    return requests.post(f"{emulator.url}/signupto/v1/token", timeout=5,
                         json={"username": username, "password": password})


def _call(emulator, method, endpoint, token, **kw) -> requests.Response:
    return requests.request(method, f"{emulator.url}/signupto/v1/{endpoint}", timeout=5,
                            headers={"Authorization": f"SuTToken {token}"}, **kw)


@pytest.fixture
def acme(emulator):
    partner, _ = new_partner(emulator)
    company = partner.create("Acme", "ops@acme.example")
    user = _login(emulator, company["id"])
    return {"partner": partner, "company": company, "user": user}


def test_login_gives_a_token_that_acts_as_the_company_user(emulator, acme):
    assert acme["user"]["username"] == "ops@acme.example" and "password" not in acme["user"]
    assert len(acme["user"]["hash_key"]) == 32  # the same user can still sign with SuTHash
    before = time.time()
    r = _token(emulator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["response"]["count"] == 1
    token, expiry = body["response"]["data"]["token"], body["response"]["data"]["expiry"]
    assert len(token) == 96 and before + 3600 - 5 < expiry < time.time() + 3600 + 5
    r = _call(emulator, "GET", "account", token)
    assert r.status_code == 200
    assert [a["id"] for a in r.json()["response"]["data"]] == [acme["company"]["id"]]
    r = _call(emulator, "GET", "accountFeatures", token)
    assert r.status_code == 200 and r.json()["response"]["data"]["id"] == acme["company"]["id"]


def test_a_token_may_do_what_company_level_auth_may(emulator, acme):
    """The seed's tables: company level is read-only, and partner endpoints are refused."""
    token = _token(emulator).json()["response"]["data"]["token"]
    assert_error(_call(emulator, "POST", "account", token, json={"name": "x", "contactemail": "a@b.co"}),
                 401, HIGHER)
    for method in ("PUT", "DELETE"):
        r = _call(emulator, method, "account", token, json={})
        assert_error(r, 405, NOT_ALLOWED)
        assert r.headers["Allow"] == "GET, POST"
    for method in ("POST", "PUT", "DELETE"):
        assert_error(_call(emulator, method, "accountFeatures", token, json={"enablesms": True}),
                     405, NOT_ALLOWED)
    assert_error(_call(emulator, "POST", "creditTransfer", token, json={
        "sourceaccount_id": acme["company"]["id"], "destinationaccount_id": 1,
        "type": "email", "amount": 1}), 401, HIGHER)
    features = _call(emulator, "GET", "accountFeatures", token).json()["response"]["data"]
    assert features["enablesms"] is False  # the refused PUT changed nothing


def test_bad_logins_and_bad_tokens(emulator, acme):
    assert_error(_token(emulator, password="wrong"), 401, "Invalid username or password")
    assert_error(_token(emulator, username="nobody@acme.example"), 401, "Invalid username or password")
    r = requests.post(f"{emulator.url}/signupto/v1/token", json={"username": "x"}, timeout=5)
    assert_error(r, 400, "Missing required field: password")
    r = requests.post(f"{emulator.url}/signupto/v1/token", timeout=5,
                      json={"username": "x", "password": "y", "cid": 1})
    assert_error(r, 400, "Unknown field: cid")
    r = requests.get(f"{emulator.url}/signupto/v1/token", timeout=5)
    assert_error(r, 405, NOT_ALLOWED)
    assert r.headers["Allow"] == "POST"
    assert_error(_call(emulator, "GET", "account", "A" * 96), 401, "Invalid token")
    assert_error(_call(emulator, "GET", "account", ""), 401, "Missing token: expected SuTToken <token>")


def test_a_token_expires_and_dies_with_its_company(emulator, acme):
    partner = acme["partner"]
    other = partner.create("Brief", "ops@brief.example")
    _login(emulator, other["id"], "ops@brief.example", "pw-brief", token_ttl_seconds=1)
    token = _token(emulator, "ops@brief.example", "pw-brief").json()["response"]["data"]["token"]
    assert _call(emulator, "GET", "account", token).status_code == 200
    time.sleep(1.2)
    assert_error(_call(emulator, "GET", "account", token), 401, "Token has expired")

    token = _token(emulator).json()["response"]["data"]["token"]
    r = requests.delete(f"{emulator.url}/_control/signupto/accounts/{acme['company']['id']}", timeout=5)
    assert r.status_code == 200
    assert_error(_call(emulator, "GET", "account", token), 401, "Invalid token")
    assert_error(_token(emulator), 401, "Invalid username or password")


def test_logins_are_checked_and_kept_secret(emulator, acme):
    cid = acme["company"]["id"]
    r = requests.post(f"{emulator.url}/_control/signupto/companies/{cid}/users", timeout=5,
                      json={"username": "ops@acme.example", "password": "other"})
    assert r.status_code == 400 and "belongs to user" in r.json()["error"]
    r = requests.post(f"{emulator.url}/_control/signupto/companies/{cid}/users", timeout=5,
                      json={"username": "only-a-name"})
    assert r.status_code == 400 and "password" in r.json()["error"]

    token = _token(emulator).json()["response"]["data"]["token"]
    _call(emulator, "GET", "account", token)
    log = requests.get(f"{emulator.url}/_control/requests", params={"vendor": "signupto"},
                       timeout=5).json()["requests"]
    token_calls = [e for e in log if e["path"] == "/signupto/v1/token"]
    assert token_calls and all(e["body"]["password"] == "***" for e in token_calls)
    raw = b"".join(Path(f"{emulator.db_path}{suffix}").read_bytes()  # hashed at rest
                   for suffix in ("", "-wal") if Path(f"{emulator.db_path}{suffix}").exists())
    assert b"ops@acme.example" in raw  # what is stored in clear is found: the scan works
    assert b"s3cret-login" not in raw and token.encode() not in raw
