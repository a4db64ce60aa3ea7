"""SendingDomain on SendGrid (a domain authenticated on behalf of the subuser) and its
DomainVerification, through the real pulumi CLI: bad input at preview with no request, the create
with its records, a no-op preview, verification once published, an update in place, a replacement,
drift of a deletion, and a destroy that leaves nothing."""

from __future__ import annotations

from ..pulumi_cli import steps_by_op
from .conftest import customer, declare, sendgrid_requests, unique


def test_an_authenticated_domain_through_its_whole_life(sendgrid_project, sendgrid_api, sendgrid_parent, control):
    project, username = sendgrid_project, unique("domains")
    domain = f"news.{username}.example"
    declared = customer(username, sendgrid_parent, protect=False)

    declared["sending_domains"] = [{"domain": domain, "subdomain": "not_a_label", "custom_dkim_selector": "toolong"}]
    declare(project, declared)
    before = control.last_request_id()
    bad = project.preview(check=False)
    assert bad.returncode != 0
    assert "'not_a_label' is not one DNS label" in bad.output, bad.output
    assert "custom_dkim_selector" in bad.output
    assert sendgrid_requests(control, before) == []

    # The create records the records at once, in every platform's shape, on behalf of the subuser.
    declared["sending_domains"] = [{"domain": domain}]
    declare(project, declared)
    project.up()
    outputs = project.outputs()
    [live] = sendgrid_api.find_domains(domain, username)
    assert live.username == username and outputs["domains_verified"] == {domain: False}
    records = outputs["dns_records"]
    assert [(r["type"], r["purpose"], r["validated"]) for r in records] == [
        ("CNAME", "return-path", False), ("CNAME", "dkim", False), ("CNAME", "dkim", False)]
    assert records[1]["name"] == f"s1._domainkey.{domain}"
    assert sendgrid_api.find_domains(domain) == []  # the subuser's, not the parent's

    before = control.last_request_id()
    project.preview("--expect-no-changes")
    assert sendgrid_requests(control, before) == []

    # Published, then verified by the generic DomainVerification (which asks SendGrid to validate).
    for record in records:
        control.publish(record)
    declared["sending_domains"][0]["verification_timeout_seconds"] = 30
    declare(project, declared)
    project.up()
    assert project.outputs()["domains_verified"] == {domain: True}
    assert sendgrid_api.get_domain(live.id, username).valid is True

    # In place: the subuser's default domain.
    declared["sending_domains"][0]["default"] = True
    declare(project, declared)
    assert steps_by_op(project.preview_json()).get("update") == [f"SendingDomain::test-{domain}"]
    project.up()
    assert sendgrid_api.get_domain(live.id, username).default is True

    # A new subdomain is a new authenticated domain: new records, the old domain deleted after.
    declared["sending_domains"][0]["subdomain"] = "mail"
    declare(project, declared)
    assert f"SendingDomain::test-{domain}" in steps_by_op(project.preview_json()).get("replace", [])
    for record in [{"name": f"mail.{domain}", "type": "CNAME", "value": r["value"]} for r in records[:1]]:
        control.publish(record)
    project.up()
    [replaced] = sendgrid_api.find_domains(domain, username)
    assert replaced.id != live.id and replaced.subdomain == "mail"

    # Drift of a deletion: refresh drops it (and its verification), up authenticates it again.
    sendgrid_api.delete_domain(replaced.id, username)
    refresh = project.refresh()
    assert "- 2 deleted" in refresh.output, refresh.output
    project.up()
    [again] = sendgrid_api.find_domains(domain, username)
    assert again.id != replaced.id and project.outputs()["domains_verified"] == {domain: True}

    project.destroy()
    assert sendgrid_api.list_subusers() == [] and list(sendgrid_api.iter_domains()) == []  # the parent sees all
