"""SendGrid in the tool's journeys, through the real pulumi CLI: `new` writes a starter without any
password, `clone` into staging rewrites the username and e-mail and carries the encrypted password
(Pulumi re-encrypts it for the copy), and `discover` writes stacks that adopt with no write."""

from __future__ import annotations

import pytest
import yaml

from ..environments_harness import on_stacks, tool, write_environment, writes
from ..pulumi_cli import PulumiProject
from .conftest import PASSWORD, customer, declare, unique


@pytest.fixture
def project(tmp_path, pulumi_bin) -> PulumiProject:
    return PulumiProject(tmp_path / "project", pulumi_bin, stack="scratch")


def environment(parent: dict, var: str) -> dict:
    return {"sendgrid": {"apiUrl": parent["api_url"], "parentUsername": parent["username"], "apiKey": {"env": var}}}


def use(project: PulumiProject, stack: str) -> None:
    project.stack = stack
    project.run("stack", "select", stack)


def test_new_clone_and_discover(project, pulumi_bin, control, sendgrid_parent, sendgrid_api):
    from providers.sendgrid import SendGridClient
    from providers.sendgrid.models import CreateSubuser

    staging = {**control.post("/sendgrid/parents", {"username": unique("e2e-staging")}), "api_url": sendgrid_parent["api_url"]}
    staging_api = SendGridClient(staging["api_url"], staging["api_key"])
    write_environment(project, "production", environment(sendgrid_parent, "PROD_SG_KEY"), {"owner_email": "keep"})
    write_environment(project, "staging", environment(staging, "STAGING_SG_KEY"), {"owner_email": "plus"})
    creds = {"PROD_SG_KEY": sendgrid_parent["api_key"], "STAGING_SG_KEY": staging["api_key"]}

    username = unique("acme")
    made = tool(project, "new", username, "--platform", "sendgrid", "--environment", "production", env=creds,
                bin_dir=pulumi_bin)
    assert made.returncode == 0, made.output
    starter = (project.root / "stacks" / f"Pulumi.{username}.production.yaml").read_text()
    assert "# password:" in starter and "--secret" in starter
    use(project, f"{username}.production")
    declare(project, {**customer(username, sendgrid_parent), "features": {"type": "unlimited"}})
    project.up()

    cloned = tool(project, "clone", f"{username}.production", "--to", "staging", env=creds, bin_dir=pulumi_bin)
    assert cloned.returncode == 0, cloned.output
    text = (project.root / "stacks" / f"Pulumi.{username}.staging.yaml").read_text()
    account = yaml.safe_load(text)["config"]["email-partners:customer"]["account"]
    assert (account["username"], account["email"]) == (f"{username}-staging", f"owner+staging@{username}.example")
    assert set(account["password"]) == {"secure"} and PASSWORD not in text + cloned.output
    use(project, f"{username}.staging")
    project.up()  # the copied password decrypts in the copy: the subuser is created with it
    [copy] = staging_api.list_subusers()
    assert (copy.username, copy.email) == (f"{username}-staging", f"owner+staging@{username}.example")
    assert [s.username for s in sendgrid_api.list_subusers()] == [username]

    # The copy's subuser is the copy's: discover writes no second stack for it, naming its owner.
    found = tool(project, "discover", "--environment", "staging", "--platform", "sendgrid", "--output", "json",
                 env=creds, bin_dir=pulumi_bin)
    assert found.returncode == 0, found.output
    [account] = found.json()["accounts"]
    assert account["account_id"] == f"{username}-staging", account
    assert account["result"].startswith(f"skipped: managed by stack {username}.staging"), account
    assert not (project.root / "stacks" / f"Pulumi.{account['stack']}.yaml").exists()

    # A subuser made outside any stack is written, and adopted with no write.
    outside = unique("outside")
    staging_api.create_subuser(CreateSubuser(username=outside, email=f"owner@{outside}.example",
                                             password="Outside-Passw0rd", ips=["198.51.100.10"]))
    found = tool(project, "discover", "--environment", "staging", "--platform", "sendgrid", "--customer", outside,
                 "--output", "json", env=creds, bin_dir=pulumi_bin)
    stacks = [a["stack"] for a in found.json()["accounts"] if a["result"] == "written"]
    assert len(stacks) == 1, found.output
    before = control.last_request_id()
    on_stacks(project, stacks, "up", "--yes", "--skip-preview")
    on_stacks(project, stacks, "preview", "--expect-no-changes")
    assert writes(control.requests(since_id=before, vendor="sendgrid")) == []
