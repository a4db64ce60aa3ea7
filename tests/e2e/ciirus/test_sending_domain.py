"""Ciirus SendingDomain through the real pulumi CLI: the one sending domain of the API user's one
sub-account, its DNS records and their validation (bad domains: tests/vendors/ciirus.py BAD_INPUT,
checked by tests/e2e/test_every_platform.py)."""

from __future__ import annotations

import threading
import time

from ...vendors.ciirus import declare
from ..pulumi_cli import steps_by_op


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


def test_uppercase_domain_is_normalised_to_lower_case(ciirus_project, ciirus_api):
    declare(ciirus_project, domain="Mail.SHOP.example")
    ciirus_project.up()
    assert ciirus_api.get().sending_domain == "mail.shop.example"
    declare(ciirus_project, domain="mail.shop.example")
    ciirus_project.preview("--expect-no-changes")
