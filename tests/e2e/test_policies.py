"""The policy pack through the real CLI: `pulumi preview --policy-pack <repo>/policies`, previews only.

Each test is one customer stack taken through several declarations or environments, so that every
rule fails a preview as mandatory, warns as advisory, and a compliant stack passes, in few runs.
"""

from __future__ import annotations

import json
import re

import pytest

from .pulumi_cli import PulumiProject, Result, copy_policies

FINDING = re.compile(r"- \[(advisory|mandatory)\]\s+(\S+)\s+\((\S+): (\S+)\)")
OWNER = {"first_name": "Ada", "last_name": "Baker"}


def policy_preview(project: PulumiProject, *extra: str) -> tuple[Result, set[tuple[str, str, str]]]:
    """The preview with the pack, and its findings as (level, rule, resource name) from the "Policies:" block."""
    result = project.preview("--policy-pack", str(project.root / "policies"), *extra, check=False)
    assert "Policies:" in result.output, result.output[-3000:]
    block = result.output.split("Policies:", 1)[1]
    return result, {(level, rule, name) for level, rule, _type, name in FINDING.findall(block)}


def new_project(tmp_path, pulumi_bin, stack: str, config: dict[str, str], secrets: dict[str, str]) -> PulumiProject:
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack=stack)
    copy_policies(project.root)  # as git tracks it: a user's own settings files never count
    for key, value in config.items():
        project.set_config(key, value)
    for key, value in secrets.items():
        project.set_config(key, value, secret=True)
    return project


def test_cakemail_rules_mandatory_advisory_per_environment_and_a_compliant_customer(
        tmp_path, pulumi_bin, cakemail_partner):
    login_domain = cakemail_partner["username"].rpartition("@")[2]
    project = new_project(tmp_path, pulumi_bin, "acme.staging",
                          {"cakemail:apiUrl": cakemail_partner["api_url"], "cakemail:username": cakemail_partner["username"]},
                          {"cakemail:password": cakemail_partner["password"]})
    account = "acme.staging-account"
    # A trial over its limits, owned by an address on the reseller's (the partner login's) domain, no domain.
    project.set_customer({"platform": "cakemail",
                          "account": {"name": "Acme", "owner": {"email": f"ops@mail.{login_domain}", **OWNER},
                                      "trial": True},
                          "features": {"per_month": 50000, "lists": -1, "maximum_contacts": 400}})
    result, findings = policy_preview(project)
    assert result.returncode != 0
    assert findings == {("mandatory", "owner-not-on-reseller-domain", account),
                        ("mandatory", "trial-within-trial-limits", "acme.staging-features"),
                        ("advisory", "sending-domain-required", account)}
    assert f"account.owner.email ops@mail.{login_domain} is on {login_domain}" in result.output
    assert "features.per_month is 50000 (trial maximum 1000)" in result.output
    assert "features.lists is unlimited (-1)" in result.output
    assert "features.maximum_contacts" not in result.output  # 400 is within the trial's 500

    # The same stack declared a production one: the missing domain now blocks too.
    project.set_config("email-partners:environment", "production")
    result, findings = policy_preview(project)
    assert result.returncode != 0
    assert ("mandatory", "sending-domain-required", account) in findings
    assert "exceeds the trial limits of environment production" in result.output

    # Compliant: the customer's own owner address, a paying account, a sending domain.
    project.set_customer({"platform": "cakemail",
                          "account": {"name": "Acme", "owner": {"email": "owner@acme.example", **OWNER}},
                          "features": {"per_month": 50000, "lists": -1},
                          "sending_domains": [{"domain": "news.acme.example"}]})
    result, findings = policy_preview(project)
    assert result.returncode == 0, result.output[-3000:]
    assert findings == set()
    assert "email-partners@v0.1.0" in result.output


def test_ciirus_send_limit_threshold_per_environment_and_pack_config_override(tmp_path, pulumi_bin, ciirus_user):
    project = new_project(tmp_path, pulumi_bin, "riverside",
                          {"ciirus:apiUrl": ciirus_user["api_url"], "ciirus:apiVersion": ciirus_user["api_version"],
                           "ciirus:username": ciirus_user["username"]},
                          {"ciirus:password": ciirus_user["password"]})
    project.set_customer({"platform": "ciirus", "account": {},
                          "features": {"daily_send_limit": 800, "approved": False},
                          "sending_domains": [{"domain": "mail.riverside.example"}]})
    # No environment: the defaults allow 1000 a day without approval.
    result, findings = policy_preview(project)
    assert result.returncode == 0 and findings == set(), result.output[-3000:]

    # Production allows 500: the same declaration now fails, naming the rule and the resource.
    project.set_config("email-partners:environment", "production")
    result, findings = policy_preview(project)
    assert result.returncode != 0
    assert findings == {("mandatory", "daily-send-limit-needs-approval", "riverside-features")}
    assert ("features.daily_send_limit is 800, above 500 (the most for an account that is not approved, "
            "environment production), and features.approved is declared false") in result.output

    # Pulumi's own --policy-pack-config still overrides the pack's environment settings.
    override = tmp_path / "policy-config.json"
    override.write_text(json.dumps({"daily-send-limit-needs-approval": {"threshold": 5000}}))
    result, findings = policy_preview(project, "--policy-pack-config", str(override))
    assert result.returncode == 0 and findings == set(), result.output[-3000:]


def test_signupto_keep_on_destroy_warns_then_is_mandatory_in_production(tmp_path, pulumi_bin, signupto_partner):
    project = new_project(tmp_path, pulumi_bin, "harbour.staging",
                          {"signupto:apiUrl": signupto_partner["api_url"],
                           "signupto:partnerId": str(signupto_partner["partner_id"])},
                          {"signupto:partnerKey": signupto_partner["partner_key"]})
    project.set_customer({"platform": "signupto",
                          "account": {"name": "Harbour Books", "owner": {"email": "owner@harbour.example"}}})
    result, findings = policy_preview(project)
    assert result.returncode == 0, result.output[-3000:]
    assert findings == {("advisory", "signupto-keep-on-destroy", "harbour.staging-account")}
    assert "account.on_destroy is 'refuse', not 'keep' (environment staging)" in result.output

    project.set_config("email-partners:environment", "production")
    result, findings = policy_preview(project)
    assert result.returncode != 0
    assert findings == {("mandatory", "signupto-keep-on-destroy", "harbour.staging-account")}
