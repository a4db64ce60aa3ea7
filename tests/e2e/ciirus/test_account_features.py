"""Ciirus AccountFeatures (the daily send limit and approval) through the real pulumi CLI: fields of
the same remote object as the sub-account and its sending domain."""

from __future__ import annotations

from ...vendors.ciirus import declare
from ..pulumi_cli import steps_by_op


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
