"""Cakemail DKIM keys (/brands/default/dkim): shapes, account scoping, validation via the zone."""

from __future__ import annotations

import base64

import requests

from emulator import EmulatorServer

from .ciirus_helpers import publish, unpublish
from .helpers import Cakemail, add_partner, get_token

DKIM = "/brands/default/dkim"
SUMMARY_KEYS = ["id", "status", "selector", "domain", "public_key"]


def _txt(key):
    """The record that activates a key: (name, value)."""
    return (f"{key['selector']}._domainkey.{key['domain']}",
            f"v=DKIM1; k=rsa; p={key['public_key']}")


def _create(cm, domain="example.com", account_id=None, **extra):
    params = {"account_id": account_id} if account_id else None
    r = cm.post(DKIM, params=params, json={"domain": domain, **extra})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"object", "created", "data"}
    assert body["object"] == "dkim" and body["created"] is True
    return body["data"]


def test_create_list_get_delete(cm):
    key = _create(cm, "Mail.Example.com")
    assert list(key) == SUMMARY_KEYS
    assert isinstance(key["id"], int) and key["domain"] == "mail.example.com"
    assert key["status"] == "pending" and key["selector"] == f"ckm{key['id']}"
    der = base64.b64decode(key["public_key"], validate=True)
    assert der.startswith(bytes.fromhex("30820122")) and len(der) == 294  # RSA-2048 SPKI
    second = _create(cm, "news.example.com", selector="s2024")
    assert second["selector"] == "s2024"

    listed = cm.get(DKIM).json()
    assert set(listed) == {"data"}  # the spec's DkimKeysResponse has no pagination block
    assert [k["id"] for k in listed["data"]] == [key["id"], second["id"]]
    assert [k["account_default"] for k in listed["data"]] == [True, False]
    assert list(listed["data"][0]) == SUMMARY_KEYS + ["account_default"]

    r = cm.get(f"{DKIM}/{second['id']}")
    assert r.status_code == 200 and r.json() == {"data": {**second, "account_default": False}}
    r = cm.delete(f"{DKIM}/{key['id']}")
    assert r.status_code == 200
    assert r.json() == {"object": "dkim", "deleted": True, "data": key}
    for call in (cm.get, cm.delete):
        r = call(f"{DKIM}/{key['id']}")
        assert r.status_code == 404 and r.json()["detail"][0]["loc"] == ["path", "id"]
    assert cm.get(f"{DKIM}/{second['id']}").json()["data"]["account_default"] is True


def test_status_follows_the_dns_zone(emulator, cm):
    key = _create(cm)
    name, value = _txt(key)
    publish(emulator, name, f"v=DKIM1; k=rsa; p={key['public_key'][:-4]}")  # wrong key
    publish(emulator, f"other._domainkey.{key['domain']}", value)  # wrong selector
    publish(emulator, name, "elsewhere.example.net", rtype="CNAME")  # not a TXT
    assert cm.get(f"{DKIM}/{key['id']}").json()["data"]["status"] == "pending"
    publish(emulator, name.upper() + ".", value)
    assert cm.get(f"{DKIM}/{key['id']}").json()["data"]["status"] == "active"
    assert cm.get(DKIM).json()["data"][0]["status"] == "active"
    unpublish(emulator, name, "TXT", value)
    assert cm.get(f"{DKIM}/{key['id']}").json()["data"]["status"] == "pending"


def test_validation_errors(cm):
    for body, loc in (({}, ["body", "domain"]), ({"domain": "not a domain"}, ["body", "domain"]),
                      ({"domain": "example.com."}, ["body", "domain"]),
                      ({"domain": 5}, ["body", "domain"]),
                      ({"domain": "example.com", "selector": "bad_sel"}, ["body", "selector"])):
        r = cm.post(DKIM, json=body)
        assert r.status_code == 422, body
        assert r.json()["detail"][0]["loc"] == loc
    for path, loc in ((f"{DKIM}/abc", ["path", "id"]), (f"{DKIM}?account_id=0",
                                                          ["query", "account_id"]),
                      (f"{DKIM}?account_id=x", ["query", "account_id"])):
        r = cm.get(path)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, path


def test_duplicate_domain_in_one_account_is_a_400(cm):
    _create(cm)
    r = cm.post(DKIM, json={"domain": "EXAMPLE.com", "selector": "other"})
    assert r.status_code == 400
    assert r.json()["detail"][0] == {"loc": ["body", "domain"], "type": "bad_request",
                                     "msg": "A DKIM key already exists for example.com in this "
                                            "account"}
    sub = cm.create("Shop")["id"]
    _create(cm, account_id=sub)  # the same domain in another account is fine


def test_account_scoping(emulator, cm, partner):
    root_id = partner[0]
    sub = cm.create("Shop")["id"]
    key = _create(cm, "shop.example.com", account_id=sub)
    assert cm.get(DKIM).json()["data"] == []  # not in the partner's own account
    assert cm.get(f"{DKIM}/{key['id']}").status_code == 404
    scoped = cm.get(DKIM, params={"account_id": sub}).json()["data"]
    assert [k["id"] for k in scoped] == [key["id"]]
    assert cm.get(DKIM, params={"account_id": root_id}).json()["data"] == []
    assert cm.get(f"{DKIM}/{key['id']}", params={"account_id": sub}).status_code == 200

    add_partner(emulator, "rival@example.com", "rival-pw")
    rival_token = get_token(emulator, "rival@example.com", "rival-pw")["access_token"]
    rival = Cakemail(emulator, rival_token)
    for call in (lambda: rival.get(DKIM, params={"account_id": sub}),
                 lambda: rival.get(f"{DKIM}/{key['id']}", params={"account_id": sub}),
                 lambda: rival.post(DKIM, params={"account_id": sub}, json={"domain": "a.com"}),
                 lambda: rival.delete(f"{DKIM}/{key['id']}", params={"account_id": sub}),
                 lambda: cm.get(DKIM, params={"account_id": 999999})):
        r = call()
        assert r.status_code == 403, r.text
        assert r.json()["detail"][0]["type"] == "forbidden"
    assert rival.get(f"{DKIM}/{key['id']}").status_code == 404
    assert cm.delete(f"{DKIM}/{key['id']}", params={"account_id": sub}).status_code == 200


def test_needs_a_bearer_token(emulator):
    r = requests.get(f"{emulator.url}/cakemail{DKIM}", timeout=5)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_publish_dns_option_activates_new_keys(db_path):
    with EmulatorServer(db_path, publish_dns=True) as emu:
        add_partner(emu)
        cm = Cakemail(emu, get_token(emu)["access_token"])
        key = _create(cm, "demo.example.com")
        assert key["status"] == "active"
        records = requests.get(f"{emu.url}/_control/dns/records", timeout=5).json()["records"]
        assert records == [{"name": _txt(key)[0], "type": "TXT", "value": _txt(key)[1]}]
        cm.session.close()


def test_reset_wipes_keys(emulator, cm):
    key = _create(cm)
    requests.post(f"{emulator.url}/_control/reset", timeout=5)
    add_partner(emulator)
    fresh = Cakemail(emulator, get_token(emulator)["access_token"])
    assert fresh.get(DKIM).json()["data"] == []
    assert _create(fresh)["id"] > key["id"]  # ids never repeat
