"""Ciirus SubAccount through the real pulumi CLI: one Mandrill-backed sub-account per API user, one
remote object that also holds the features and the sending domain (a deletion behind the tool's
back, and the basic credentials never in state: tests/e2e/test_every_platform.py)."""

from __future__ import annotations

from providers.ciirus.models import SubAccountFields

from ...vendors.ciirus import declare


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


def test_destroy_leaves_nothing_behind(ciirus_project, ciirus_api):
    declare(ciirus_project, account={"protect": False})
    ciirus_project.up()
    ciirus_project.destroy()
    assert ciirus_api.get() is None
