"""SendingDomain on Cakemail (a DKIM key inside the customer's sub-account) through the real pulumi CLI."""

from __future__ import annotations

import copy
import json
import re

from ...vendors.cakemail import ACME
from ..pulumi_cli import steps_by_op
from ..test_review import tool


def declare(project, *domains, **settings):
    customer = copy.deepcopy(ACME)
    customer["sending_domains"] = [{"domain": d, **settings} for d in domains]
    project.set_customer(customer)


def test_first_preview_of_a_whole_customer_needs_no_api_call(cakemail_project, control):
    """Before anything exists the account id is unknown: preview must still check and plan everything."""
    customer = copy.deepcopy(ACME)
    customer["features"] = {"per_month": 100}
    customer["sending_domains"] = [{"domain": "news.acme.example", "verification_timeout_seconds": 5}]
    cakemail_project.set_customer(customer)
    before = control.last_request_id()
    preview = cakemail_project.preview_json()
    assert sorted(steps_by_op(preview)["create"]) == [
        "AccountFeatures::test-features", "Customer::test", "DomainVerification::test-news.acme.example-verification",
        "SendingDomain::test-news.acme.example", "Stack::email-partners-test", "SubAccount::test-account"]
    assert control.requests(since_id=before) == []


def test_dkim_record_as_output_then_validated_after_publishing(cakemail_project, cakemail_api, control):
    declare(cakemail_project, "news.acme.example")
    cakemail_project.up()
    outputs = cakemail_project.outputs()
    [key] = cakemail_api.list_dkim_keys(outputs["account_id"])
    [record] = outputs["dns_records"]
    assert (record["name"], record["type"], record["purpose"]) == (f"{key.selector}._domainkey.news.acme.example", "TXT", "dkim")
    assert record["value"] == f"v=DKIM1; k=rsa; p={key.public_key}" and record["validated"] is False
    assert outputs["domains_verified"] == {"news.acme.example": False}

    before = control.last_request_id()
    cakemail_project.preview("--expect-no-changes")
    assert control.requests(since_id=before) == []

    control.publish(record)
    cakemail_project.refresh()
    cakemail_project.up()
    assert cakemail_project.outputs()["domains_verified"] == {"news.acme.example": True}
    assert cakemail_api.get_dkim_key(outputs["account_id"], key.id).active


def test_domain_change_replaces_the_key(cakemail_project, cakemail_api):
    declare(cakemail_project, "news.acme.example")
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]
    [old] = cakemail_api.list_dkim_keys(account_id)

    declare(cakemail_project, "mail.acme.example")
    ops = steps_by_op(cakemail_project.preview_json())
    assert ops.get("create") == ["SendingDomain::test-mail.acme.example"]
    assert ops.get("delete") == ["SendingDomain::test-news.acme.example"]
    cakemail_project.up()
    assert [k.domain for k in cakemail_api.list_dkim_keys(account_id)] == ["mail.acme.example"]
    assert cakemail_api.get_dkim_key(account_id, old.id) is None


def test_wait_fails_at_deadline_then_the_next_run_finds_its_own_key(cakemail_project, cakemail_api, control):
    declare(cakemail_project, "news.acme.example", verification_timeout_seconds=2)
    failed = cakemail_project.up(check=False)
    assert failed.returncode != 0
    assert "news.acme.example is not verified after 2s: 1 record(s) not validated yet" in failed.output, failed.output[-3000:]
    assert "Exception calling application" not in failed.output
    account_id = cakemail_project.resources(":SubAccount")[0]["outputs"]["account_id"]
    [key] = cakemail_api.list_dkim_keys(account_id)
    name, type_, value = key.dns_record()
    assert f'TXT {name} "{value}" (dkim)' in failed.output  # in full
    # The domain and its record are in state although the wait failed; `email-partners dns` prints them whole.
    [domain] = cakemail_project.resources(":SendingDomain")
    assert domain["outputs"]["records"] == [{"name": name, "type": "TXT", "value": value, "purpose": "dkim",
                                             "validated": False}]
    listed = tool(cakemail_project, "dns", "test", "--pending", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["name"], r["value"], r["validated"]) for r in json.loads(listed.stdout)] == [(name, value, False)]
    bind = tool(cakemail_project, "dns", "test", "--format", "bind").stdout
    [line] = [line for line in bind.splitlines() if not line.startswith(";")]
    assert line.startswith(f"{name}.\t3600\tIN\tTXT\t") and "".join(re.findall(r'"([^"]*)"', line)) == value
    assert all(len(part) <= 255 for part in re.findall(r'"([^"]*)"', line))
    csv_text = tool(cakemail_project, "dns", "test", "--format", "csv").stdout
    assert csv_text.splitlines()[0] == "stack,domain,name,type,value,purpose,validated" and value in csv_text

    control.publish({"name": name, "type": type_, "value": value})
    cakemail_project.up()
    assert [k.id for k in cakemail_api.list_dkim_keys(account_id)] == [key.id]  # its own key, not a second one
    assert cakemail_project.outputs()["domains_verified"] == {"news.acme.example": True}
    assert [r.get("validated") for r in json.loads(tool(cakemail_project, "dns", "test", "--format", "json").stdout)] \
        == [True]
    assert tool(cakemail_project, "dns", "test", "--pending", "--format", "json").stdout.strip() == "[]"
    # Destroying the verification deletes nothing: the key stays until its SendingDomain goes.
    declare(cakemail_project, "news.acme.example")
    cakemail_project.up()
    assert [k.id for k in cakemail_api.list_dkim_keys(account_id)] == [key.id]


def test_a_key_made_outside_the_stack_is_adopted_only_on_request(cakemail_project, cakemail_api):
    declare(cakemail_project)
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]
    outside = cakemail_api.create_dkim_key(account_id, "news.acme.example", "console")

    declare(cakemail_project, "news.acme.example")
    refused = cakemail_project.up(check=False)
    assert refused.returncode != 0 and "adopt_existing: true" in refused.output and outside.id in refused.output

    declare(cakemail_project, "news.acme.example", adopt_existing=True)
    cakemail_project.up()
    assert [k.id for k in cakemail_api.list_dkim_keys(account_id)] == [outside.id]


def test_out_of_band_key_delete_is_dropped_and_recreated(cakemail_project, cakemail_api):
    declare(cakemail_project, "news.acme.example")
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]
    [key] = cakemail_api.list_dkim_keys(account_id)
    cakemail_api.delete_dkim_key(account_id, key.id)
    assert "deleted" in cakemail_project.refresh().output.lower()
    cakemail_project.up()
    assert [k.domain for k in cakemail_api.list_dkim_keys(account_id)] == ["news.acme.example"]


def test_destroy_removes_key_and_account(cakemail_project, cakemail_api):
    customer = copy.deepcopy(ACME)
    customer["account"]["protect"] = False  # retired on purpose: the account is protected by default
    customer["sending_domains"] = [{"domain": "news.acme.example"}]
    cakemail_project.set_customer(customer)
    cakemail_project.up()
    cakemail_project.destroy()
    assert list(cakemail_api.iter_accounts()) == []


def test_selector_change_replaces_the_key_deleting_the_old_one_first(cakemail_project, cakemail_api):
    declare(cakemail_project, "news.acme.example")
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]
    [old] = cakemail_api.list_dkim_keys(account_id)

    declare(cakemail_project, "news.acme.example", selector="s2026")
    cakemail_project.up()
    [new] = cakemail_api.list_dkim_keys(account_id)
    assert new.id != old.id and new.selector == "s2026"
    assert cakemail_project.outputs()["dns_records"][0]["name"] == "s2026._domainkey.news.acme.example"
