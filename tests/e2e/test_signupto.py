"""Sign-Up.to SubAccount and AccountFeatures through the real pulumi CLI against the emulator."""

from __future__ import annotations

import copy
import json

import pytest

from .pulumi_cli import steps_by_op

BAKERY = {
    "platform": "signupto",
    "account": {"name": "Bakery Ltd", "owner": {"email": "ops@bakery.example", "timezone": "Europe/London"},
                "country": "GB"},
    "features": {"enablesms": True, "enablesubscriptionmo": True, "list_limit": 300, "subscriber_limit": 5000},
}


def declare(project, account=None, features=None, drop_features=False):
    customer = copy.deepcopy(BAKERY)
    customer["account"].update(account or {})
    if features is not None:
        customer["features"] = features
    if drop_features:
        customer.pop("features")
    project.set_customer(customer)
    return customer


def test_create_noop_and_one_limit_change(signupto_project, signupto_api, control):
    declare(signupto_project)
    signupto_project.up()
    outputs = signupto_project.outputs()
    account = signupto_api.get_account(outputs["account_id"])
    assert (account.name, account.contactemail, account.country) == ("Bakery Ltd", "ops@bakery.example", "GB")
    remote = signupto_api.get_features(outputs["account_id"])
    assert {k: remote[k] for k in BAKERY["features"]} == BAKERY["features"]

    before = control.last_request_id()
    signupto_project.preview("--expect-no-changes")
    assert control.requests(since_id=before) == []

    declare(signupto_project, features={**BAKERY["features"], "list_limit": 400})
    assert steps_by_op(signupto_project.preview_json()).get("update") == ["AccountFeatures::test-features"]
    before = control.last_request_id()
    signupto_project.up()
    puts = [r for r in control.requests(since_id=before) if r["method"] == "PUT"]
    assert [r["body"] for r in puts] == [{"list_limit": 400}]
    assert signupto_api.get_features(outputs["account_id"])["list_limit"] == 400


def test_switch_flipped_out_of_band_is_reported_and_put_back(signupto_project, signupto_api):
    declare(signupto_project)
    signupto_project.up()
    account_id = signupto_project.outputs()["account_id"]
    signupto_api.update_features(account_id, {"enablesms": False})  # as if flipped in the partner console

    refresh = signupto_project.refresh("--diff")
    assert "~ 1 updated" in refresh.output and "enablesms" in refresh.output
    signupto_project.up()
    remote = signupto_api.get_features(account_id)
    assert remote["enablesms"] is True and remote["enablesubscriptionmo"] is True
    signupto_project.preview("--expect-no-changes")


def test_undeclared_switches_are_not_drift(signupto_project, signupto_api):
    declare(signupto_project)
    signupto_project.up()
    signupto_api.update_features(signupto_project.outputs()["account_id"], {"enablefacebook": True, "user_limit": 9})
    assert "~ 1 updated" not in signupto_project.refresh().output
    signupto_project.preview("--expect-no-changes")


@pytest.mark.parametrize("features, expected", [
    ({"enablesmss": True}, ["features.enablesmss", "supported: enableanalyse"]),
    ({"list_limit": 0}, ["features.list_limit", "greater than or equal to 1"]),
    ({"enablesms": "yes"}, ["features.enablesms", "valid boolean"]),
    ({"enablesms": False, "enablesubscriptionmo": True}, ["enablesubscriptionmo requires enablesms"]),
    ({"enablesendbulkemail": False, "enablesplittest": True}, ["enablesplittest requires enablesendbulkemail"]),
    ({"custommaildomaintype": "subdomain"}, ["features.custommaildomaintype", "fixed_email", "domain"]),
])
def test_bad_feature_names_and_values_fail_at_preview(signupto_project, control, features, expected):
    declare(signupto_project, features=features)
    before = control.last_request_id()
    result = signupto_project.preview(check=False)
    assert result.returncode != 0
    for text in expected:
        assert text in result.output, result.output[-2000:]
    assert control.requests(since_id=before) == []


def test_account_settings_cannot_change_after_creation(signupto_project, control):
    declare(signupto_project)
    signupto_project.up()
    declare(signupto_project, account={"name": "Bakery Limited"})
    before = control.last_request_id()
    result = signupto_project.preview(check=False)
    assert result.returncode != 0
    assert "cannot update an account, so name cannot change" in result.output, result.output[-2000:]
    assert control.requests(since_id=before) == []


def test_destroy_refuses_by_default_then_keeps_the_account_when_asked(signupto_project, signupto_api):
    declare(signupto_project, account={"protect": False})
    signupto_project.up()
    account_id = signupto_project.outputs()["account_id"]

    refused = signupto_project.destroy(check=False)
    assert refused.returncode != 0
    assert "cannot delete accounts" in refused.output and "on_destroy: keep" in refused.output
    assert signupto_project.resources(":SubAccount"), "the account must stay in state after a refused destroy"

    declare(signupto_project, account={"on_destroy": "keep", "protect": False})
    signupto_project.up()
    signupto_project.destroy()
    assert signupto_project.resources(":SubAccount") == []
    assert signupto_api.get_account(account_id) is not None  # kept on the platform, as asked


def test_account_removed_by_support_is_dropped_by_refresh(signupto_project, signupto_api, control):
    """The API cannot delete accounts; the emulator's control API stands in for Sign-Up.to support."""
    declare(signupto_project)
    signupto_project.up()
    account_id = signupto_project.outputs()["account_id"]
    requests_delete(control, f"/signupto/accounts/{account_id}")
    refresh = signupto_project.refresh()
    assert "deleted" in refresh.output.lower()
    assert signupto_project.resources(":SubAccount") == [] and signupto_project.resources(":AccountFeatures") == []
    signupto_project.up()
    new_id = signupto_project.outputs()["account_id"]
    assert new_id != account_id and signupto_api.get_account(new_id) is not None


def requests_delete(control, path: str) -> None:
    import requests

    requests.delete(control.url + "/_control" + path, timeout=10).raise_for_status()


def test_partner_key_never_in_state_logs_or_preview(signupto_project, signupto_partner):
    declare(signupto_project)
    up = signupto_project.up()
    preview = signupto_project.preview("--diff")
    state = "".join(p.read_text(errors="replace") for p in (signupto_project.root / "state").rglob("*") if p.is_file())
    logs = "".join(p.read_text(errors="replace") for p in (signupto_project.root / "home").rglob("*.log*") if p.is_file())
    key = signupto_partner["partner_key"]
    for text in (up.output, preview.output, json.dumps(signupto_project.export()), state, logs):
        assert key not in text and "SuTPartner" not in text


def test_optional_settings_left_out_do_not_block_later_runs(signupto_project, signupto_api):
    """The engine drops nulls: an account declared without timezone or country must stay unchanged."""
    signupto_project.set_customer({"platform": "signupto",
                                   "account": {"name": "Plain Co", "owner": {"email": "p@plain.example"}}})
    signupto_project.up()
    signupto_project.preview("--expect-no-changes")
    assert signupto_api.get_account(signupto_project.outputs()["account_id"]).name == "Plain Co"


def test_unlimited_clears_a_nullable_limit_and_null_is_refused(signupto_project, signupto_api, control):
    declare(signupto_project, features={"subscriber_limit": 5000})
    signupto_project.up()
    account_id = signupto_project.outputs()["account_id"]
    declare(signupto_project, features={"subscriber_limit": "unlimited"})
    before = control.last_request_id()
    signupto_project.up()
    assert [r["body"] for r in control.requests(since_id=before) if r["method"] == "PUT"] == [{"subscriber_limit": None}]
    assert signupto_api.get_features(account_id)["subscriber_limit"] is None
    signupto_project.preview("--expect-no-changes")

    declare(signupto_project, features={"subscriber_limit": None})
    result = signupto_project.preview(check=False)
    assert result.returncode != 0
    assert 'subscriber_limit set to null' in result.output and 'write "unlimited" for no limit' in result.output, \
        result.output[-1500:]
