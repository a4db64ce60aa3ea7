"""Sign-Up.to AccountFeatures (switches and limits) through the real pulumi CLI against the emulator.

Bad feature names and values: tests/vendors/signupto.py BAD_INPUT, checked with every platform's in
tests/e2e/test_every_platform.py (as is a SendingDomain, which Sign-Up.to's API does not offer).
"""

from __future__ import annotations

from ...vendors.signupto import BAKERY, declare
from ..pulumi_cli import steps_by_op


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
