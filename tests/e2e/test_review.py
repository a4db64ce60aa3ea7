"""`email-partners review` through the real CLI, the real engine and the emulator.

One Cakemail customer goes through the scenarios a reviewer meets (rename, suspension, owner
change refused by the guard then acknowledged and carried out, domain change, removal), so the
stack is created once; each summary must list exactly the planned changes with old and new values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .pulumi_cli import PulumiProject

STACK = "acme-bakery.staging"
TOOL = [sys.executable, "-m", "operations"]


def tool(project: PulumiProject, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**project.env, "PULUMI_BIN_DIR": str(project.env["PATH"].split(os.pathsep)[0]), **(env or {})}
    return subprocess.run([*TOOL, "--project-dir", str(project.root), *args], cwd=project.root, env=environment,
                          capture_output=True, text=True, timeout=600)


def write_customer(project: PulumiProject, customer: dict) -> None:
    """Edit the stack file as a pull request would (config, secrets and all, kept)."""
    data = yaml.safe_load(project.stack_file.read_text())
    data["config"]["email-partners:customer"] = customer
    project.stack_file.write_text(yaml.safe_dump(data, sort_keys=False))


def review_json(project: PulumiProject, *args: str) -> tuple[int, dict, str]:
    result = tool(project, "review", STACK, "--format", "json", *args)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)["stacks"][0], result.stdout


def changed(review: dict) -> dict[str, dict[str, tuple]]:
    return {f"{c['resource']}:{c['op']}": {f["field"]: (f["old"], f["new"]) for f in c["fields"]}
            for c in review["changes"]}


def customer(**account) -> dict:
    return {"platform": "cakemail",
            "account": {"name": "Acme Bakery", "owner": {"email": "owner@acme.example", "first_name": "Ada",
                                                          "last_name": "Baker"}, **account},
            "features": {"per_month": 1000},
            "sending_domains": [{"domain": "news.acme.example"}]}


@pytest.fixture
def project(tmp_path, pulumi_bin, cakemail_partner) -> PulumiProject:
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack=STACK)
    project.set_config("cakemail:apiUrl", cakemail_partner["api_url"])
    project.set_config("cakemail:username", cakemail_partner["username"])
    project.set_config("cakemail:password", cakemail_partner["password"], secret=True)
    return project


def test_review_of_a_customer_through_its_changes(project, cakemail_partner, cakemail_api, control):
    password = cakemail_partner["password"]
    write_customer(project, customer())
    project.up()
    account_id = project.outputs()["account_id"]

    # A no-op: nothing dangerous, nothing changed, every resource counted as unchanged, no request made.
    before = control.last_request_id()
    status, review, text = review_json(project)
    assert status == 0 and review["changes"] == [] and review["unchanged"] == 3 and not review["dangers"], (review, text)
    assert control.requests(since_id=before) == []

    # A rename and a suspension: in place; the suspension is dangerous until acknowledged.
    write_customer(project, customer(name="Acme Bakery & Co", suspended=True))
    status, review, text = review_json(project)
    assert status == 3, text
    assert changed(review) == {"SubAccount:update": {"name": ("Acme Bakery", "Acme Bakery & Co"),
                                                     "suspended": (False, True)}}, review
    assert [d["kind"] for d in review["dangers"]] == ["account-suspended"]
    assert "Acme Bakery & Co" in text and "can no longer send" in text and review["unchanged"] == 2
    assert tool(project, "review", STACK, "--acknowledge", "account-suspended").returncode == 0

    # An owner change: the guard refuses it at preview, naming the customer, the field and the line to add.
    write_customer(project, customer(owner={"email": "new-owner@acme.example", "first_name": "Ada",
                                            "last_name": "Baker"}))
    status, review, text = review_json(project)
    assert status == 3, text
    assert review["dangers"][0]["kind"] == "account-replaced" and not review["dangers"][0]["acknowledged"]
    reason = review["dangers"][0]["reason"]
    for expected in ("owner.email", "owner@acme.example", "new-owner@acme.example", "'Acme Bakery'", "allow_replace: true"):
        assert expected in reason, reason
    # ... and the refused change is listed as planned: resource, field, old -> new, not "No changes.".
    assert changed(review) == {"SubAccount:replace (refused)": {
        "owner.email": ("owner@acme.example", "new-owner@acme.example")}}, review["changes"]
    assert "No changes." not in tool(project, "review", STACK).stdout
    refused = project.preview(check=False)
    assert refused.returncode != 0 and "allow_replace: true" in refused.output
    diagnostic = refused.output.split("Diagnostics:", 1)[1].split("has a problem:", 1)[1].splitlines()[0]
    assert "map[" not in refused.output and diagnostic.endswith("put owner back.") and ".." not in diagnostic

    # Acknowledged: the plan replaces the account, its features and its domain; flagged but accepted.
    write_customer(project, customer(owner={"email": "new-owner@acme.example", "first_name": "Ada",
                                            "last_name": "Baker"}, allow_replace=True))
    status, review, text = review_json(project)
    assert status == 0, text
    assert [(d["kind"], d["acknowledged"]) for d in review["dangers"]] == [("account-replaced", True)], review["dangers"]
    assert changed(review)["SubAccount:replace"] == {"owner.email": ("owner@acme.example", "new-owner@acme.example")}
    assert {c["resource"]: c["op"] for c in review["changes"]} == {
        "SubAccount": "replace", "AccountFeatures": "replace", "SendingDomain": "replace"}
    assert "contacts and campaigns" in text and "new DNS records" in text
    project.up()
    new_id = project.outputs()["account_id"]
    assert new_id != account_id and cakemail_api.get_account(account_id) is None

    # A domain change: a new DKIM key, new DNS records.
    declared = customer(owner={"email": "new-owner@acme.example", "first_name": "Ada", "last_name": "Baker"})
    declared["sending_domains"] = [{"domain": "mail.acme.example"}]
    write_customer(project, declared)
    status, review, text = review_json(project)
    assert status == 3 and [d["kind"] for d in review["dangers"]] == ["domain-replaced"], review
    assert "news.acme.example" in review["dangers"][0]["reason"]
    ops = sorted((c["resource"], c["op"]) for c in review["changes"])
    assert ops == [("SendingDomain", "replace")], ops  # one change, not a create and a delete
    assert changed(review)["SendingDomain:replace"] == {"domain": ("news.acme.example", "mail.acme.example")}
    assert "adopt_existing" not in text

    # No secret anywhere, in either form.
    for form in ("markdown", "json"):
        out = tool(project, "review", STACK, "--format", form, "--check-credentials").stdout
        assert password not in out and "accepted" in out, out

    # Retiring the customer: destroy is refused while the account is protected (the default) ...
    write_customer(project, declared)
    project.up()
    refused = project.destroy(check=False)
    assert refused.returncode != 0 and "protected" in refused.output and STACK in refused.output
    assert cakemail_api.get_account(new_id) is not None
    # ... and carried out once the declaration says so and an `up` recorded it.
    write_customer(project, {**declared, "account": {**declared["account"], "protect": False}})
    project.up()
    project.destroy()
    assert cakemail_api.get_account(new_id) is None


def test_preview_fails_on_missing_or_malformed_settings_and_review_reports_a_wrong_password(
        tmp_path, pulumi_bin, control, cakemail_partner, signupto_partner, ciirus_user):
    """A preview that passes means the `up` can run: what is knowable without a request fails the
    preview (naming the config key and the environment variable); a wrong password needs a request."""
    def project(name: str, config: dict, declared: dict) -> PulumiProject:
        p = PulumiProject(tmp_path / name, pulumi_bin, stack=f"{name}.staging")
        for key, value in config.items():
            p.set_config(key, value, secret="password" in key.lower() or "key" in key.lower())
        p.set_customer(declared)
        return p

    owner = {"email": "owner@shop.example", "first_name": "Ada", "last_name": "Baker"}
    cakemail = project("cakemail", {"cakemail:apiUrl": cakemail_partner["api_url"],
                                    "cakemail:username": "partner-login-without-at"},
                       {"platform": "cakemail", "account": {"name": "Shop", "owner": owner}})
    signupto = project("signupto", {"signupto:apiUrl": signupto_partner["api_url"], "signupto:partnerId": "abc"},
                       {"platform": "signupto", "account": {"name": "Shop", "owner": {"email": owner["email"]}}})
    ciirus = project("ciirus", {"ciirus:apiUrl": "127.0.0.1/ciirus", "ciirus:apiVersion": "v1999.01.01",
                                "ciirus:username": ciirus_user["username"], "ciirus:password": ciirus_user["password"]},
                     {"platform": "ciirus", "account": {}, "sending_domains": [{"domain": "mail.shop.example"}]})
    before = control.last_request_id()
    # Every mistake of a stack at once, each naming the key and the environment variable.
    expected = {cakemail: ["cakemail:username (or CAKEMAIL_USERNAME) is 'partner-login-without-at', which is not an "
                           "e-mail address", "cakemail:password", "CAKEMAIL_PASSWORD"],
                signupto: ["signupto:partnerId (or SIGNUPTO_PARTNER_ID) is 'abc', which is not the partner's numeric id",
                           "signupto:partnerKey", "SIGNUPTO_PARTNER_KEY"],
                ciirus: ["ciirus:apiUrl", "'127.0.0.1/ciirus'", "ciirus:apiVersion", "'v1999.01.01'", "v2024.07.31"]}
    for p, words in expected.items():
        result = p.preview(check=False)
        assert result.returncode != 0, result.output
        for word in words:
            assert word in result.output, (word, result.output[-3000:])
    assert control.requests(since_id=before) == [], "settings are checked without any request"

    # Credentials present but wrong: the preview cannot know; `review --check-credentials` asks once.
    cakemail.set_config("cakemail:username", cakemail_partner["username"])
    cakemail.set_config("cakemail:password", "not-the-password", secret=True)
    before = control.last_request_id()
    result = tool(cakemail, "review", "cakemail.staging", "--check-credentials")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused the credentials" in result.stdout and "not-the-password" not in result.stdout, result.stdout
    assert [r["path"] for r in control.requests(since_id=before)] == ["/cakemail/token"]
    checked = tool(cakemail, "check-credentials", "cakemail.staging")
    assert checked.returncode == 1 and "FAILED" in checked.stdout
    # The FAILED line names the identity and its config key, as the ok line does.
    assert f"FAILED: cakemail:username {cakemail_partner['username']}" in checked.stdout, checked.stdout

    # At `up` the vendor's refusal names the setting to check, in the engine's words without a prefix.
    failed = cakemail.up(check=False)
    assert failed.returncode != 0 and "check cakemail:username and cakemail:password" in failed.output, failed.output
    assert "Exception calling application" not in failed.output and "not-the-password" not in failed.output
    cakemail.set_config("cakemail:password", cakemail_partner["password"], secret=True)
    for wrong in (control.url + "/cakemail/v2", control.url + "/ciirus"):  # a wrong path; another vendor's URL
        cakemail.set_config("cakemail:apiUrl", wrong)
        failed = cakemail.up(check=False)
        assert failed.returncode != 0 and "check cakemail:apiUrl (or CAKEMAIL_API_URL)" in failed.output, failed.output
