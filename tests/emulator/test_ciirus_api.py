"""The emulated Ciirus Partner API (emails/subaccount), over real HTTP, against the seeds."""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests

from emulator import EmulatorServer
from emulator.__main__ import parse_args

from .ciirus_helpers import (PASSWORD, SPF, USER, V2023, V2024, Ciirus, add_user, publish,
                             publish_subaccount_records, unpublish)

CREATE_FIELDS = [
    "user_id", "sending_domain", "subaccount_id", "dns_value", "dns_validation_status",
    "dkim_value", "dkim_validation_status", "spf_value", "spf_validation_status",
    "daily_send_limit", "approved", "reputation", "sent_monthly", "sent_weekly", "sent_total",
    "created_at", "first_sent_at", "error_message"]
UPDATE_FIELDS = [
    "user_id", "sending_domain", "subaccount_id", "dns_value", "dns_validation_status",
    "dkim_value", "dkim_validation_status", "spf_value", "spf_validation_status",
    "daily_send_limit", "approved"]
BODY = {"sending_domain": "mail.example.com", "daily_send_limit": 69, "approved": True}


@pytest.fixture
def user_id(emulator):
    return add_user(emulator)


@pytest.fixture
def ci(emulator, user_id):
    client = Ciirus(emulator)
    yield client
    client.session.close()


def _statuses(sub):
    return (sub["dns_validation_status"], sub["dkim_validation_status"],
            sub["spf_validation_status"])


# -- shapes ------------------------------------------------------------------------------------
def test_create_answer_matches_the_seed(ci, user_id):
    sub = ci.create(domain="Mail.Example.com")
    assert list(sub) == CREATE_FIELDS + ["mc_user_id"]
    assert sub["user_id"] == sub["mc_user_id"] == user_id
    assert sub["sending_domain"] == "mail.example.com"  # lower-cased
    assert sub["subaccount_id"] == f"subaccount-{user_id}-partner-api"
    assert re.fullmatch(r"mandrill_verify\.[A-Za-z0-9_-]{22}", sub["dns_value"])
    assert sub["dkim_value"].startswith("v=DKIM1; k=rsa; p=")
    base64.b64decode(sub["dkim_value"].split("p=", 1)[1], validate=True)
    assert sub["spf_value"] == SPF
    assert _statuses(sub) == (False, False, False)
    assert (sub["daily_send_limit"], sub["approved"], sub["reputation"]) == (69, True, 0)
    assert sub["sent_monthly"] == sub["sent_weekly"] == sub["sent_total"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?", sub["created_at"])
    assert sub["first_sent_at"] is None and sub["error_message"] is None


def test_versions_name_the_user_id_field(emulator, ci, user_id):
    ci.create()
    old = ci.get().json()
    new = Ciirus(emulator, V2024).get().json()
    assert list(old) == CREATE_FIELDS + ["mc_user_id"]
    assert list(new) == CREATE_FIELDS + ["management_company_user_id"]
    assert new["management_company_user_id"] == user_id
    assert {k: v for k, v in old.items() if k != "mc_user_id"} == \
        {k: v for k, v in new.items() if k != "management_company_user_id"}
    r = Ciirus(emulator, V2024).put(json={**BODY, "daily_send_limit": 5})
    assert list(r.json()) == UPDATE_FIELDS + ["management_company_user_id"]


def test_unknown_version_is_404(emulator, user_id):
    for version in ("v2022.01.01", "latest"):
        r = Ciirus(emulator, version).get()
        assert r.status_code == 404
        assert r.json()["error_message"].startswith("unknown API version")


# -- auth --------------------------------------------------------------------------------------
def test_basic_auth_failures(emulator, user_id):
    url = Ciirus(emulator).url
    for auth in (None, (USER, "wrong"), ("nobody", PASSWORD), (USER, "")):
        r = requests.get(url, auth=auth, timeout=5)
        assert r.status_code == 401, auth
        assert r.json() == {"error_message": "invalid credentials"}
        assert r.headers["WWW-Authenticate"] == 'Basic realm="ciirus"'
    r = requests.get(url, headers={"Authorization": "Bearer abc"}, timeout=5)
    assert r.status_code == 401


def test_user_upsert_changes_password_keeps_id(emulator, user_id):
    assert add_user(emulator, USER, "new-password") == user_id
    assert Ciirus(emulator).get().status_code == 401
    assert Ciirus(emulator, auth=(USER, "new-password")).get().status_code == 404
    for body in ({"username": USER}, {"username": "", "password": "x"},
                 {"username": "a:b", "password": "x"}, ["x"]):
        r = requests.post(f"{emulator.url}/_control/ciirus/users", json=body, timeout=5)
        assert r.status_code == 400 and r.json()["error"], body


# -- one sub-account per user ------------------------------------------------------------------
def test_second_post_answers_200_with_the_existing_subaccount(ci):
    first = ci.create()
    r = ci.post(json={"sending_domain": "other.example.org", "daily_send_limit": 1,
                      "approved": False})
    assert r.status_code == 200  # the seed's quirk: not a success despite the status
    again = r.json()
    assert again["error_message"] == "you already have an existing sub account."
    assert {k: v for k, v in again.items() if k != "error_message"} == \
        {k: v for k, v in first.items() if k != "error_message"}
    assert ci.get().json() == first


def test_each_user_has_its_own_subaccount(emulator, ci):
    other_id = add_user(emulator, "agent-7", "pw7")
    other = Ciirus(emulator, auth=("agent-7", "pw7"))
    assert other.get().status_code == 404
    sub = other.create(domain="seven.example.com")
    assert sub["subaccount_id"] == f"subaccount-{other_id}-partner-api"
    assert ci.get().status_code == 404
    assert ci.create()["sending_domain"] == "mail.example.com"


@pytest.mark.parametrize("change, message", [
    ({"sending_domain": None}, "sending_domain: Field required"),
    ({"daily_send_limit": None}, "daily_send_limit: Field required"),
    ({"approved": None}, "approved: Field required"),
    ({"sending_domain": 5}, "sending_domain: Input should be a valid string"),
    ({"sending_domain": "example.com."}, "sending_domain: must be a host name"),
    ({"sending_domain": "not a domain"}, "sending_domain: must be a host name"),
    ({"sending_domain": "localhost"}, "sending_domain: must be a host name"),
    ({"daily_send_limit": "10"}, "daily_send_limit: Input should be a valid integer"),
    ({"daily_send_limit": -1}, "daily_send_limit: Input should be greater than or equal to 0"),
    ({"daily_send_limit": True}, "daily_send_limit: Input should be a valid integer"),
    ({"approved": "true"}, "approved: Input should be a valid boolean"),
])
def test_body_validation(ci, change, message):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    for call in (ci.post, ci.put):
        r = call(json=body)
        assert r.status_code == 400, r.text
        assert r.json()["error_message"].startswith(message), r.json()


def test_non_json_body(ci):
    r = ci.post(data="sending_domain=x.com")
    assert r.status_code == 400 and r.json() == {"error_message": "body: must be a JSON object"}


# -- update / delete ---------------------------------------------------------------------------
def test_put_get_delete_and_404s(ci):
    for call in (ci.get, ci.delete, lambda: ci.put(json=BODY)):
        r = call()
        assert r.status_code == 404 and r.json() == {"error_message": "no sub account found."}
    sub = ci.create()
    r = ci.put(json={**BODY, "daily_send_limit": 420, "approved": False})
    assert r.status_code == 200
    updated = r.json()
    assert list(updated) == UPDATE_FIELDS + ["mc_user_id"]
    assert (updated["daily_send_limit"], updated["approved"]) == (420, False)
    assert (updated["dns_value"], updated["dkim_value"]) == (sub["dns_value"], sub["dkim_value"])
    assert ci.get().json()["created_at"] == sub["created_at"]
    r = ci.delete()
    assert r.status_code == 200
    assert r.json() == {"deleted": True, "subaccount_id": sub["subaccount_id"]}
    assert ci.get().status_code == 404 and ci.delete().status_code == 404
    assert ci.create()["dns_value"] != sub["dns_value"]  # a new sub-account, new keys


# -- validation through the DNS zone -----------------------------------------------------------
def test_records_validate_only_once_published_with_the_right_values(emulator, ci):
    sub = ci.create()
    domain = sub["sending_domain"]
    publish(emulator, domain, "mandrill_verify.wrong")
    publish(emulator, f"mandrill._domainkey.{domain}", "v=DKIM1; k=rsa; p=AAAA")
    publish(emulator, domain, "v=spf1 -all")
    publish(emulator, f"mandrill._domainkey.other.{domain}", sub["dkim_value"])  # wrong name
    assert _statuses(ci.get().json()) == (False, False, False)
    publish(emulator, domain, sub["dns_value"])
    assert _statuses(ci.get().json()) == (True, False, False)
    publish(emulator, f"MANDRILL._domainkey.{domain}.", sub["dkim_value"])
    assert _statuses(ci.get().json()) == (True, True, False)
    publish(emulator, domain, SPF)
    assert _statuses(ci.get().json()) == (True, True, True)
    assert _statuses(ci.put(json=BODY).json()) == (True, True, True)  # same domain: kept
    unpublish(emulator, domain, "TXT", sub["dns_value"])
    assert _statuses(ci.get().json()) == (False, True, True)


def test_domain_change_gets_new_values_and_starts_unverified(emulator, ci):
    sub = ci.create()
    publish_subaccount_records(emulator, sub)
    assert _statuses(ci.get().json()) == (True, True, True)
    moved = ci.put(json={**BODY, "sending_domain": "News.Example.org"}).json()
    assert moved["sending_domain"] == "news.example.org"
    assert moved["dns_value"] != sub["dns_value"] and moved["dkim_value"] != sub["dkim_value"]
    assert _statuses(moved) == (False, False, False)
    publish_subaccount_records(emulator, moved)
    assert _statuses(ci.get().json()) == (True, True, True)


def test_publish_dns_option_makes_the_demo_converge(db_path):
    with EmulatorServer(db_path, publish_dns=True) as emu:
        add_user(emu)
        client = Ciirus(emu)
        assert _statuses(client.create()) == (True, True, True)
        moved = client.put(json={**BODY, "sending_domain": "moved.example.com"}).json()
        assert _statuses(moved) == (True, True, True)
        names = {r["name"] for r in requests.get(f"{emu.url}/_control/dns/records",
                                                 timeout=5).json()["records"]}
        assert {"moved.example.com", "mandrill._domainkey.moved.example.com"} <= names
    assert parse_args(["--db", db_path, "--publish-dns"]).publish_dns is True
    assert parse_args(["--db", db_path]).publish_dns is False


# -- faults and the request log ----------------------------------------------------------------
def test_faults_use_the_ciirus_error_shape(emulator, ci):
    r = requests.post(f"{emulator.url}/_control/faults", timeout=5, json={
        "path": "^/ciirus/", "method": "POST", "status": 503, "retry_after": 3})
    assert r.status_code == 201
    r = ci.post(json=BODY)
    assert r.status_code == 503 and r.headers["Retry-After"] == "3"
    assert set(r.json()) == {"error_message"} and "injected fault" in r.json()["error_message"]
    assert ci.get().status_code == 404  # the faulted POST created nothing
    assert ci.post(json=BODY).status_code == 200


def test_request_log_never_holds_the_basic_credentials(emulator, ci):
    ci.create()
    requests.get(ci.url, auth=(USER, "wrong-pw"), timeout=5)
    log = requests.get(f"{emulator.url}/_control/requests?vendor=ciirus",
                       timeout=5).json()["requests"]
    assert [(e["method"], e["status"]) for e in log] == [("POST", 200), ("GET", 401)]
    assert log[0]["path"] == f"/ciirus/{V2023}/emails/subaccount"
    assert log[0]["body"] == BODY
    text = json.dumps(log)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for secret in (PASSWORD, "wrong-pw", token):
        assert secret not in text
