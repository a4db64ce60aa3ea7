"""The emulated SendGrid v3 API over real HTTP, against the vendor's OpenAPI documents: subusers, credits,
IPs, authentication, errors and the core's services, with the official `sendgrid` library as an independent
client (domain authentication: test_sendgrid_domains.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import sendgrid
from python_http_client.exceptions import HTTPError

from emulator import EmulatorServer

from .sendgrid_helpers import (PARENT_IPS, PASSWORD, SendGrid, add_key, add_parent, errors, parent,  # noqa: F401 (fixtures)
                               publish_records, schema, sg)


def official(emulator, api_key, subuser=None) -> sendgrid.SendGridAPIClient:
    """The vendor's own Python library, pointed at the emulator."""
    return sendgrid.SendGridAPIClient(api_key=api_key, host=f"{emulator.url}/sendgrid", impersonate_subuser=subuser)


# -- the official library as a client ----------------------------------------------------------
def test_the_official_library_drives_subusers_credits_and_a_domain(emulator, parent):
    api = official(emulator, parent["api_key"])
    created = api.client.subusers.post(request_body={
        "username": "acme", "email": "ops@acme.example", "password": PASSWORD, "ips": PARENT_IPS[:1]})
    assert created.status_code == 200
    assert json.loads(created.body) == {"username": "acme", "user_id": json.loads(created.body)["user_id"],
                                        "email": "ops@acme.example", "credit_allocation": {"type": "unlimited"}}
    listed = api.client.subusers.get(query_params={"username": "acme", "limit": 10, "offset": 0})
    assert [s["username"] for s in json.loads(listed.body)] == ["acme"]

    assert api.client.subusers._("acme").patch(request_body={"disabled": True}).status_code == 204
    [entry] = json.loads(api.client.subusers.get(query_params={"username": "acme"}).body)
    assert entry["disabled"] is True

    credits = api.client.subusers._("acme").credits.put(
        request_body={"type": "recurring", "total": 5000, "reset_frequency": "weekly"})
    assert json.loads(credits.body) == {"type": "recurring", "reset_frequency": "weekly", "remain": 5000,
                                        "total": 5000, "used": 0}
    assert json.loads(api.client.subusers._("acme").credits.get().body)["total"] == 5000

    as_acme = official(emulator, parent["api_key"], subuser="acme")  # sends On-Behalf-Of: acme
    domain = json.loads(as_acme.client.whitelabel.domains.post(request_body={"domain": "acme.example"}).body)
    assert (domain["username"], domain["valid"]) == ("acme", False)
    failed = json.loads(as_acme.client.whitelabel.domains._(domain["id"]).validate.post().body)
    assert failed["valid"] is False and failed["validation_results"]["mail_cname"]["reason"]
    publish_records(emulator, domain)
    passed = json.loads(as_acme.client.whitelabel.domains._(domain["id"]).validate.post().body)
    assert passed == {"id": domain["id"], "valid": True, "validation_results": {
        key: {"valid": True, "reason": None} for key in ("mail_cname", "dkim1", "dkim2")}}
    assert json.loads(as_acme.client.whitelabel.domains._(domain["id"]).get().body)["valid"] is True
    with pytest.raises(HTTPError) as err:  # the subuser's domain is not the parent's to read by id
        api.client.whitelabel.domains._(domain["id"]).get()
    assert err.value.status_code == 404

    assert as_acme.client.whitelabel.domains._(domain["id"]).delete().status_code == 204
    assert api.client.subusers._("acme").delete().status_code == 204
    assert json.loads(api.client.subusers.get().body) == []


def test_the_official_library_sees_the_vendors_errors(emulator, parent):
    api = official(emulator, parent["api_key"])
    with pytest.raises(HTTPError) as err:
        official(emulator, "SG.not-a-key.at-all").client.subusers.get()
    assert err.value.status_code == 401
    assert json.loads(err.value.body) == {"errors": [{
        "field": None, "message": "The provided authorization grant is invalid, expired, or revoked"}]}
    with pytest.raises(HTTPError) as err:
        api.client.subusers._("nobody").credits.get()
    assert (err.value.status_code, json.loads(err.value.body)) == (
        400, {"errors": [{"field": None, "message": "No user found"}]})


# -- shapes, against the spec ------------------------------------------------------------------
def test_subuser_shapes_follow_the_spec(sg):
    created = sg.create_subuser("shape", region="eu", include_region=True)
    post_schema = schema("tsg_subusers_v3", "components", "schemas", "SubuserPost")
    assert set(post_schema["required"]) <= set(created) <= set(post_schema["properties"])
    assert created["region"] == "eu"
    [item] = sg.get("/v3/subusers").json()
    assert list(item) == ["disabled", "email", "id", "username"]  # the example's order, no region
    assert sg.get("/v3/subusers", params={"include_region": "true"}).json()[0]["region"] == "eu"
    assert sg.get("/v3/subusers", params={"region": "global"}).json() == []


# -- listing and pagination --------------------------------------------------------------------
def test_subuser_list_filters_and_pages(sg):
    for name in ("page-a", "page-b", "page-c", "other"):
        sg.create_subuser(name)
    names = lambda **p: [s["username"] for s in sg.get("/v3/subusers", params=p).json()]  # noqa: E731
    assert names() == ["page-a", "page-b", "page-c", "other"]
    assert names(username="page") == ["page-a", "page-b", "page-c"]  # a prefix search, not an exact match
    assert names(limit=2) == ["page-a", "page-b"] and names(limit=2, offset=2) == ["page-c", "other"]
    assert names(limit=2, offset=4) == []
    for bad in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"limit": "501"}):
        r = sg.get("/v3/subusers", params=bad)
        assert r.status_code == 400 and errors(r)[0]["field"] == next(iter(bad)), bad


# -- authentication ----------------------------------------------------------------------------
def test_keys_are_checked_as_the_api_does(emulator, sg, parent):
    url = f"{emulator.url}/sendgrid/v3/subusers"
    for headers in ({}, {"Authorization": f"Basic {parent['api_key']}"}, {"Authorization": "Bearer "}):
        r = requests.get(url, headers=headers, timeout=5)
        assert (r.status_code, errors(r)) == (401, [{"field": None, "message": "authorization required"}])
    r = requests.get(url, headers={"Authorization": "Bearer SG.unknown.key"}, timeout=5)
    assert r.status_code == 401 and "invalid, expired, or revoked" in errors(r)[0]["message"]


def test_a_key_that_is_not_a_parents_is_refused(emulator, sg, parent):
    sg.create_subuser("keyholder")
    own = SendGrid(emulator, add_key(emulator, "keyholder"))
    for method, path in (("get", "/v3/subusers"), ("post", "/v3/subusers"), ("delete", "/v3/subusers/keyholder"),
                         ("get", "/v3/subusers/keyholder/credits")):
        r = getattr(own, method)(path, json={})
        assert (r.status_code, errors(r)[0]["message"]) == (403, "you dont have permission to access this resource")
    # with its own key a subuser manages its own domains, but may not act on behalf of anyone
    domain = own.create_domain("own.example")
    assert domain["username"] == "keyholder"
    assert SendGrid(emulator, parent["api_key"], "keyholder").get(f"/v3/whitelabel/domains/{domain['id']}").ok
    r = SendGrid(emulator, add_key(emulator, "keyholder"), "keyholder").get("/v3/whitelabel/domains")
    assert r.status_code == 403


def test_on_behalf_of_names_only_the_parents_own_subusers(emulator, sg, parent):
    other = add_parent(emulator, "parent-two")
    SendGrid(emulator, other["api_key"]).create_subuser("theirs")
    sg.create_subuser("mine")
    for name in ("theirs", "ghost"):
        r = SendGrid(emulator, parent["api_key"], name).get("/v3/whitelabel/domains")
        assert (r.status_code, errors(r)[0]["message"]) == (401, "authorization required")
    r = SendGrid(emulator, parent["api_key"], "mine").get("/v3/subusers")  # a subuser has no subusers
    assert r.status_code == 403
    assert SendGrid(emulator, parent["api_key"], "account-id 42").get("/v3/whitelabel/domains").status_code == 403
    # and another parent cannot reach this parent's subuser through the subuser routes either
    r = SendGrid(emulator, other["api_key"]).delete("/v3/subusers/mine")
    assert r.status_code == 404 and [s["username"] for s in sg.get("/v3/subusers").json()] == ["mine"]


# -- errors --------------------------------------------------------------------------------------
def test_create_errors_name_every_bad_field_and_never_the_password(sg):
    r = sg.post("/v3/subusers", json={"username": "bad name!", "email": "nope", "password": "short-pw"[:5],
                                      "ips": ["1.2.3"], "region": "mars"})
    assert r.status_code == 400
    assert [e["field"] for e in errors(r)] == ["username", "email", "password", "ips", "region"]
    assert "short" not in r.text
    r = sg.post("/v3/subusers", json={})
    assert [(e["field"], e["message"]) for e in errors(r)] == [
        ("username", "username is required"), ("email", "email is required"),
        ("password", "password is required"), ("ips", "ips is required")]
    assert errors(sg.post("/v3/subusers", data="not json"))[0] == {
        "field": None, "message": "request body must be a JSON object"}
    r = sg.post("/v3/subusers", json={"username": "ipless", "email": "a@b.example", "password": PASSWORD,
                                      "ips": ["203.0.113.9"]})
    assert (r.status_code, errors(r)[0]["field"]) == (400, "ips")


def test_usernames_are_unique_across_the_service(emulator, sg):
    sg.create_subuser("taken")
    r = sg.post("/v3/subusers", json={"username": "taken", "email": "x@y.example", "password": PASSWORD,
                                      "ips": PARENT_IPS[:1]})
    assert (r.status_code, errors(r)) == (400, [{"field": "username", "message": "username exists"}])
    other = SendGrid(emulator, add_parent(emulator, "parent-three")["api_key"])
    assert other.post("/v3/subusers", json={"username": "taken", "email": "x@y.example", "password": PASSWORD,
                                            "ips": PARENT_IPS[:1]}).status_code == 400


def test_patch_delete_and_ips_of_subusers(sg):
    sg.create_subuser("patched")
    assert errors(sg.patch("/v3/subusers/patched", json={})) == [{"field": None, "message": "no fields provided"}]
    r = sg.patch("/v3/subusers/patched", json={"disabled": "yes"})
    assert (r.status_code, errors(r)[0]["field"]) == (400, "disabled")
    assert errors(sg.patch("/v3/subusers/ghost", json={"disabled": True})) == [
        {"field": None, "message": "invalid username"}]
    assert sg.patch("/v3/subusers/patched", json={"disabled": False}).status_code == 204
    r = sg.put("/v3/subusers/patched/ips", json=PARENT_IPS)
    assert (r.status_code, r.json()) == (200, {"ips": PARENT_IPS})
    assert sg.put("/v3/subusers/patched/ips", json=["203.0.113.9"]).status_code == 400
    assert sg.put("/v3/subusers/patched/ips", json={"ips": PARENT_IPS}).status_code == 400
    assert sg.put("/v3/subusers/ghost/ips", json=PARENT_IPS).status_code == 404
    r = sg.delete("/v3/subusers/patched")
    assert (r.status_code, r.content) == (204, b"")
    assert (sg.delete("/v3/subusers/patched").status_code, errors(sg.delete("/v3/subusers/patched"))) == (
        404, [{"field": None, "message": "resource not found"}])


@pytest.mark.parametrize("body, expected", [
    ({"type": "unlimited"}, {"type": "unlimited", "reset_frequency": None, "remain": None, "total": None, "used": None}),
    ({"type": "recurring", "total": 100, "reset_frequency": "daily"},
     {"type": "recurring", "reset_frequency": "daily", "remain": 100, "total": 100, "used": 0}),
    ({"type": "nonrecurring", "total": 250},  # the spec: only `remain` for nonrecurring
     {"type": "nonrecurring", "reset_frequency": None, "remain": 250, "total": None, "used": None}),
])
def test_credits_of_each_type(emulator, sg, body, expected):
    sg.create_subuser("credited")
    assert sg.get("/v3/subusers/credited/credits").json()["type"] == "unlimited"  # a new subuser's
    r = sg.put("/v3/subusers/credited/credits", json=body)
    assert (r.status_code, r.json()) == (200, expected)
    assert sg.get("/v3/subusers/credited/credits").json() == expected
    if body["type"] == "recurring":  # what was sent shows as used and lowers what remains
        requests.post(f"{emulator.url}/_control/sendgrid/subusers/credited/credits", json={"used": 30}, timeout=5)
        assert sg.get("/v3/subusers/credited/credits").json() == {**expected, "remain": 70, "used": 30}


@pytest.mark.parametrize("body, field", [
    ({"type": "monthly"}, "type"), ({}, "type"), ({"type": 3}, "type"),
    ({"type": "recurring", "total": 10}, "reset_frequency"),
    ({"type": "recurring", "reset_frequency": "monthly"}, "total"),
    ({"type": "recurring", "total": 10, "reset_frequency": "yearly"}, "reset_frequency"),
    ({"type": "nonrecurring"}, "total"), ({"type": "nonrecurring", "total": 0}, "total"),
    ({"type": "nonrecurring", "total": 5, "reset_frequency": "daily"}, "reset_frequency"),
    ({"type": "unlimited", "total": 5}, "total"), ({"type": "recurring", "total": "10", "reset_frequency": "daily"}, "total"),
])
def test_credit_requests_are_validated_as_the_spec_says(sg, body, field):
    sg.create_subuser("strict")
    r = sg.put("/v3/subusers/strict/credits", json=body)
    assert (r.status_code, errors(r)[0]["field"]) == (400, field)
    if field == "type" and isinstance(body.get("type"), str):
        assert errors(r)[0]["message"] == "Type should be set to 'recurring', 'nonrecurring', or 'unlimited'"
    assert sg.get("/v3/subusers/strict/credits").json()["type"] == "unlimited"  # nothing changed


# -- the core's services: faults, the request log, reset, persistence ---------------------------
def test_faults_come_in_the_vendors_shape(emulator, sg):
    requests.post(f"{emulator.url}/_control/faults", timeout=5, json={
        "path": "^/sendgrid/v3/subusers$", "method": "POST", "status": 429, "retry_after": 3})
    r = sg.post("/v3/subusers", json={})
    assert (r.status_code, r.headers["Retry-After"]) == (429, "3")
    assert errors(r)[0]["field"] is None and errors(r)[0]["message"].startswith("Too Many Requests (injected fault #")
    requests.post(f"{emulator.url}/_control/faults", timeout=5, json={
        "path": "^/sendgrid/v3/subusers$", "method": "POST", "drop": True, "after_processing": True})
    with pytest.raises(requests.ConnectionError):
        sg.create_subuser("landed")
    assert [s["username"] for s in sg.get("/v3/subusers").json()] == ["landed"]  # it was made all the same


def test_the_official_library_sees_faults_as_the_real_service_would_send_them(emulator, parent):
    requests.post(f"{emulator.url}/_control/faults", timeout=5, json={
        "path": "^/sendgrid/v3/whitelabel/domains$", "method": "GET", "status": 503, "latency_ms": 50})
    with pytest.raises(HTTPError) as err:
        official(emulator, parent["api_key"]).client.whitelabel.domains.get()
    assert err.value.status_code == 503 and json.loads(err.value.body)["errors"][0]["field"] is None
    assert json.loads(official(emulator, parent["api_key"]).client.whitelabel.domains.get().body) == []


def test_the_request_log_masks_the_password_and_keeps_no_key(emulator, sg, parent):
    sg.create_subuser("logged")
    log = requests.get(f"{emulator.url}/_control/requests", params={"vendor": "sendgrid"}, timeout=5).json()
    [entry] = log["requests"]
    assert entry["body"]["password"] == "***" and entry["body"]["username"] == "logged"
    assert PASSWORD not in json.dumps(log) and parent["api_key"] not in json.dumps(log)


def test_reset_wipes_sendgrid_and_a_restart_keeps_it(emulator, db_path, sg, parent):
    sg.create_subuser("durable")
    emulator.stop()
    with EmulatorServer(db_path) as again:
        client = SendGrid(again, parent["api_key"])
        assert [s["username"] for s in client.get("/v3/subusers").json()] == ["durable"]
        assert requests.post(f"{again.url}/_control/reset", timeout=5).json() == {"reset": True}
        assert client.get("/v3/subusers").status_code == 401  # the keys went with everything else
    emulator.start()


def test_the_demo_key_is_a_parents(tmp_path):
    from emulator import VENDORS, demo
    from emulator.core.store import Store

    store = Store(str(tmp_path / "demo.sqlite"), VENDORS)
    demo.seed(store)
    demo.seed(store)  # idempotent
    store.close()
    with EmulatorServer(str(tmp_path / "demo.sqlite")) as server:
        assert SendGrid(server, demo.SENDGRID_API_KEY).get("/v3/subusers").json() == []
    readme = (Path(__file__).resolve().parents[2] / "emulator" / "README.md").read_text()
    assert demo.SENDGRID_API_KEY in readme and f"`{demo.SENDGRID_PARENT}`" in readme  # documented as it is


