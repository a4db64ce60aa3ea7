"""The emulated Cakemail API, over real HTTP, against the shapes of the OpenAPI subset."""

from __future__ import annotations

import time

import requests

from .helpers import PARTNER, PASSWORD, Cakemail, add_partner, get_token

ACCOUNT_FULL_KEYS = {
    "id", "lineage", "status", "name", "address", "account_owner", "fax", "phone", "website",
    "logo", "usage_limits", "last_activity_on", "created_on", "partner", "organization",
    "stripe_customer_id", "overrides", "metadata"}
ACCOUNT_SUMMARY_KEYS = {
    "id", "lineage", "status", "partner", "name", "account_owner", "usage_limits", "created_on",
    "stripe_customer_id", "expires_on"}
OWNER = {"email": "owner@shop.example", "first_name": "Ada", "last_name": "Lovelace",
         "language": "en_US", "timezone": "America/Montreal"}


def _token(emulator, **form):
    return requests.post(f"{emulator.url}/cakemail/token", data=form, timeout=5)


def _assert_unauthorized(r):
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail[0]["type"] == "unauthorized"
    assert isinstance(detail[0]["code"], int) and detail[0]["msg"]


def _assert_422(r, loc):
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(d["loc"] == loc for d in detail), detail
    assert all({"loc", "msg", "type"} <= set(d) for d in detail)


# -- tokens ------------------------------------------------------------------------------------
def test_password_and_refresh_grants(emulator, partner):
    account_id, tok = partner
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 3600
    assert tok["accounts"] == [account_id]
    assert tok["access_token"] != tok["refresh_token"]

    r = _token(emulator, grant_type="refresh_token", refresh_token=tok["refresh_token"])
    assert r.status_code == 200
    new = r.json()
    assert set(new) == {"access_token", "token_type", "expires_in", "refresh_token", "accounts"}
    assert new["access_token"] != tok["access_token"]
    assert Cakemail(emulator, new["access_token"]).get("/accounts").status_code == 200
    # a refresh token is not an access token
    _assert_unauthorized(Cakemail(emulator, tok["refresh_token"]).get("/accounts"))


def test_token_errors(emulator, partner):
    _assert_unauthorized(_token(emulator, grant_type="password", username=PARTNER,
                                password="wrong"))
    _assert_unauthorized(_token(emulator, grant_type="password", username="nobody@example.com",
                                password=PASSWORD))
    _assert_unauthorized(_token(emulator, grant_type="refresh_token", refresh_token="bogus"))
    r = _token(emulator, grant_type="password", username=PARTNER)
    assert r.status_code == 400 and r.json()["detail"][0]["type"] == "bad_request"
    _assert_422(_token(emulator, username=PARTNER, password=PASSWORD, expiration_seconds="60"),
                ["body", "expiration_seconds"])
    _assert_422(_token(emulator, grant_type="magic"), ["body", "grant_type"])


def test_token_expiry_uses_partner_ttl(emulator):
    add_partner(emulator, "short@example.com", "pw", token_ttl_seconds=1)
    tok = get_token(emulator, "short@example.com", "pw")
    assert tok["expires_in"] == 1
    client = Cakemail(emulator, tok["access_token"])
    assert client.get("/accounts").status_code == 200
    time.sleep(1.2)
    _assert_unauthorized(client.get("/accounts"))


def test_missing_or_bad_bearer(emulator, partner):
    url = f"{emulator.url}/cakemail/accounts"
    _assert_unauthorized(requests.get(url, timeout=5))
    _assert_unauthorized(requests.get(url, headers={"Authorization": "Basic abc"}, timeout=5))
    _assert_unauthorized(requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5))


# -- accounts ----------------------------------------------------------------------------------
def test_create_account_shape(cm, partner):
    r = cm.post("/accounts", json={"name": "Shop", "account_owner": OWNER, "trial": False,
                                   "partner": False, "usage_limits": {"per_month": 1234,
                                                                      "use_tags": True}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["object"] == "account" and body["created"] is True and body["warnings"] == []
    data = body["data"]
    assert set(data) == ACCOUNT_FULL_KEYS
    assert isinstance(body["id"], str) and data["id"] == body["id"]
    assert data["status"] == "active" and data["name"] == "Shop" and data["partner"] is False
    assert data["lineage"] == f"{partner[0]}-{body['id']}"
    assert isinstance(data["created_on"], int) and isinstance(data["last_activity_on"], int)
    assert isinstance(data["account_owner"]["user_id"], str)
    limits = data["usage_limits"]
    assert limits["per_month"] == 1234 and limits["use_tags"] is True
    assert limits["lists"] == -1 and isinstance(limits["per_campaign"], int)
    assert set(data["overrides"]) == {"bypass_recaptcha", "inject_address",
                                      "inject_unsubscribe_link"}
    assert cm.create("Trial shop", trial=True)["data"]["status"] == "trial"


def test_create_account_validation(cm):
    _assert_422(cm.post("/accounts", json={"name": ""}), ["body", "name"])
    _assert_422(cm.post("/accounts", json={}), ["body", "name"])
    _assert_422(cm.post("/accounts", json={"name": 42}), ["body", "name"])
    _assert_422(cm.post("/accounts", json={"name": "x", "account_owner": {**OWNER,
                                                                          "email": "nope"}}),
                ["body", "account_owner", "email"])
    owner = {k: v for k, v in OWNER.items() if k != "first_name"}
    _assert_422(cm.post("/accounts", json={"name": "x", "account_owner": owner}),
                ["body", "account_owner", "first_name"])
    _assert_422(cm.post("/accounts", json={"name": "x", "account_owner": {**OWNER,
                                                                          "language": "xx"}}),
                ["body", "account_owner", "language"])
    _assert_422(cm.post("/accounts", json={"name": "x", "usage_limits": {"lists": -2}}),
                ["body", "usage_limits", "lists"])
    _assert_422(cm.post("/accounts", data="{not json",
                        headers={"Content-Type": "application/json"}), ["body"])
    assert cm.get("/accounts", params={"with_count": "true"}).json()["pagination"]["count"] == 0


def test_list_pagination_filter_sort(cm):
    ids = [cm.create(name)["id"] for name in ("delta", "alpha", "echo", "charlie", "bravo")]
    cm.post(f"/accounts/{ids[0]}/suspend")

    page = cm.get("/accounts", params={"per_page": 2, "page": 3}).json()
    assert page["pagination"] == {"page": 3, "per_page": 2}
    assert [a["id"] for a in page["data"]] == [ids[4]]
    assert set(page["data"][0]) == ACCOUNT_SUMMARY_KEYS
    counted = cm.get("/accounts", params={"per_page": 2, "with_count": "true"}).json()
    assert counted["pagination"] == {"page": 1, "per_page": 2, "count": 5}
    assert [a["id"] for a in cm.get("/accounts").json()["data"]] == ids

    names = lambda **p: [a["name"] for a in cm.get("/accounts", params=p).json()["data"]]
    assert names(sort="name") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert names(sort="+name") == names(sort="name")
    assert names(sort="-name") == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert names(sort="created_on") == ["delta", "alpha", "echo", "charlie", "bravo"]
    assert names(sort="-created_on") == ["bravo", "charlie", "echo", "alpha", "delta"]
    assert names(filter="name==echo") == ["echo"]
    assert names(filter="status==suspended") == ["delta"]
    assert names(filter=f"id=={ids[1]};status==active") == ["alpha"]
    assert names(filter="name==echo;status==suspended") == []

    _assert_422(cm.get("/accounts", params={"page": 0}), ["query", "page"])
    _assert_422(cm.get("/accounts", params={"page": "x"}), ["query", "page"])
    _assert_422(cm.get("/accounts", params={"per_page": 101}), ["query", "per_page"])
    _assert_422(cm.get("/accounts", params={"with_count": "maybe"}), ["query", "with_count"])
    _assert_422(cm.get("/accounts", params={"sort": "email"}), ["query", "sort"])
    _assert_422(cm.get("/accounts", params={"filter": "email==x"}), ["query", "filter"])


def test_get_patch_account(cm):
    created = cm.create("Old name", account_owner=OWNER, usage_limits={"per_month": 10})
    acc_id = created["id"]
    r = cm.get(f"/accounts/{acc_id}")
    assert r.status_code == 200 and r.json()["data"] == created["data"]

    r = cm.patch(f"/accounts/{acc_id}", json={
        "name": "New name", "usage_limits": {"per_campaign": 5}, "metadata": {"plan": "gold"},
        "address": {"address1": "1 Main St", "country": "CA", "city": "Montreal"},
        "unknown_field": "ignored"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["warnings"] == [] and set(body["data"]) == ACCOUNT_FULL_KEYS
    data = body["data"]
    assert data["name"] == "New name" and data["metadata"] == {"plan": "gold"}
    assert data["usage_limits"]["per_campaign"] == 5 and data["usage_limits"]["per_month"] == 10
    assert data["address"]["city"] == "Montreal" and data["address"]["province"] is None
    assert cm.get(f"/accounts/{acc_id}").json()["data"] == data

    assert cm.patch(f"/accounts/{acc_id}", json={"trial": True}).json()["data"]["status"] == "trial"
    assert cm.patch(f"/accounts/{acc_id}",
                    json={"trial": False}).json()["data"]["status"] == "active"
    # the owner's email/name are not patchable: PatchAccount.account_owner is {user_id}
    _assert_422(cm.patch(f"/accounts/{acc_id}", json={"account_owner": {"email": "x@y.zz"}}),
                ["body", "account_owner", "user_id"])
    _assert_422(cm.patch(f"/accounts/{acc_id}", json={"usage_limits": {"per_month": -1}}),
                ["body", "usage_limits", "per_month"])
    _assert_422(cm.patch("/accounts/abc", json={"name": "x"}), ["path", "account_id"])


def test_not_found_and_isolation(emulator, cm):
    mine = cm.create("Mine")["id"]
    add_partner(emulator, "other@example.com", "other-pw")
    other = Cakemail(emulator, get_token(emulator, "other@example.com", "other-pw")["access_token"])
    theirs = other.create("Theirs")["id"]

    for r in (cm.get("/accounts/999999"), cm.get(f"/accounts/{theirs}"),
              cm.patch(f"/accounts/{theirs}", json={"name": "x"}),
              cm.delete(f"/accounts/{theirs}"), cm.post(f"/accounts/{theirs}/suspend")):
        assert r.status_code == 404, r.text
        assert r.json()["detail"][0]["type"] == "not_found"
    assert [a["id"] for a in other.get("/accounts").json()["data"]] == [theirs]
    assert [a["id"] for a in cm.get("/accounts").json()["data"]] == [mine]
    _assert_422(cm.get("/accounts/a-b"), ["path", "account_id"])
    _assert_422(cm.post("/accounts/0/suspend"), ["path", "account_id"])


def test_delete_account(cm):
    keep, gone = cm.create("keep")["id"], cm.create("gone")["id"]
    r = cm.delete(f"/accounts/{gone}")
    assert r.status_code == 200
    assert r.json() == {"id": gone, "object": "account", "deleted": True}
    assert cm.get(f"/accounts/{gone}").status_code == 404
    assert cm.delete(f"/accounts/{gone}").status_code == 404
    assert cm.post(f"/accounts/{gone}/suspend").status_code == 404
    assert [a["id"] for a in cm.get("/accounts").json()["data"]] == [keep]


def test_suspend_unsuspend(cm):
    active, trial = cm.create("active")["id"], cm.create("trial", trial=True)["id"]
    r = cm.post(f"/accounts/{active}/suspend")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == active and body["object"] == "account" and body["suspended"] is True
    assert set(body["data"]) == ACCOUNT_SUMMARY_KEYS and body["data"]["status"] == "suspended"
    assert cm.get(f"/accounts/{active}").json()["data"]["status"] == "suspended"
    assert cm.post(f"/accounts/{active}/suspend").status_code == 200  # idempotent

    r = cm.post(f"/accounts/{active}/unsuspend")
    assert r.status_code == 200
    assert r.json()["unsuspended"] is True and r.json()["data"]["status"] == "active"
    cm.post(f"/accounts/{trial}/suspend")
    assert cm.post(f"/accounts/{trial}/unsuspend").json()["data"]["status"] == "trial"


def test_sub_partner_tree(cm, partner):
    reseller = cm.create("reseller", partner=True)["id"]
    r = cm.post("/accounts", params={"partner_account_id": reseller}, json={"name": "grandchild"})
    assert r.status_code == 201
    grandchild = r.json()["data"]
    assert grandchild["lineage"] == f"{partner[0]}-{reseller}-{grandchild['id']}"

    top = lambda **p: [a["name"] for a in cm.get("/accounts", params=p).json()["data"]]
    assert top() == ["reseller"]
    assert top(recursive="true") == ["reseller", "grandchild"]
    assert top(partner_account_id=reseller) == ["grandchild"]
    plain = cm.create("plain")["id"]
    r = cm.get("/accounts", params={"partner_account_id": plain})
    assert r.status_code == 403 and r.json()["detail"][0]["type"] == "forbidden"
