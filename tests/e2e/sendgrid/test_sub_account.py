"""SubAccount on SendGrid (a subuser) through the real pulumi CLI against the emulator: one scenario
that checks, in sequence, bad input at preview, the create, a no-op preview, an update in place, the
changes SendGrid cannot make (refused at preview), the guarded replacement, drift of a change and
of a deletion, and a destroy that leaves nothing; and the password nowhere in clear."""

from __future__ import annotations

import json

from ..pulumi_cli import resource_summary, steps_by_op
from .conftest import PASSWORD, customer, declare, sendgrid_requests, unique


def test_a_subuser_through_its_whole_life(sendgrid_project, sendgrid_api, sendgrid_parent, control):
    project, parent = sendgrid_project, sendgrid_parent
    username = unique("acme")
    shown: list[str] = []  # every output of the CLI: the password must never be in it

    # Bad input fails the preview naming each field, before any request to SendGrid.
    before = control.last_request_id()
    declare(project, customer("has space", parent, ips=["not-an-ip"]), password="short")
    bad = project.preview(check=False)
    shown.append(bad.output)
    assert bad.returncode != 0
    assert "'has space' is not a SendGrid username" in bad.output, bad.output
    assert "'not-an-ip' is not an IPv4 address" in bad.output
    assert "password: must be a string of at least 8 characters" in bad.output
    assert "short" not in bad.output.replace("shown", "")
    # A password written in clear in the stack file is refused by the program, naming the command.
    project.set_customer(customer(username, parent, password="In-clear-Passw0rd"))
    clear = project.preview(check=False)
    assert clear.returncode != 0, clear.output
    assert ("customer.account.password: is a secret, but stacks/Pulumi.test.yaml holds it in clear" in clear.output
            and "pulumi config set --path --secret 'email-partners:customer.account.password'" in clear.output), \
        clear.output
    assert sendgrid_requests(control, before) == []

    # Create; the stack file holds the password encrypted, and so does the state.
    declared = declare(project, customer(username, parent))
    shown.append(project.up().output)
    subuser = sendgrid_api.find_subuser(username)
    assert subuser is not None and (subuser.email, subuser.disabled) == (f"owner@{username}.example", False)
    outputs = project.outputs()
    assert (outputs["account_id"], outputs["account_status"]) == (username, "active")
    assert PASSWORD not in project.stack_file.read_text()

    # A no-op preview makes no request.
    before = control.last_request_id()
    shown.append(project.preview("--expect-no-changes").output)
    assert sendgrid_requests(control, before) == []

    # In place: suspended (PATCH disabled) and the IPs (PUT ips).
    declared["account"].update(suspended=True, ips=parent["ips"])
    declare(project, declared)
    assert steps_by_op(project.preview_json()).get("update") == ["SubAccount::test-account"]
    before = control.last_request_id()
    shown.append(project.up().output)
    assert sendgrid_api.find_subuser(username).disabled is True
    writes = [(r["method"], r["path"]) for r in sendgrid_requests(control, before) if r["method"] != "GET"]
    assert sorted(writes) == [("PATCH", f"/sendgrid/v3/subusers/{username}"),
                              ("PUT", f"/sendgrid/v3/subusers/{username}/ips")], writes

    # What SendGrid cannot change is refused at preview, naming the field, with no request.
    declared["account"]["email"] = "someone-else@acme.example"
    declare(project, declared, password="Rotated-Passw0rd-never-shown")
    before = control.last_request_id()
    refused = project.preview(check=False)
    shown.append(refused.output)
    assert refused.returncode != 0
    assert "password: SendGrid's API cannot change a subuser's password" in refused.output, refused.output
    assert "SendGrid's API cannot change a subuser's e-mail" in refused.output
    assert "Rotated-Passw0rd-never-shown" not in refused.output
    assert sendgrid_requests(control, before) == []
    declared["account"]["email"] = f"owner@{username}.example"

    # A new username is a new subuser: refused unless acknowledged.
    renamed = unique("acme-renamed")
    declared["account"]["username"] = renamed
    declare(project, declared)
    guarded = project.preview(check=False)
    shown.append(guarded.output)
    assert guarded.returncode != 0 and "[replace-guard]" in guarded.output, guarded.output
    assert f"username (from '{username}' to '{renamed}')" in guarded.output
    assert f"sub-account of customer '{username}'" in guarded.output  # the subuser's username names it
    declared["account"]["allow_replace"] = True
    declare(project, declared)
    shown.append(project.up().output)
    assert sendgrid_api.find_subuser(username) is None
    assert sendgrid_api.find_subuser(renamed).disabled is True
    del declared["account"]["allow_replace"]
    declare(project, declared)

    recorded = project.resources("SubAccount")[0]
    for kept in (recorded["inputs"], recorded["outputs"]):  # encrypted by the engine, inputs and outputs
        assert set(kept["password"]) == {"4dabf18193072939515e22adb298388d", "ciphertext"}, kept["password"]

    # Drift: re-enabled in the console, then deleted there.
    sendgrid_api.set_disabled(renamed, False)
    refresh = project.refresh("--diff")
    shown.append(refresh.output)
    assert "~ 1 updated" in refresh.output and "suspended" in refresh.output, refresh.output
    sendgrid_api.delete_subuser(renamed)
    refresh = project.refresh()
    shown.append(refresh.output)
    assert "- 1 deleted" in refresh.output, refresh.output
    shown.append(project.up().output)  # made again, as declared
    assert sendgrid_api.find_subuser(renamed).disabled is True

    # Destroy, once unprotected on purpose, leaves nothing.
    declared["account"]["protect"] = False
    declare(project, declared)
    shown.append(project.up().output)
    shown.append(project.destroy().output)
    assert sendgrid_api.list_subusers() == []

    # The password, in clear: never in any output, in the state, or in the emulator's request log.
    state = json.dumps(project.export())
    log = json.dumps(control.requests(vendor="sendgrid"))
    for text in (*shown, state, log):
        assert PASSWORD not in text
    creates = [r for r in control.requests(vendor="sendgrid") if r["method"] == "POST" and
               r["path"] == "/sendgrid/v3/subusers"]
    assert creates and all(r["body"]["password"] != PASSWORD for r in creates)


def test_creates_killed_mid_flight_are_taken_over_not_made_twice(sendgrid_project, sendgrid_api, sendgrid_parent,
                                                                 control):
    """`pulumi up` killed while SendGrid holds the subuser's create, then the domain's: after `email-partners
    recover`, one subuser and one domain, no second POST, and a clean preview."""
    from ..test_interrupted_runs import kill_while_held, posts, recover

    project, username = sendgrid_project, unique("killed")
    declared = declare(project, customer(username, sendgrid_parent, protect=False))
    before = control.last_request_id()
    kill_while_held(project, control, r"^/sendgrid/v3/subusers$")
    assert "taking it over" in recover(project).output
    assert [s.username for s in sendgrid_api.list_subusers()] == [username]
    assert posts(control, before, r"^/sendgrid/v3/subusers$") == 1, "the recovery sent the create again"

    domain = f"news.{username}.example"
    declared["sending_domains"] = [{"domain": domain}]
    declare(project, declared)
    kill_while_held(project, control, r"^/sendgrid/v3/whitelabel/domains$")
    assert "taking it over" in recover(project).output
    assert len(sendgrid_api.find_domains(domain, username)) == 1
    assert posts(control, before, r"^/sendgrid/v3/whitelabel/domains$") == 1
    assert not project.export()["deployment"].get("pending_operations")
    project.preview("--expect-no-changes")
    project.destroy()
