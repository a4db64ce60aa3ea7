"""Cakemail: /accounts/self, tokens scoped to a sub-account (POST /token account_id) and the
account_id query parameter on the /accounts routes, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from .helpers import PARTNER, PASSWORD, Cakemail, add_partner, get_token

DKIM = "/brands/default/dkim"


def _token_call(emulator, **form):
    return requests.post(f"{emulator.url}/cakemail/token", data=form, timeout=5)


def _forbidden(r):
    assert r.status_code == 403, r.text
    assert r.json()["detail"][0]["type"] == "forbidden"


@pytest.fixture
def tree(cm, partner):
    """root -> reseller (partner) -> child; root -> plain (not a partner)."""
    reseller = cm.create("reseller", partner=True)["id"]
    r = cm.post("/accounts", params={"partner_account_id": reseller}, json={"name": "child"})
    assert r.status_code == 201, r.text
    return {"root": str(partner[0]), "reseller": reseller, "child": r.json()["id"],
            "plain": cm.create("plain")["id"]}


def _scoped(emulator, account_id, **extra) -> tuple[Cakemail, dict]:
    tok = get_token(emulator, account_id=account_id, **extra)
    return Cakemail(emulator, tok["access_token"]), tok


# -- /accounts/self ----------------------------------------------------------------------------
def test_self_is_the_partners_own_account(cm, partner):
    r = cm.get("/accounts/self")
    assert r.status_code == 200
    assert r.json() == cm.get(f"/accounts/{partner[0]}").json()
    assert r.json()["data"]["id"] == str(partner[0]) and r.json()["data"]["partner"] is True


def test_patch_self_changes_what_an_account_may_change_about_itself(cm, partner):
    before = cm.get("/accounts/self").json()["data"]
    r = cm.patch("/accounts/self", json={
        "name": "Reseller Ltd", "phone": "+1 555 0100", "website": "https://reseller.example",
        "address": {"address1": "1 Main St", "country": "CA"},
        # PatchSelfAccount declares none of these: ignored, as FastAPI ignores undeclared keys
        "usage_limits": {"per_month": 1}, "partner": False, "trial": True, "metadata": {"x": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == []
    after = r.json()["data"]
    assert (after["name"], after["phone"], after["website"]) == (
        "Reseller Ltd", "+1 555 0100", "https://reseller.example")
    assert after["address"]["address1"] == "1 Main St" and after["address"]["country"] == "CA"
    assert after["usage_limits"] == before["usage_limits"]
    assert (after["partner"], after["status"], after["metadata"]) == (True, "active", {})
    assert cm.get(f"/accounts/{partner[0]}").json()["data"] == after  # stored, not only answered


def test_patch_self_validates_like_the_spec(cm):
    for body, loc in (({"website": "not a url"}, ["body", "website"]),
                      ({"name": ""}, ["body", "name"]),
                      ({"address": {"address1": "x"}}, ["body", "address", "country"])):
        r = cm.patch("/accounts/self", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == loc
    assert cm.patch("/accounts/self", data="").status_code == 422
    r = cm.patch("/accounts/self", json={"account_owner": {"user_id": 999}})
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["body", "account_owner", "user_id"]


def test_self_needs_a_token(emulator):
    r = requests.get(f"{emulator.url}/cakemail/accounts/self", timeout=5)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


# -- tokens scoped to a sub-account ------------------------------------------------------------
def test_a_scoped_token_acts_as_its_sub_account(emulator, cm, tree):
    scoped, tok = _scoped(emulator, tree["reseller"])
    assert tok["accounts"] == [int(tree["reseller"])]
    assert scoped.get("/accounts/self").json()["data"]["id"] == tree["reseller"]
    # it sees the reseller's tree only
    assert [a["id"] for a in scoped.get("/accounts").json()["data"]] == [tree["child"]]
    assert scoped.get(f"/accounts/{tree['child']}").status_code == 200
    for outside in (tree["root"], tree["plain"]):
        assert scoped.get(f"/accounts/{outside}").status_code == 404
        _forbidden(scoped.get("/accounts", params={"account_id": outside}))
        _forbidden(scoped.get(DKIM, params={"account_id": outside}))
    # it creates inside the reseller
    r = scoped.post("/accounts", json={"name": "grandchild"})
    assert r.status_code == 201
    assert r.json()["data"]["lineage"] == f"{tree['root']}-{tree['reseller']}-{r.json()['id']}"
    # it may not remove or suspend the account it acts as (as a partner cannot its own)
    for call in (lambda: scoped.delete(f"/accounts/{tree['reseller']}"),
                 lambda: scoped.post(f"/accounts/{tree['reseller']}/suspend")):
        _forbidden(call())
    # DKIM keys default to its account
    assert scoped.post(DKIM, json={"domain": "reseller.example"}).status_code == 201
    assert [k["domain"] for k in cm.get(DKIM, params={"account_id": tree["reseller"]}).json()["data"]] \
        == ["reseller.example"]
    # PATCH /accounts/self changes the reseller, as the partner then sees
    assert scoped.patch("/accounts/self", json={"name": "Reseller 2"}).status_code == 200
    assert cm.get(f"/accounts/{tree['reseller']}").json()["data"]["name"] == "Reseller 2"


def test_a_token_scoped_to_a_plain_account_has_no_sub_accounts(emulator, tree):
    scoped, _ = _scoped(emulator, tree["plain"])
    assert scoped.get("/accounts/self").json()["data"]["id"] == tree["plain"]
    _forbidden(scoped.get("/accounts"))
    _forbidden(scoped.post("/accounts", json={"name": "nope"}))


def test_account_id_on_token_must_be_in_the_partners_tree(emulator, tree):
    add_partner(emulator, "rival@example.com", "rival-pw")
    rival_root = get_token(emulator, "rival@example.com", "rival-pw")["accounts"][0]
    for foreign in (rival_root, 999999, 0):
        _forbidden(_token_call(emulator, username=PARTNER, password=PASSWORD, account_id=foreign))
    r = _token_call(emulator, username=PARTNER, password=PASSWORD, account_id="abc")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "account_id"]
    assert get_token(emulator, account_id=tree["root"])["accounts"] == [int(tree["root"])]


def test_refresh_keeps_the_scope_and_can_only_narrow_it(emulator, tree):
    _, tok = _scoped(emulator, tree["reseller"])
    refresh = lambda token, **extra: _token_call(  # noqa: E731
        emulator, grant_type="refresh_token", refresh_token=token, **extra)
    r = refresh(tok["refresh_token"])
    assert r.status_code == 200 and r.json()["accounts"] == [int(tree["reseller"])]
    assert Cakemail(emulator, r.json()["access_token"]).get("/accounts/self").json()["data"]["id"] \
        == tree["reseller"]
    narrower = refresh(tok["refresh_token"], account_id=tree["child"])
    assert narrower.status_code == 200 and narrower.json()["accounts"] == [int(tree["child"])]
    _forbidden(refresh(narrower.json()["refresh_token"], account_id=tree["reseller"]))
    _forbidden(refresh(tok["refresh_token"], account_id=tree["root"]))


def test_deleting_the_scoped_account_voids_its_tokens(emulator, cm, tree):
    scoped, tok = _scoped(emulator, tree["child"])
    assert cm.delete(f"/accounts/{tree['child']}").status_code == 200
    r = scoped.get("/accounts/self")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    r = _token_call(emulator, grant_type="refresh_token", refresh_token=tok["refresh_token"])
    assert r.status_code == 401


# -- ?account_id= on the /accounts routes -------------------------------------------------------
def test_account_id_query_acts_inside_that_account(emulator, cm, tree):
    listed = cm.get("/accounts", params={"account_id": tree["reseller"]})
    assert [a["id"] for a in listed.json()["data"]] == [tree["child"]]
    assert listed.json() == cm.get("/accounts", params={"partner_account_id": tree["reseller"]}).json()
    assert cm.get("/accounts/self", params={"account_id": tree["child"]}).json()["data"]["id"] \
        == tree["child"]
    r = cm.post("/accounts", params={"account_id": tree["reseller"]}, json={"name": "via query"})
    assert r.status_code == 201 and r.json()["data"]["lineage"].startswith(
        f"{tree['root']}-{tree['reseller']}-")
    # outside that account's tree: not found; a plain account has no sub-accounts
    assert cm.get(f"/accounts/{tree['plain']}", params={"account_id": tree["reseller"]}).status_code == 404
    _forbidden(cm.get("/accounts", params={"account_id": tree["plain"]}))
    _forbidden(cm.get("/accounts", params={"account_id": 999999}))
    for bad in ("abc", "0"):
        r = cm.get("/accounts", params={"account_id": bad})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "account_id"]
    # without it, nothing changed: the partner's own tree
    assert [a["name"] for a in cm.get("/accounts").json()["data"]] == ["reseller", "plain"]
