"""Ciirus: SubAccount, AccountFeatures and SendingDomain on one remote object, through the real pulumi CLI."""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest

from providers.ciirus.models import SubAccountFields

from .pulumi_cli import steps_by_op

SHOP = {
    "platform": "ciirus",
    "account": {},
    "features": {"daily_send_limit": 500, "approved": True},
    "sending_domains": [{"domain": "mail.shop.example"}],
}


def declare(project, account=None, features=None, domain=None, **domain_settings):
    customer = copy.deepcopy(SHOP)
    customer["account"].update(account or {})
    if features is not None:
        customer["features"] = features
    customer["sending_domains"][0].update({**({"domain": domain} if domain else {}), **domain_settings})
    project.set_customer(customer)
    return customer


def test_create_outputs_records_then_publishing_makes_refresh_validate(ciirus_project, ciirus_api, control):
    declare(ciirus_project)
    ciirus_project.up()
    outputs = ciirus_project.outputs()
    remote = ciirus_api.get()
    assert (remote.sending_domain, remote.daily_send_limit, remote.approved) == ("mail.shop.example", 500, True)
    assert outputs["account_id"] == remote.subaccount_id
    records = outputs["dns_records"]
    assert {(r["name"], r["type"], r["purpose"]) for r in records} == {
        ("mail.shop.example", "TXT", "verification"), ("mandrill._domainkey.mail.shop.example", "TXT", "dkim"),
        ("mail.shop.example", "TXT", "spf")}
    assert {r["value"] for r in records} == {remote.dns_value, remote.dkim_value, remote.spf_value}
    assert not any(r["validated"] for r in records) and outputs["domains_verified"] == {"mail.shop.example": False}

    before = control.last_request_id()
    ciirus_project.preview("--expect-no-changes")
    assert control.requests(since_id=before) == []

    for record in records:
        control.publish(record)
    # Refresh records the platform's verdict in state (verification is observed, not declared, so it
    # is no drift to report); the next `up` changes nothing remote and publishes it in the outputs.
    ciirus_project.refresh()
    [domain] = ciirus_project.resources(":SendingDomain")
    assert domain["outputs"]["verified"] is True and all(r["validated"] for r in domain["outputs"]["records"])
    before = control.last_request_id()
    assert "unchanged" in ciirus_project.up().output
    assert not [r for r in control.requests(since_id=before) if r["method"] != "GET"]
    outputs = ciirus_project.outputs()
    assert all(r["validated"] for r in outputs["dns_records"]) and outputs["domains_verified"] == {"mail.shop.example": True}


def test_wait_succeeds_once_records_are_published(ciirus_project, ciirus_api, control):
    declare(ciirus_project, verification_timeout_seconds=60)

    def publish_when_created():
        for _ in range(200):
            account = ciirus_api.get()
            if account is not None:
                for name, value in [(account.sending_domain, account.dns_value), (account.sending_domain, account.spf_value),
                                    (f"mandrill._domainkey.{account.sending_domain}", account.dkim_value)]:
                    control.publish({"name": name, "type": "TXT", "value": value})
                return
            time.sleep(0.1)

    publisher = threading.Thread(target=publish_when_created)
    publisher.start()
    ciirus_project.up()
    publisher.join()
    assert ciirus_project.outputs()["domains_verified"] == {"mail.shop.example": True}


def test_wait_fails_clearly_at_its_deadline(ciirus_project, ciirus_api):
    declare(ciirus_project, verification_timeout_seconds=2)
    result = ciirus_project.up(check=False)
    assert result.returncode != 0
    remote = ciirus_api.get()
    assert "mail.shop.example is not verified after 2s: 3 record(s) not validated yet" in result.output, result.output[-3000:]
    assert f'TXT mandrill._domainkey.mail.shop.example "{remote.dkim_value}" (dkim)' in result.output
    assert f'TXT mail.shop.example "{remote.dns_value}" (verification)' in result.output
    # The domain and its records reached state before the wait: nothing to read from the vendor by hand.
    [domain] = ciirus_project.resources(":SendingDomain")
    assert {r["value"] for r in domain["outputs"]["records"]} == {remote.dns_value, remote.dkim_value, remote.spf_value}


def test_domain_change_updates_in_place_with_new_unverified_records(ciirus_project, ciirus_api, control):
    declare(ciirus_project)
    ciirus_project.up()
    old = ciirus_project.outputs()["dns_records"]
    for record in old:
        control.publish(record)
    ciirus_project.refresh()

    declare(ciirus_project, domain="news.shop.example")
    ops = steps_by_op(ciirus_project.preview_json())
    assert ops.get("update") == ["SendingDomain::test-sending-domain"] and "replace" not in ops, ops
    ciirus_project.up()
    outputs = ciirus_project.outputs()
    assert ciirus_api.get().sending_domain == "news.shop.example"
    assert {r["name"] for r in outputs["dns_records"]} == {"news.shop.example", "mandrill._domainkey.news.shop.example"}
    assert not any(r["validated"] for r in outputs["dns_records"])
    assert ciirus_api.get().daily_send_limit == 500  # the domain change kept the limit


def test_limit_and_approval_changes_touch_only_those_fields(ciirus_project, ciirus_api, control):
    declare(ciirus_project)
    ciirus_project.up()
    declare(ciirus_project, features={"daily_send_limit": 900, "approved": False})
    ops = steps_by_op(ciirus_project.preview_json())
    assert ops.get("update") == ["AccountFeatures::test-features"] and "replace" not in ops
    before = control.last_request_id()
    ciirus_project.up()
    puts = [r["body"] for r in control.requests(since_id=before) if r["method"] == "PUT"]
    assert puts == [{"sending_domain": "mail.shop.example", "daily_send_limit": 900, "approved": False}]


def test_existing_sub_account_is_refused_then_adopted_on_request(ciirus_project, ciirus_api):
    ciirus_api.create(SubAccountFields(sending_domain="legacy.shop.example", daily_send_limit=42, approved=False))
    existing = ciirus_api.get()
    declare(ciirus_project)
    refused = ciirus_project.up(check=False)
    assert refused.returncode != 0
    assert existing.subaccount_id in refused.output and "adopt_existing: true" in refused.output, refused.output[-3000:]
    assert ciirus_api.get().sending_domain == "legacy.shop.example"  # untouched

    declare(ciirus_project, account={"adopt_existing": True})
    ciirus_project.up()
    remote = ciirus_api.get()
    assert remote.subaccount_id == existing.subaccount_id
    assert (remote.sending_domain, remote.daily_send_limit, remote.approved) == ("mail.shop.example", 500, True)
    ciirus_project.preview("--expect-no-changes")


def test_out_of_band_change_is_reported_and_reconciled(ciirus_project, ciirus_api):
    declare(ciirus_project)
    ciirus_project.up()
    ciirus_api.update(ciirus_project.outputs()["account_id"], daily_send_limit=1, sending_domain="other.shop.example")
    refresh = ciirus_project.refresh("--diff")
    assert "~ 2 updated" in refresh.output, refresh.output[-3000:]
    ciirus_project.up()
    remote = ciirus_api.get()
    assert (remote.sending_domain, remote.daily_send_limit) == ("mail.shop.example", 500)
    ciirus_project.preview("--expect-no-changes")


def test_out_of_band_delete_is_dropped_and_recreated(ciirus_project, ciirus_api):
    declare(ciirus_project)
    ciirus_project.up()
    old_id = ciirus_project.outputs()["account_id"]
    ciirus_api.delete()
    refresh = ciirus_project.refresh()
    assert "deleted" in refresh.output.lower()
    for kind in (":SubAccount", ":AccountFeatures", ":SendingDomain"):
        assert ciirus_project.resources(kind) == []
    ciirus_project.up()
    remote = ciirus_api.get()
    assert remote is not None and remote.sending_domain == "mail.shop.example" and remote.daily_send_limit == 500
    assert ciirus_project.outputs()["account_id"] == remote.subaccount_id == old_id  # one per user: same id


def test_destroy_leaves_nothing_behind(ciirus_project, ciirus_api):
    declare(ciirus_project, account={"protect": False})
    ciirus_project.up()
    ciirus_project.destroy()
    assert ciirus_api.get() is None


@pytest.mark.parametrize("domain, expected", [
    ("not a domain", "not a valid hostname"),
    ("mail.shop.example.", "ends with a dot"),
    ("localhost", "not a valid hostname"),
    ("-bad.example", "not a valid hostname"),
    ("bücher.example", "xn--"),
])
def test_bad_domains_fail_at_preview_without_api_calls(ciirus_project, control, domain, expected):
    declare(ciirus_project, domain=domain)
    before = control.last_request_id()
    result = ciirus_project.preview(check=False)
    assert result.returncode != 0
    assert "domain" in result.output and expected in result.output, result.output[-2000:]
    assert control.requests(since_id=before) == []


def test_every_mistake_of_a_declaration_at_once_with_integers_as_written(ciirus_project, control):
    declare(ciirus_project, features={"daily_send_limit": -5, "approved": "yes"}, domain="not a domain",
            verification_timeout_seconds=-1)
    before = control.last_request_id()
    result = ciirus_project.preview(check=False)
    assert result.returncode != 0
    for expected in ("features.daily_send_limit: Input should be greater than or equal to 0 (got -5)",
                     "features.approved: Input should be a valid boolean (got 'yes')",
                     "sending_domains[0].domain: 'not a domain' is not a valid hostname",
                     "sending_domains[0].verification_timeout_seconds: must be a whole number of seconds"):
        assert expected in result.output, (expected, result.output[-3000:])
    assert "-5.0" not in result.output and control.requests(since_id=before) == []


def test_uppercase_domain_is_normalised_to_lower_case(ciirus_project, ciirus_api):
    declare(ciirus_project, domain="Mail.SHOP.example")
    ciirus_project.up()
    assert ciirus_api.get().sending_domain == "mail.shop.example"
    declare(ciirus_project, domain="mail.shop.example")
    ciirus_project.preview("--expect-no-changes")


def test_basic_credentials_never_in_state_logs_or_preview(ciirus_project, ciirus_user):
    import base64

    declare(ciirus_project)
    up = ciirus_project.up()
    preview = ciirus_project.preview("--diff")
    state = "".join(p.read_text(errors="replace") for p in (ciirus_project.root / "state").rglob("*") if p.is_file())
    logs = "".join(p.read_text(errors="replace") for p in (ciirus_project.root / "home").rglob("*.log*") if p.is_file())
    basic = base64.b64encode(f"{ciirus_user['username']}:{ciirus_user['password']}".encode()).decode()
    for text in (up.output, preview.output, json.dumps(ciirus_project.export()), state, logs):
        assert ciirus_user["password"] not in text and basic not in text
