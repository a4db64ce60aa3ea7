"""The status page's data from a fixture state and history: counts, "needs up", DNS pending, drift
and its repair, failures, secrets; and the whole read (file backend + SQLite history) making no
network connection at all."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from operations.backend.state import RecordedResource, RecordedStack
from operations.drift.read import as_engine_passes
from providers.resources.catalog import PROVIDERS, TYPE_PREFIX
from operations.differences import FieldDrift
from operations.history.model import PolicyFinding, RunEntry
from operations.history.store import HistoryStore, location_for
from operations.project.stacks import CustomerStack
from operations.status.read import needs_up_check, read_status
from operations.status.data import build_page, resource_views
from operations.status.page import embedded_json, render
from providers.resources.sending_domain import sending_domain_props
from providers.resources.sub_account import sub_account_props

REPO = Path(__file__).resolve().parents[2]
PROJECT = "email-partners"
SECRET = "4dabf18193072939515e22adb298388d"


def declaration(platform: str, name: str, **extra) -> dict:
    owner = {"email": "owner@shop.example", "first_name": "Ada", "last_name": "Baker"} if platform == "cakemail" \
        else {"email": "owner@shop.example", "timezone": "Europe/London"}
    customer = {"platform": platform, "account": {"name": name, "owner": owner}}
    if platform == "signupto":
        customer["account"]["on_destroy"] = "keep"
    customer.update(extra)
    return customer


def stack(name: str, customer: dict) -> CustomerStack:
    return CustomerStack(name, Path(f"stacks/Pulumi.{name}.yaml"), {"email-partners:customer": customer})


def deployed(stack_: CustomerStack, account_status: str = "active", validated: bool = False) -> RecordedStack:
    """The state an `up` of this declaration records: each planned resource's props as the provider's
    check normalises them (the engine records those as inputs), and outputs that carry them."""
    from operations.project.program import load_composition

    composition = load_composition(REPO)
    planned = composition.plan(stack_.name, composition.CustomerDeclaration.model_validate(stack_.declaration))
    resources = []
    for item in planned:
        props = dict(item.props)
        for key in item.links:  # the account id (every resource of this fixture has id 42)
            props[key] = "42"
        if item.kind == "SubAccount":
            props = sub_account_props(PROJECT, stack_.name, item.name, **props)
        elif item.kind == "SendingDomain":
            props = sending_domain_props(**props)
        checked = PROVIDERS[item.kind]().check({}, as_engine_passes(props))
        assert not checked.failures, checked.failures
        inputs = dict(checked.inputs)
        outputs = dict(inputs)
        if item.kind == "SubAccount":
            outputs.update(account_id="42", status=account_status, owner_user_id="7")
        elif item.kind == "SendingDomain":
            domain = inputs["domain"]
            outputs["records"] = [{"name": f"k1._domainkey.{domain}", "type": "TXT", "value": "v=DKIM1; k=rsa; p=" + "A" * 300,
                                   "purpose": "dkim", "validated": validated}]
            outputs["verified"] = validated
        resources.append(RecordedResource(urn=f"urn:pulumi:{stack_.name}::{PROJECT}::x${TYPE_PREFIX}{item.kind}::{item.name}",
                                          type=TYPE_PREFIX + item.kind, custom=True, id="42", inputs=inputs,
                                          outputs=outputs))
    return RecordedStack(name=stack_.name, status="recorded", resources=resources)


def entry(stack_: str, operation: str, result: str, when: str, **fields) -> RunEntry:
    return RunEntry(run_id=f"{operation}-{when}", started_at=f"2026-11-{when}T10:00:00+00:00", operation=operation,
                    stack=stack_, customer=stack_.split(".")[0], result=result, actor="ada", **fields)


def page_of(stacks, states, entries, locks=None):
    recent, latest = {}, {}
    for e in sorted(entries, key=lambda e: e.started_at, reverse=True):
        recent.setdefault(e.stack, []).append(e)
        latest.setdefault(e.stack, {}).setdefault(e.operation, e)
    return build_page(stacks, states, recent, latest, locks or {}, needs_up_check(REPO, PROJECT), PROJECT)


def rows(page) -> dict:
    return {c.customer: c for c in page.customers}


def test_counts_needs_up_dns_pending_drift_failures():
    shop = stack("shop.production", declaration("cakemail", "Shop", features={"per_month": 1000}))
    news = stack("news.production", declaration("cakemail", "News", sending_domains=[{"domain": "news.example"}]))
    books = stack("books.production", declaration("signupto", "Books", features={"list_limit": 250}))
    paused = stack("paused.staging", declaration("cakemail", "Paused"))
    fresh = stack("fresh.staging", declaration("cakemail", "Fresh"))
    states = {"shop.production": deployed(shop), "news.production": deployed(news),
              "books.production": deployed(books), "paused.staging": deployed(paused, account_status="suspended")}
    # books' stack file was edited after its last up: the limit differs from what was deployed.
    books.declaration["features"]["list_limit"] = 300
    drift = [FieldDrift(resource="shop.production-account", type="SubAccount", field="name", recorded="Shop",
                        actual="Shop Renamed")]
    entries = [
        entry("shop.production", "up", "changes", "01"), entry("shop.production", "drift", "drift", "02", drift=drift),
        entry("news.production", "up", "changes", "01"), entry("news.production", "drift", "drift", "02", drift=drift),
        entry("news.production", "up", "changes", "03"),  # put back
        entry("paused.staging", "up", "failed", "04", error="cakemail POST /token failed (HTTP 401)"),
        entry("fresh.staging", "up", "failed", "01", error="refused"), entry("fresh.staging", "drift", "not deployed", "02"),
    ]
    page = page_of([shop, news, books, paused, fresh], states, entries)
    by = rows(page)
    assert by["shop"].health == ["drifted"] and by["shop"].drift.checked_at.startswith("2026-11-02")
    assert by["news"].health == ["dns pending"] and by["news"].drift.repaired_at.startswith("2026-11-03")
    assert [(r.name, r.type) for r in by["news"].dns_pending] == [("k1._domainkey.news.example", "TXT")]
    assert len(by["news"].dns_pending[0].value) > 300  # the whole value, for the copy button
    assert by["books"].health == ["needs up"]
    assert [(d.type, d.op, d.field, d.actual, d.declared) for d in by["books"].needs_up] == [
        ("AccountFeatures", "update", "features.list_limit", 250, 300)]
    assert by["shop"].needs_up == [] and by["news"].needs_up == []
    assert by["paused"].health == ["failed", "suspended"] and by["paused"].account_status == "suspended"
    assert by["fresh"].health == ["failed", "not deployed"]  # a drift check of nothing is not its last run
    assert by["fresh"].last_run.operation == "up" and by["fresh"].resources_in_state == 0
    assert by["books"].drift.checked_at is None  # never checked
    assert page.counts == {"healthy": 0, "drifted": 1, "failed": 2, "dns pending": 1, "not deployed": 1,
                           "needs up": 1, "suspended": 1, "locked": 0, "state unread": 0}


def test_a_declared_new_domain_and_an_unreadable_state_and_a_lock():
    shop = stack("shop.production", declaration("cakemail", "Shop"))
    states = {"shop.production": deployed(shop), "odd.production": RecordedStack(
        name="odd.production", status="engine", reason="the state has pending operations of an interrupted run")}
    shop.declaration["sending_domains"] = [{"domain": "mail.shop.example"}]
    odd = stack("odd.production", declaration("cakemail", "Odd"))
    from operations.backend.locks import Lock

    page = page_of([shop, odd], states, [], locks={"shop.production": Lock(username="ada", hostname="ci-1", pid=9)})
    by = rows(page)
    assert [(d.type, d.op, d.field) for d in by["shop"].needs_up] == [("SendingDomain", "create", None)]
    assert by["shop"].health == ["needs up", "locked"] and by["shop"].lock.username == "ada"
    assert by["odd"].health == ["state unread"] and "interrupted" in by["odd"].needs_up_unknown
    assert by["shop"].last_run is None and by["shop"].runs == []


def test_policy_findings_come_from_the_newest_review_or_run_reporting_them():
    shop = stack("shop.staging", declaration("cakemail", "Shop"))
    finding = PolicyFinding(policy="sending-domain-required", enforcement="advisory", message="declare one")
    entries = [entry("shop.staging", "review", "no changes", "01", policy=[finding]),
               entry("shop.staging", "up", "changes", "02")]
    by = rows(page_of([shop], {"shop.staging": deployed(shop)}, entries))
    assert [p.policy for p in by["shop"].policy] == ["sending-domain-required"]
    assert by["shop"].policy_checked_at.startswith("2026-11-01") and by["shop"].last_run.operation == "up"
    clean = [*entries, entry("shop.staging", "review", "no changes", "03")]
    assert rows(page_of([shop], {"shop.staging": deployed(shop)}, clean))["shop"].policy == []


def test_no_secret_and_every_value_escaped_in_the_page():
    hostile = "</script><script>alert(1)</script>"
    shop = stack("shop.production", declaration("cakemail", hostile))
    page = page_of([shop], {"shop.production": deployed(shop)}, [])
    account = next(r for r in rows(page)["shop"].resources if r.type == "SubAccount")
    assert "__provider" not in account.outputs
    encrypted = RecordedResource(urn="urn:pulumi:s::p::x::a", type=TYPE_PREFIX + "SubAccount", custom=True, outputs={
        "api_token": {SECRET: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}, "password": "plain-oops",
        "nested": {"partnerKey": "k"}, "name": "A"})
    assert resource_views([encrypted])[0].outputs == {"api_token": "[secret]", "password": "[secret]",
                                                      "nested": {"partnerKey": "[secret]"}, "name": "A"}
    text = render(page)
    assert hostile not in text and "alert(1)" in text  # present, but only inside the escaped JSON
    assert "<script" not in embedded_json(page) and "\\u003c/script\\u003e" in embedded_json(page)
    # The JSON block parses back to the same data: escaping changed no value.
    block = text.split('<script type="application/json" id="status-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["customers"][0]["account_name"] == hostile


def test_read_status_from_a_file_backend_and_the_history_makes_no_connection(tmp_path, monkeypatch):
    shop = stack("shop.production", declaration("cakemail", "Shop", sending_domains=[{"domain": "news.shop.example"}]))
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml",):
        (project / name).write_text((REPO / name).read_text())
    (project / "stacks" / "customer.py").write_text((REPO / "stacks" / "customer.py").read_text())
    (project / "stacks" / "Pulumi.shop.production.yaml").write_text(
        yaml.safe_dump({"config": {"email-partners:customer": shop.declaration}}))
    state = tmp_path / "state"
    checkpoint = {"version": 3, "checkpoint": {"stack": "shop.production", "latest": {"manifest": {}, "resources": [
        r.model_dump(by_alias=True, exclude_none=True) for r in deployed(shop).resources]}}}
    (state / ".pulumi" / "stacks" / PROJECT).mkdir(parents=True)
    (state / ".pulumi" / "meta.yaml").write_text("version: 1\n")
    (state / ".pulumi" / "stacks" / PROJECT / "shop.production.json").write_text(json.dumps(checkpoint))
    lock = state / ".pulumi" / "locks" / "organization" / PROJECT / "shop.production" / "abc.json"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": 12, "username": "ada", "hostname": "laptop", "timestamp": "2026-11-05T10:00:00Z"}))
    env = {"PULUMI_BACKEND_URL": state.as_uri()}
    HistoryStore(location_for(state.as_uri(), env)).record([entry("shop.production", "up", "changes", "04")])

    def no_network(*args, **kwargs):
        raise AssertionError("the status page opened a network connection")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    from operations.project.stacks import customer_stacks

    page = read_status(project, customer_stacks(project), env)
    row = page.customers[0]
    assert row.state == "recorded" and row.resources_in_state == 2 and row.account_id == "42"
    assert row.health == ["dns pending", "locked"] and row.lock.since == "2026-11-05T10:00:00+00:00"
    assert row.last_run.operation == "up" and page.history_store.endswith("email-partners-history.sqlite")
    assert page.backend == state.as_uri()


@pytest.mark.parametrize("url, kind, target", [
    ("file:///srv/state", "sqlite", "/srv/state/email-partners-history.sqlite"),
    ("postgres://team:pw@db:5432/pulumi?sslmode=disable&table=states", "postgres",
     "postgres://team:pw@db:5432/pulumi?sslmode=disable"),
    ("s3://bucket", "sqlite", "/home/x/.pulumi/email-partners-history.sqlite"),
    (None, "sqlite", "/home/x/.pulumi/email-partners-history.sqlite"),
])
def test_where_the_history_lives(url, kind, target):
    location = location_for(url, {"PULUMI_HOME": "/home/x/.pulumi"})
    assert (location.kind, location.target) == (kind, target)
    assert "pw" not in location.shown
