"""AccountFeatures on Cakemail (usage limits and switches) through the real pulumi CLI (bad feature
names and values: tests/vendors/cakemail.py BAD_INPUT, checked by tests/e2e/test_every_platform.py)."""

from __future__ import annotations

import copy

from providers.cakemail.models import PatchAccount, UsageLimits

from ...vendors.cakemail import ACME
from ..pulumi_cli import steps_by_op

PLAN = {"per_month": 20000, "maximum_contacts": 5000, "use_ab_split": True}


def declare(project, features):
    customer = copy.deepcopy(ACME)
    customer["features"] = features
    project.set_customer(customer)


def test_features_create_noop_update_one_limit(cakemail_project, cakemail_api, control):
    declare(cakemail_project, PLAN)
    cakemail_project.up()
    outputs = cakemail_project.outputs()
    limits = cakemail_api.get_account(outputs["account_id"]).usage_limits
    assert {k: limits[k] for k in PLAN} == PLAN
    assert outputs["features"] == PLAN

    before = control.last_request_id()
    cakemail_project.preview("--expect-no-changes")
    assert control.requests(since_id=before) == []

    declare(cakemail_project, {**PLAN, "per_month": 30000})
    assert steps_by_op(cakemail_project.preview_json()).get("update") == ["AccountFeatures::test-features"]
    before = control.last_request_id()
    cakemail_project.up()
    writes = [r for r in control.requests(since_id=before) if r["method"] not in ("GET",) and "/token" not in r["path"]]
    assert [(r["method"], r["body"]) for r in writes] == [("PATCH", {"usage_limits": {"per_month": 30000}})]
    assert cakemail_api.get_account(outputs["account_id"]).usage_limits["per_month"] == 30000


def test_undeclared_settings_are_left_alone_and_not_drift(cakemail_project, cakemail_api):
    declare(cakemail_project, {"per_month": 20000})
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]
    cakemail_api.patch_account(account_id, PatchAccount(usage_limits=UsageLimits(lists=7, use_tags=True)))
    refresh = cakemail_project.refresh("--diff")
    assert "~ 1 updated" not in refresh.output and "lists" not in refresh.output
    cakemail_project.preview("--expect-no-changes")


def test_switch_flipped_out_of_band_is_reported_and_put_back(cakemail_project, cakemail_api):
    declare(cakemail_project, PLAN)
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]
    cakemail_api.patch_account(account_id, PatchAccount(usage_limits=UsageLimits(use_ab_split=False)))

    refresh = cakemail_project.refresh("--diff")
    assert "use_ab_split" in refresh.output and "~ 1 updated" in refresh.output
    cakemail_project.up()
    assert cakemail_api.get_account(account_id).usage_limits["use_ab_split"] is True
    cakemail_project.preview("--expect-no-changes")


def test_destroy_leaves_settings_as_they_are(cakemail_project, cakemail_api, control):
    declare(cakemail_project, PLAN)
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]
    # Remove only the features from the program: the account stays, its limits stay as set.
    cakemail_project.set_customer(copy.deepcopy(ACME))
    before = control.last_request_id()
    cakemail_project.up()
    assert not [r for r in control.requests(since_id=before) if r["method"] == "PATCH"]
    assert cakemail_api.get_account(account_id).usage_limits["per_month"] == PLAN["per_month"]
