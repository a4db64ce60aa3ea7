"""The SendGrid client over real HTTP: subusers, credits, domains on behalf of a subuser, faults, secrets."""

from __future__ import annotations

import itertools
import logging
import os
import threading

import pytest
from pydantic import ValidationError

from providers.http import ApiError, OutcomeUnknownError, RetryPolicy
from providers.sendgrid import DEFAULT_API_URL, SendGridClient, SubuserExists, SubuserNotFound
from providers.sendgrid.client import without_secret
from providers.sendgrid.models import CreateDomain, CreateSubuser, CreditsRequest, PatchDomain

_ids = itertools.count(1)
PASSWORD = "Sub-user-Passw0rd-never-logged"
IPS = ["198.51.100.10"]


def _name(prefix: str) -> str:
    """Usernames are unique across SendGrid (and across this session's emulator)."""
    return f"{prefix}-{os.getpid()}-{next(_ids)}"


@pytest.fixture
def parent(control) -> dict:
    return control.post("/sendgrid/parents", {"username": _name("sg-parent")})


@pytest.fixture
def api(control, parent) -> SendGridClient:
    client = SendGridClient(control.url + "/sendgrid", parent["api_key"],
                            retry=RetryPolicy(max_attempts=3, base_delay=0.01, settle_window=0.3))
    client.http._sleep = lambda seconds: None
    return client


def _subuser(username: str, **extra) -> CreateSubuser:
    return CreateSubuser(username=username, email=f"{username}@customer.example", password=PASSWORD, ips=IPS, **extra)


def _methods(control, since: int) -> list[tuple[str, str]]:
    return [(r["method"], r["path"].removeprefix("/sendgrid")) for r in control.requests(since_id=since, vendor="sendgrid")]


def test_the_default_endpoint_is_the_vendors():
    assert DEFAULT_API_URL == "https://api.sendgrid.com"


# -- subusers ----------------------------------------------------------------------------------
def test_subuser_lifecycle(api):
    username = _name("life")
    created = api.create_subuser(_subuser(username))
    assert (created.username, created.email, created.disabled) == (username, f"{username}@customer.example", False)
    assert api.find_subuser(username) == created
    assert [s.username for s in api.list_subusers()] == [username]
    api.set_disabled(username, True)
    assert api.find_subuser(username).disabled is True
    api.set_disabled(username, True)  # an absolute value: repeating it is harmless
    assert api.set_ips(username, IPS + ["198.51.100.11"]) == IPS + ["198.51.100.11"]
    assert api.delete_subuser(username) is True
    assert api.find_subuser(username) is None and api.delete_subuser(username) is False
    with pytest.raises(SubuserNotFound, match=f"subuser '{username}' does not exist"):
        api.set_disabled(username, False)


def test_a_taken_username_is_never_adopted_by_create(api, control):
    username = _name("taken")
    first = api.create_subuser(_subuser(username))
    with pytest.raises(SubuserExists) as err:
        api.create_subuser(_subuser(username))
    assert err.value.existing == first and "as subuser id" in str(err.value)
    other = control.post("/sendgrid/parents", {"username": _name("sg-other")})
    elsewhere = SendGridClient(control.url + "/sendgrid", other["api_key"])
    with pytest.raises(SubuserExists) as err:  # usernames are unique across SendGrid
        elsewhere.create_subuser(_subuser(username))
    assert err.value.existing is None and "outside this account" in str(err.value)


def test_the_username_search_is_matched_exactly_and_listings_walk_every_page(api, control):
    stem = _name("page")
    names = [stem, *(f"{stem}{i}" for i in range(4))]  # the first is a prefix of the others
    for name in names:
        api.create_subuser(_subuser(name))
    before = control.last_request_id()
    assert api.find_subuser(stem).username == stem
    assert [s.username for s in api.iter_subusers(page_size=2)] == names
    offsets = [r["query"] for r in control.requests(since_id=before, vendor="sendgrid")][1:]
    assert [(q["limit"], q["offset"]) for q in offsets] == [("2", "0"), ("2", "2"), ("2", "4")]


def test_refresh_reads_of_a_subuser_share_one_listing_until_a_write(api, control):
    username = _name("shared")
    api.create_subuser(_subuser(username))
    before = control.last_request_id()
    assert api.find_subuser_shared(username, "SubAccount").username == username
    assert api.find_subuser_shared(username, "AccountFeatures").username == username
    assert len(_methods(control, before)) == 1
    api.set_disabled(username, True)  # a write drops the shared answer
    assert api.find_subuser_shared(username, "SubAccount").disabled is True


# -- credits -----------------------------------------------------------------------------------
def test_credits(api):
    username = _name("credits")
    api.create_subuser(_subuser(username))
    assert api.get_credits(username).type == "unlimited"
    recurring = api.set_credits(username, CreditsRequest(type="recurring", total=1000, reset_frequency="monthly"))
    assert (recurring.type, recurring.total, recurring.remain, recurring.used) == ("recurring", 1000, 1000, 0)
    once = api.set_credits(username, CreditsRequest(type="nonrecurring", total=50))
    assert (once.remain, once.total) == (50, None)  # the spec: nonrecurring reads back as what remains
    assert api.get_credits(username) == once
    assert api.get_credits("nobody-" + username) is None
    with pytest.raises(SubuserNotFound):
        api.set_credits("nobody-" + username, CreditsRequest(type="unlimited"))


@pytest.mark.parametrize("fields", [
    {"type": "recurring", "total": 5}, {"type": "recurring", "reset_frequency": "daily"},
    {"type": "nonrecurring"}, {"type": "unlimited", "total": 5}, {"type": "monthly"},
    {"type": "nonrecurring", "total": 0}, {"type": "nonrecurring", "total": "5"},
])
def test_bad_credits_are_refused_before_any_request(fields):
    with pytest.raises(ValidationError):
        CreditsRequest(**fields)


def test_the_vendors_error_is_one_api_error_naming_its_field(api):
    username = _name("errors")
    api.create_subuser(_subuser(username))
    with pytest.raises(ApiError) as err:  # bypass the model's checks to see the vendor's answer
        api.http.request("PUT", f"/v3/subusers/{username}/credits", json={"type": "weekly"})
    assert str(err.value) == (f"sendgrid PUT /v3/subusers/{username}/credits failed (HTTP 400): "
                              "type: Type should be set to 'recurring', 'nonrecurring', or 'unlimited'")
    assert (err.value.vendor, err.value.status) == ("sendgrid", 400)


def test_a_bad_key_is_a_clear_error(control):
    bad = SendGridClient(control.url + "/sendgrid", "SG.not-a.key")
    with pytest.raises(ApiError) as err:
        bad.list_subusers()
    assert err.value.status == 401
    assert err.value.vendor_message == "The provided authorization grant is invalid, expired, or revoked"
    assert "SG.not-a.key" not in repr(bad.http.authenticator)


# -- domains on behalf of a subuser ------------------------------------------------------------
def test_domain_lifecycle_on_behalf_of_a_subuser(api, control):
    username = _name("domains")
    api.create_subuser(_subuser(username))
    domain = api.create_domain(CreateDomain(domain="Mail.Customer.Example", subdomain="em"), on_behalf_of=username)
    assert (domain.username, domain.domain, domain.valid) == (username, "mail.customer.example", False)
    assert [(r["key"], r["type"], r["name"]) for r in domain.records()] == [
        ("mail_cname", "CNAME", "em.mail.customer.example"),
        ("dkim1", "CNAME", "s1._domainkey.mail.customer.example"),
        ("dkim2", "CNAME", "s2._domainkey.mail.customer.example")]
    assert api.find_domains("mail.customer.example", username) == [domain]
    assert api.find_domains("mail.customer.example") == []  # not the parent's own
    assert api.get_domain(domain.id) is None  # nor the parent's to read
    failed = api.validate_domain(domain.id, username)
    assert failed.valid is False and set(failed.reasons()) == {"mail_cname", "dkim1", "dkim2"}
    for record in domain.records():
        control.publish(record)
    assert api.validate_domain(domain.id, username).valid is True
    assert api.get_domain(domain.id, username).valid is True
    assert api.update_domain(domain.id, PatchDomain(default=True), username).default is True
    assert api.delete_domain(domain.id, username) is True
    assert api.get_domain(domain.id, username) is None and api.delete_domain(domain.id, username) is False


def test_a_patch_answer_is_taken_as_the_spec_declares_it_or_as_the_object(api, monkeypatch):
    username = _name("patched")
    api.create_subuser(_subuser(username))
    domain = api.create_domain(CreateDomain(domain="patched.example"), on_behalf_of=username)
    raw = api.http.request("PATCH", f"/v3/whitelabel/domains/{domain.id}", json={"default": False},
                           auth_scope=username)
    assert isinstance(raw, list) and raw[0]["id"] == domain.id  # the spec's array
    assert api.update_domain(domain.id, PatchDomain(default=True), username).default is True
    real = api.http.request
    monkeypatch.setattr(api.http, "request", lambda *a, **k: (lambda r: r[0] if isinstance(r, list) else r)(real(*a, **k)))
    assert api.update_domain(domain.id, PatchDomain(default=False), username).default is False  # a bare object too


def test_threads_sharing_a_key_keep_to_a_tight_limit_without_a_429(control, parent):
    """Over real HTTP: two clients of one key (one pacer), six threads, 3 requests a window: the
    emulator's log shows the window spent again and again, and never a request while it was."""
    control.rate_limit("sendgrid", parent["username"], limit=3, period_seconds=1)
    clients = [SendGridClient(control.url + "/sendgrid", parent["api_key"], retry=RetryPolicy(max_attempts=1))
               for _ in range(2)]
    before = control.last_request_id()
    failures: list[Exception] = []

    def reads(client: SendGridClient) -> None:
        try:
            for _ in range(2):
                client.list_subusers()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=reads, args=(clients[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    log = control.requests(since_id=before, vendor="sendgrid")
    assert not failures and len(log) == 12
    assert {e["status"] for e in log} == {200}  # not one 429: nothing sent while a window was spent
    assert sum(e["rate_limit"]["remaining"] == 0 for e in log) >= 3  # the limit was reached in 3 windows or more


def test_a_domain_whose_subuser_is_gone_reads_as_gone(api):
    username = _name("orphan")
    api.create_subuser(_subuser(username))
    domain = api.create_domain(CreateDomain(domain="orphan.example"), on_behalf_of=username)
    api.delete_subuser(username)
    assert api.get_domain(domain.id, username) is None
    assert api.delete_domain(domain.id, username) is False
    with pytest.raises(SubuserNotFound, match="named by on-behalf-of"):
        api.create_domain(CreateDomain(domain="orphan.example"), on_behalf_of=username)


def test_manual_security_records(api):
    username = _name("manual")
    api.create_subuser(_subuser(username))
    domain = api.create_domain(CreateDomain(domain="manual.example", automatic_security=False), on_behalf_of=username)
    assert [(r["key"], r["type"]) for r in domain.records()] == [
        ("mail_server", "MX"), ("subdomain_spf", "TXT"), ("domain_spf", "TXT"), ("dkim", "TXT")]
    with pytest.raises(ValidationError, match="automatic_security false"):
        CreateDomain(domain="x.example", custom_spf=True)


# -- faults ------------------------------------------------------------------------------------
def test_a_429_waits_as_long_as_retry_after_says(api, control):
    waits: list[float] = []
    api.http._sleep = waits.append
    control.fault(r"^/sendgrid/v3/subusers$", method="GET", status=429, retry_after=2)
    assert api.list_subusers() == []
    assert len(waits) == 1 and waits[0] >= 2


def test_a_dropped_connection_during_a_create_does_not_duplicate_the_subuser(api, control):
    username = _name("dropped")
    control.fault(r"^/sendgrid/v3/subusers$", method="POST", drop=True, after_processing=True)
    before = control.last_request_id()
    created = api.create_subuser(_subuser(username))
    assert [s.username for s in api.list_subusers()] == [username] and created.username == username
    assert [m for m in _methods(control, before) if m[0] == "POST"] == [("POST", "/v3/subusers")]


def test_a_5xx_on_create_is_checked_then_resent_only_if_nothing_landed(api, control):
    landed, refused = _name("landed"), _name("refused")
    control.fault(r"^/sendgrid/v3/subusers$", method="POST", status=500, after_processing=True)
    api.create_subuser(_subuser(landed))  # applied, answer replaced by a 500: found, not re-sent
    control.fault(r"^/sendgrid/v3/subusers$", method="POST", status=503)
    api.create_subuser(_subuser(refused))  # refused before acting: nothing found, so sent again
    assert sorted(s.username for s in api.list_subusers()) == sorted([landed, refused])


def test_a_persistent_5xx_fails_with_the_vendors_words(api, control):
    control.fault(r"^/sendgrid/v3/subusers$", method="GET", status=503, count=5)
    with pytest.raises(ApiError) as err:
        api.list_subusers()
    assert err.value.status == 503 and "Service Unavailable (injected fault #" in str(err.value)


def test_a_domain_create_that_lost_its_answer_is_found_not_duplicated(api, control):
    username = _name("domain-drop")
    api.create_subuser(_subuser(username))
    older = api.create_domain(CreateDomain(domain="twice.example"), on_behalf_of=username)  # same name, before
    control.fault(r"^/sendgrid/v3/whitelabel/domains$", method="POST", drop=True, after_processing=True)
    made = api.create_domain(CreateDomain(domain="twice.example"), on_behalf_of=username)
    assert made.id != older.id  # the older one is never taken for the new one
    assert [d.id for d in api.find_domains("twice.example", username)] == [older.id, made.id]
    # lost before it landed: neither older domain is taken for it, and it is not sent blindly again
    control.fault(r"^/sendgrid/v3/whitelabel/domains$", method="POST", drop=True)
    with pytest.raises(OutcomeUnknownError):
        api.create_domain(CreateDomain(domain="twice.example"), on_behalf_of=username)
    assert [d.id for d in api.find_domains("twice.example", username)] == [older.id, made.id]


def test_a_create_lost_before_it_landed_is_not_resent_and_the_next_one_makes_it(api, control):
    username = _name("lost")
    control.fault(r"^/sendgrid/v3/subusers$", method="POST", drop=True)
    with pytest.raises(OutcomeUnknownError, match="not sent again"):
        api.create_subuser(_subuser(username))
    assert api.find_subuser(username) is None
    assert api.create_subuser(_subuser(username)).username == username


# -- the password is a secret ------------------------------------------------------------------
def test_the_password_is_never_in_logs_errors_or_the_request_log(api, control, caplog):
    caplog.set_level(logging.DEBUG)
    username = _name("secret")
    body = _subuser(username)
    assert PASSWORD not in repr(body) and PASSWORD not in str(body.model_dump())
    control.fault(r"^/sendgrid/v3/subusers$", method="POST", status=500, count=3)
    with pytest.raises(ApiError) as err:  # 500s that did not land: checked, re-sent, then given up
        api.create_subuser(body)
    assert PASSWORD not in str(err.value)
    api.create_subuser(body)
    with pytest.raises(ApiError) as err:  # a refused create (bad e-mail) keeps the vendor's words, not the password
        api.create_subuser(CreateSubuser(username=_name("bad"), email="not-an-email", password=PASSWORD, ips=IPS))
    assert "email" in str(err.value) and PASSWORD not in str(err.value)
    assert PASSWORD not in caplog.text
    posts = [r for r in control.requests(vendor="sendgrid")
             if r["method"] == "POST" and r["path"] == "/sendgrid/v3/subusers" and r["body"]]
    assert posts and all(r["body"]["password"] == "***" for r in posts)
    assert PASSWORD not in str(control.requests(vendor="sendgrid"))
    # and should a vendor ever echo it, the client cuts it out of the message
    echoed = ApiError("sendgrid", "POST", "/v3/subusers", 400, f"password {PASSWORD} is too weak")
    assert str(without_secret(echoed, PASSWORD)) == \
        "sendgrid POST /v3/subusers failed (HTTP 400): password [secret] is too weak"
