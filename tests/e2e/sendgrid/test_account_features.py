"""AccountFeatures on SendGrid (the subuser's credits) through the real pulumi CLI: bad input at
preview with no request, the create, a no-op preview, an update in place, drift of a change (and
none from sending mail), the subuser's deletion, and a destroy that leaves nothing."""

from __future__ import annotations

from providers.sendgrid.models import CreditsRequest

from ..pulumi_cli import resource_summary, steps_by_op
from .conftest import customer, declare, sendgrid_requests, unique


def test_credits_through_their_whole_life(sendgrid_project, sendgrid_api, sendgrid_parent, control):
    project, username = sendgrid_project, unique("credits")
    declared = customer(username, sendgrid_parent, protect=False)

    # What a type needs is checked at preview, before any request.
    declared["features"] = {"type": "recurring", "reset_frequency": "monthly"}
    declare(project, declared)
    before = control.last_request_id()
    bad = project.preview(check=False)
    assert bad.returncode != 0 and "limit: required with type recurring" in bad.output, bad.output
    declared["features"] = {"type": "unlimited", "limit": 5}
    declare(project, declared)
    bad = project.preview(check=False)
    assert bad.returncode != 0 and "limit: not taken by type unlimited" in bad.output, bad.output
    assert sendgrid_requests(control, before) == []

    declared["features"] = {"type": "recurring", "limit": 1000, "reset_frequency": "monthly"}
    declare(project, declared)
    project.up()
    credits = sendgrid_api.get_credits(username)
    assert (credits.type, credits.total, credits.reset_frequency) == ("recurring", 1000, "monthly")
    assert project.outputs()["features"] == {"type": "recurring", "limit": 1000, "reset_frequency": "monthly"}

    before = control.last_request_id()
    project.preview("--expect-no-changes")
    assert sendgrid_requests(control, before) == []

    # In place: only the features change.
    declared["features"]["limit"] = 2000
    declare(project, declared)
    assert steps_by_op(project.preview_json()).get("update") == ["AccountFeatures::test-features"]
    project.up()
    assert sendgrid_api.get_credits(username).total == 2000

    # Drift of a change: reported by refresh, put back by up.
    sendgrid_api.set_credits(username, CreditsRequest(type="recurring", total=500, reset_frequency="weekly"))
    refresh = project.refresh("--diff")
    assert "~ 1 updated" in refresh.output and "weekly" in refresh.output, refresh.output
    project.up()
    credits = sendgrid_api.get_credits(username)
    assert (credits.total, credits.reset_frequency) == (2000, "monthly")

    # Nonrecurring: what is used of the allocation is not drift (an up never refills it).
    declared["features"] = {"type": "nonrecurring", "limit": 300}
    declare(project, declared)
    project.up()
    control.post(f"/sendgrid/subusers/{username}/credits", {"used": 100})
    refresh = project.refresh()
    assert "~" not in "".join(resource_summary(refresh.output)), refresh.output
    assert sendgrid_api.get_credits(username).remain == 200

    # The subuser deleted out of band: its credits are gone with it.
    sendgrid_api.delete_subuser(username)
    refresh = project.refresh()
    assert "- 2 deleted" in refresh.output, refresh.output
    project.up()  # made again, with its credits
    assert sendgrid_api.get_credits(username).remain == 300

    project.destroy()
    assert sendgrid_api.list_subusers() == []
