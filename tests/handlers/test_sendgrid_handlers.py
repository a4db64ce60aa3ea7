"""SendGrid's description and handlers against the emulator over real HTTP, without the engine:
discovery, adoption by id (no write), check-credentials, the bulk read for fleet drift, the changes
refused at check; and the clone rules (a username is rewritten like an owner's e-mail)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from operations.customers.clone import rewrite_declaration
from operations.project.environments import load_environment
from operations.project.writer import with_copied_secrets
from providers.handlers.base import CannotAdopt, handler_of
from providers.http import RetryPolicy
from providers.platforms import describe
from providers.platforms.credentials import check_credentials
from providers.platforms.settings import read_settings
from providers.sendgrid import SendGridClient
from providers.sendgrid.models import CreateDomain, CreateSubuser, CreditsRequest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Handler-Passw0rd-never-shown"
_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_ids)}"


@pytest.fixture
def parent(control) -> dict:
    made = control.post("/sendgrid/parents", {"username": unique("h-parent")})
    config = {"sendgrid:apiUrl": control.url + "/sendgrid", "sendgrid:parentUsername": made["username"],
              "sendgrid:apiKey": made["api_key"]}
    api = SendGridClient(config["sendgrid:apiUrl"], made["api_key"], retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    return {**made, "config": config, "api": api}


def writes(control, since: int) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in control.requests(since_id=since, vendor="sendgrid") if r["method"] != "GET"]


def test_discovered_subusers_are_adopted_by_id_without_a_write(parent, control):
    api, config = parent["api"], parent["config"]
    bakery, cafe = unique("bakery"), unique("cafe")
    api.create_subuser(CreateSubuser(username=bakery, email=f"ops@{bakery}.example", password=PASSWORD,
                                     ips=parent["ips"][:1]))
    api.create_subuser(CreateSubuser(username=cafe, email=f"ops@{cafe}.example", password=PASSWORD,
                                     ips=parent["ips"][:1]))
    api.set_disabled(cafe, True)
    api.set_credits(bakery, CreditsRequest(type="nonrecurring", total=500))
    domain = api.create_domain(CreateDomain(domain=f"news.{cafe}.example", subdomain="mail"), on_behalf_of=cafe)

    platform = describe("sendgrid")
    found = {d.account_id: d for d in platform.discovery.read(api, read_settings(platform, config), 50,
                                                                ("type", "limit", "reset_frequency"))}
    assert set(found) == {bakery, cafe}
    assert found[bakery].declaration["features"] == {"type": "nonrecurring", "limit": 500}
    assert "only what remains" in found[bakery].notes[0]
    assert found[cafe].declaration["account"] == {"adopt_account_id": cafe, "username": cafe,
                                                  "email": f"ops@{cafe}.example", "suspended": True}
    assert found[cafe].declaration["sending_domains"] == [
        {"domain": f"news.{cafe}.example", "subdomain": "mail", "adopt_domain_id": str(domain.id)}]

    sub_account, sending_domain = handler_of("sendgrid", "SubAccount"), handler_of("sendgrid", "SendingDomain")
    before = control.last_request_id()
    args = sub_account.Args.model_validate({"platform": "sendgrid", **found[cafe].declaration["account"]})
    account_id, state = sub_account(config).create(args, None)
    assert (account_id, state.status) == (cafe, "disabled")
    spec = found[cafe].declaration["sending_domains"][0]
    domain_id, recorded = sending_domain(config).create(
        sending_domain.Args.model_validate({"platform": "sendgrid", "account_id": cafe, **spec}), None)
    assert domain_id == str(domain.id) and len(recorded.records) == 3
    assert writes(control, before) == [], "adopting wrote to SendGrid"

    wrong = sub_account.Args.model_validate({**args.model_dump(), "email": "someone@else.example"})
    with pytest.raises(CannotAdopt, match="email: declared 'someone@else.example', live"):
        sub_account(config).create(wrong, None)
    with pytest.raises(CannotAdopt, match="SendGrid cannot show a subuser's IPs"):
        sub_account(config).create(sub_account.Args.model_validate({**args.model_dump(), "ips": parent["ips"][:1]}),
                                   None)
    nobody = unique("nobody")
    with pytest.raises(CannotAdopt, match="no subuser of that username"):
        sub_account(config).create(sub_account.Args.model_validate(
            {"platform": "sendgrid", "username": nobody, "adopt_account_id": nobody}), None)
    assert writes(control, before) == []


def test_check_credentials_and_the_bulk_read_for_fleet_drift(parent, control):
    api, config = parent["api"], parent["config"]
    username = unique("primed")
    api.create_subuser(CreateSubuser(username=username, email=f"ops@{username}.example", password=PASSWORD,
                                     ips=parent["ips"][:1]))
    accepted, line = check_credentials("sendgrid", config)
    assert accepted and line == f"sendgrid:parentUsername {parent['username']} accepted by {config['sendgrid:apiUrl']}"
    subuser_key = control.post("/sendgrid/api_keys", {"username": username})["api_key"]
    refused, line = check_credentials("sendgrid", {**config, "sendgrid:apiKey": subuser_key})
    assert not refused and subuser_key not in line

    assert describe("sendgrid").prime_reads(api, 60.0) == 1
    before = control.last_request_id()
    assert api.find_subuser_shared(username, "SubAccount").email == f"ops@{username}.example"
    assert control.requests(since_id=before, vendor="sendgrid") == []


def test_what_sendgrid_cannot_change_is_refused_at_check():
    handler = handler_of("sendgrid", "SubAccount")
    olds = {"platform": "sendgrid", "username": "acme", "email": "a@acme.example", "password": PASSWORD,
            "ips": ["198.51.100.10"]}
    args = lambda **changes: handler.Args.model_validate({**olds, **changes})  # noqa: E731
    recorded = handler.Recorded.model_validate(olds)
    assert handler.refuse_changes(recorded, args()) == []
    assert handler.refuse_changes(recorded, args(password=None)) == []  # not needed once the subuser exists
    [(field, reason)] = handler.refuse_changes(recorded, args(password="Another-Passw0rd"))
    assert field == "" and reason.startswith("password: SendGrid's API cannot change") and "Another" not in reason
    [(field, _)] = handler.refuse_changes(recorded, args(email="b@acme.example"))
    assert field == "email"
    assert handler.refuse_changes(recorded, args(username="acme2", password="Another-Passw0rd")) == []  # a new subuser
    [(field, reason)] = handler.refuse_changes(None, args(password=None))
    assert reason.startswith("password: required to create a SendGrid subuser")


def test_a_clone_rewrites_the_username_and_carries_the_password_as_pulumi_re_encrypted_it():
    declaration = {"platform": "sendgrid", "account": {"username": "acme", "email": "ops@acme.example",
                                                       "password": {"secure": "v1:source-stack"}}}
    staged, rewrites = rewrite_declaration(declaration, load_environment(REPO, "staging"), "acme")
    assert staged["account"]["username"] == "acme-staging"
    assert staged["account"]["email"] == "ops+staging@acme.example"  # copies.owner_email: plus
    assert [(r.field, r.source, r.clone) for r in rewrites] == [
        ("account.email", "ops@acme.example", "ops+staging@acme.example"), ("account.username", "acme", "acme-staging")]
    kept, _ = rewrite_declaration(declaration, load_environment(REPO, "production"), "acme")
    assert kept["account"] == declaration["account"]  # copies.owner_email: keep
    sandbox, _ = rewrite_declaration(declaration, load_environment(REPO, "sandbox-alice"), "acme")
    assert (sandbox["account"]["email"], sandbox["account"]["username"]) == (
        "alice+acme-sandbox-alice@reseller.example", "acme-sandbox-alice")

    copied = {"platform": "sendgrid", "account": {"username": "acme", "password": {"secure": "v1:this-stack"}}}
    assert with_copied_secrets(staged, copied)["account"]["password"] == {"secure": "v1:this-stack"}
    assert with_copied_secrets(staged, copied)["account"]["username"] == "acme-staging"


def test_the_review_names_new_credits_as_a_danger():
    from operations.review.models import ResourceChange
    from operations.review.plan import dangers_of

    change = ResourceChange(resource="AccountFeatures", name="acme.production-features", op="update")
    [danger] = dangers_of(change, "sendgrid", {}, {}, set())
    assert danger.kind == "sendgrid-credits" and "what it has used so far is forgotten" in danger.reason
    assert dangers_of(change, "sendgrid", {}, {}, {"sendgrid-credits"})[0].acknowledged
