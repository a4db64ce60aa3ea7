"""SubAccount on Cakemail through the real pulumi CLI against the emulator (what every platform
does: bad input, a deletion behind the tool's back, no credential in state, in
tests/e2e/test_every_platform.py)."""

from __future__ import annotations

import copy

from providers.cakemail.models import PatchAccount

from ...vendors.cakemail import ACME, declare
from ..pulumi_cli import resource_summary, steps_by_op


def test_create_then_noop_preview_makes_no_request(cakemail_project, cakemail_api, control):
    declare(cakemail_project)
    cakemail_project.up()
    outputs = cakemail_project.outputs()
    account = cakemail_api.get_account(outputs["account_id"])
    assert account is not None and account.name == "Acme Corp"
    assert outputs["account_status"] == "active"

    before = control.last_request_id()
    cakemail_project.preview("--expect-no-changes")
    assert control.requests(since_id=before) == [], "a no-op preview must not call the API, not even for a token"

    result = cakemail_project.up()
    assert resource_summary(result.output) == ["3 unchanged"], result.output


def test_rename_updates_in_place(cakemail_project, cakemail_api):
    declare(cakemail_project)
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]

    declare(cakemail_project, name="Acme Corporation")
    assert steps_by_op(cakemail_project.preview_json()).get("update") == ["SubAccount::test-account"]
    cakemail_project.up()
    assert cakemail_project.outputs()["account_id"] == account_id
    assert cakemail_api.get_account(account_id).name == "Acme Corporation"


def test_owner_email_change_replaces_the_account(cakemail_project, cakemail_api):
    declare(cakemail_project)
    cakemail_project.up()
    old_id = cakemail_project.outputs()["account_id"]

    customer = copy.deepcopy(ACME)
    customer["account"]["owner"]["email"] = "new-owner@acme.example"
    customer["account"]["allow_replace"] = True  # the acknowledgement the guard asks for
    cakemail_project.set_customer(customer)
    preview = cakemail_project.preview_json()
    assert "replace" in steps_by_op(preview), preview.get("steps")
    cakemail_project.up()

    new_id = cakemail_project.outputs()["account_id"]
    assert new_id != old_id
    assert cakemail_api.get_account(old_id) is None
    assert [a.id for a in cakemail_api.iter_accounts()] == [new_id]


def test_suspend_and_unsuspend(cakemail_project, cakemail_api):
    declare(cakemail_project)
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]

    declare(cakemail_project, suspended=True)
    cakemail_project.up()
    assert cakemail_api.get_account(account_id).status == "suspended"

    declare(cakemail_project, suspended=False)
    cakemail_project.up()
    assert cakemail_api.get_account(account_id).status == "active"
    assert cakemail_project.outputs()["account_id"] == account_id


def test_out_of_band_rename_is_reported_and_reverted(cakemail_project, cakemail_api):
    declare(cakemail_project)
    cakemail_project.up()
    account_id = cakemail_project.outputs()["account_id"]

    cakemail_api.patch_account(account_id, PatchAccount(name="Renamed In Console"))
    refresh = cakemail_project.refresh("--diff")
    assert "~ 1 updated" in refresh.output
    assert "Renamed In Console" in refresh.output, refresh.output

    cakemail_project.up()
    assert cakemail_api.get_account(account_id).name == "Acme Corp"
    cakemail_project.preview("--expect-no-changes")


def test_destroy_leaves_nothing_behind(cakemail_project, cakemail_api):
    declare(cakemail_project, suspended=True, protect=False)
    cakemail_project.up()
    assert len(list(cakemail_api.iter_accounts())) == 1
    cakemail_project.destroy()
    assert list(cakemail_api.iter_accounts()) == []


def test_retries_through_503_and_429_create_exactly_one_account(cakemail_project, cakemail_api, control):
    declare(cakemail_project)
    control.fault(r"^/cakemail/accounts$", method="POST", status=503, retry_after=1, count=2)
    control.fault(r"^/cakemail/accounts", status=429, retry_after=1, count=2)
    before = control.last_request_id()
    cakemail_project.up()
    served = control.requests(since_id=before, vendor="cakemail")
    assert sum(1 for r in served if r.get("fault")) == 4
    accounts = list(cakemail_api.iter_accounts())
    assert len(accounts) == 1 and accounts[0].id == cakemail_project.outputs()["account_id"]


def test_dropped_create_connection_creates_exactly_one_account(cakemail_project, cakemail_api, control):
    """No answer at all: the create is not re-sent blindly; the up says the outcome is unknown, and
    the next up creates the account (the dropped request never landed), exactly once."""
    declare(cakemail_project)
    cakemail_project.set_config("cakemail:timeoutSeconds", "2")  # the look-up window is twice that
    control.fault(r"^/cakemail/accounts$", method="POST", drop=True, count=1)
    failed = cakemail_project.up(check=False)
    assert failed.returncode != 0 and "the outcome is unknown" in failed.output, failed.output
    assert list(cakemail_api.iter_accounts()) == []
    cakemail_project.up()
    assert [a.id for a in cakemail_api.iter_accounts()] == [cakemail_project.outputs()["account_id"]]


def test_a_failing_suspend_right_after_create_does_not_lose_the_account(cakemail_project, cakemail_api, control):
    declare(cakemail_project, suspended=True)
    control.fault(r"/suspend$", status=500, count=20)
    cakemail_project.up()
    [account] = list(cakemail_api.iter_accounts())
    assert account.id == cakemail_project.outputs()["account_id"] and not account.suspended
    control.clear_faults()
    assert steps_by_op(cakemail_project.preview_json()).get("update") == ["SubAccount::test-account"]
    cakemail_project.up()
    assert [a.status for a in cakemail_api.iter_accounts()] == ["suspended"]
