"""Sign-Up.to SubAccount through the real pulumi CLI against the emulator: its API creates and reads
accounts, never updates or deletes one (an account removed by support, and the partner key never
in state: tests/e2e/test_every_platform.py)."""

from __future__ import annotations

from ...vendors.signupto import declare


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


def test_optional_settings_left_out_do_not_block_later_runs(signupto_project, signupto_api):
    """The engine drops nulls: an account declared without timezone or country must stay unchanged."""
    signupto_project.set_customer({"platform": "signupto",
                                   "account": {"name": "Plain Co", "owner": {"email": "p@plain.example"}}})
    signupto_project.up()
    signupto_project.preview("--expect-no-changes")
    assert signupto_api.get_account(signupto_project.outputs()["account_id"]).name == "Plain Co"
