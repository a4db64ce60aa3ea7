"""The policy pack's checks and settings, called directly (the real engine runs them in tests/e2e/test_policies.py)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from policies import rules
from policies.settings import CONFIG_DIR, PackConfigError, pack_config, stack_context


@dataclass
class Res:
    resource_type: str
    urn: str
    props: dict[str, Any]
    dependencies: list = field(default_factory=list)
    property_dependencies: dict = field(default_factory=dict)


def account(urn: str, **props) -> Res:
    return Res(rules.SUB_ACCOUNT, urn, props)


def child(type_: str, urn: str, owner: Res | None, **props) -> Res:
    deps = {"account_id": [owner]} if owner else {}
    return Res(type_, urn, props, [owner] if owner else [], deps)


LIMITS = {"limits": {"per_month": 1000, "lists": 5}}


# --- daily send limit ------------------------------------------------------------------------------

@pytest.mark.parametrize("features, expected", [
    ({"daily_send_limit": 1000}, None),                        # at the threshold
    ({"daily_send_limit": 1001.0}, "features.daily_send_limit is 1001, above 1000"),  # the engine's floats
    ({"daily_send_limit": 5000, "approved": True}, None),
    ({"daily_send_limit": 5000, "approved": False}, "and features.approved is declared false"),
    ({"daily_send_limit": 5000}, "and features.approved is not declared"),
    ({"approved": False}, None),                               # no limit declared: left alone
])
def test_daily_send_limit_needs_approval(features, expected):
    found = rules.daily_send_limit_needs_approval({"platform": "ciirus", "features": features},
                                                  {"threshold": 1000.0}, "environment production")
    assert len(found) == (0 if expected is None else 1)
    if expected:
        assert expected in found[0] and "environment production" in found[0]


def test_daily_send_limit_only_concerns_ciirus():
    assert rules.daily_send_limit_needs_approval(
        {"platform": "cakemail", "features": {"daily_send_limit": 10 ** 6}}, {"threshold": 1}, "x") == []


# --- trial limits ------------------------------------------------------------------------------

def test_trial_account_over_limits_names_each_limit_and_the_features_resource():
    acct = account("urn:acct", platform="cakemail", trial=True)
    feats = child(rules.ACCOUNT_FEATURES, "urn:feats", acct, platform="cakemail",
                  features={"per_month": 50000.0, "lists": -1.0, "use_ab_split": True})
    [(message, urn)] = rules.trial_within_trial_limits([acct, feats], LIMITS, "no environment (defaults)")
    assert urn == "urn:feats"
    assert "features.per_month is 50000 (trial maximum 1000)" in message
    assert "features.lists is unlimited (-1) (trial maximum 5)" in message


@pytest.mark.parametrize("trial, features", [
    (False, {"per_month": 50000}),           # not a trial
    (True, {"per_month": 1000, "lists": 5}),  # at the maxima
    (True, {"maximum_contacts": 10 ** 6}),    # not a limit the settings cap
])
def test_trial_limits_pass(trial, features):
    acct = account("urn:acct", platform="cakemail", trial=trial)
    feats = child(rules.ACCOUNT_FEATURES, "urn:feats", acct, platform="cakemail", features=features)
    assert rules.trial_within_trial_limits([acct, feats], LIMITS, "x") == []


def test_trial_limits_follow_the_account_the_features_belong_to():
    trial = account("urn:trial", platform="cakemail", trial=True)
    paid = account("urn:paid", platform="cakemail", trial=False)
    feats = child(rules.ACCOUNT_FEATURES, "urn:feats", paid, platform="cakemail", features={"per_month": 50000})
    assert rules.trial_within_trial_limits([trial, paid, feats], LIMITS, "x") == []


# --- owner e-mail ------------------------------------------------------------------------------

@pytest.mark.parametrize("email, config, login, violates", [
    ("boss@reseller.example", {"reseller_domains": ["reseller.example"]}, None, True),
    ("boss@Mail.Reseller.Example", {"reseller_domains": ["reseller.example"]}, None, True),  # subdomain, any case
    ("boss@notreseller.example", {"reseller_domains": ["reseller.example"]}, None, False),
    ("boss@reseller.example", {"reseller_domains": [], "include_partner_login_domain": True}, "reseller.example", True),
    ("boss@reseller.example", {"reseller_domains": [], "include_partner_login_domain": False}, "reseller.example", False),
    ("owner@acme.example", {"reseller_domains": ["reseller.example"]}, "reseller.example", False),
])
def test_owner_not_on_reseller_domain(email, config, login, violates):
    found = rules.owner_not_on_reseller_domain({"platform": "cakemail", "owner": {"email": email}}, config, login)
    assert bool(found) == violates
    if violates:
        assert found[0].startswith(f"account.owner.email {email} is on reseller.example")


def test_owner_rule_ignores_accounts_without_owner():
    assert rules.owner_not_on_reseller_domain({"platform": "ciirus", "initial": {}},
                                              {"reseller_domains": ["x.example"]}, "x.example") == []


def test_owner_rule_reads_where_the_platform_mails_the_customer():
    """A SendGrid subuser's contact is its `email` (the description's owner_email_settings)."""
    found = rules.owner_not_on_reseller_domain({"platform": "sendgrid", "username": "acme", "email": "ops@reseller.example"},
                                               {"reseller_domains": ["reseller.example"]}, None)
    assert len(found) == 1 and found[0].startswith("account.email ops@reseller.example is on reseller.example")
    assert rules.owner_not_on_reseller_domain({"platform": "sendgrid", "email": "ops@acme.example"},
                                              {"reseller_domains": ["reseller.example"]}, None) == []


# --- sending domain, Sign-Up.to ------------------------------------------------------------------

def test_sending_domain_required_per_customer_on_listed_platforms():
    with_domain = account("urn:a", platform="cakemail")
    without = account("urn:b", platform="cakemail")
    signupto = account("urn:c", platform="signupto")
    domain = child(rules.SENDING_DOMAIN, "urn:d", with_domain, platform="cakemail", domain="news.a.example")
    found = rules.sending_domain_required([with_domain, without, signupto, domain],
                                          {"platforms": ["cakemail", "ciirus"]})
    assert [urn for _, urn in found] == ["urn:b"]
    assert "cakemail customer has no sending domain" in found[0][0]


@pytest.mark.parametrize("props, violates", [
    ({"platform": "signupto"}, True),                       # the resource's default is refuse
    ({"platform": "signupto", "on_destroy": "refuse"}, True),
    ({"platform": "signupto", "on_destroy": "keep"}, False),
    ({"platform": "cakemail"}, False),
])
def test_signupto_keep_on_destroy(props, violates):
    found = rules.signupto_keep_on_destroy(props, "environment production")
    assert bool(found) == violates


# --- settings ----------------------------------------------------------------------------------

def test_shipped_settings_name_every_rule_with_a_level():
    config = pack_config(None, set(rules.RULES))
    assert set(config) == set(rules.RULES)
    assert all(entry["enforcementLevel"] in ("advisory", "mandatory") for entry in config.values())


def test_environment_file_overrides_rule_by_rule_and_property_by_property():
    default = pack_config(None, set(rules.RULES))
    production = pack_config("production", set(rules.RULES))
    assert production[rules.SIGNUPTO_KEEP]["enforcementLevel"] == "mandatory"
    assert default[rules.SIGNUPTO_KEEP]["enforcementLevel"] == "advisory"
    assert production[rules.SEND_LIMIT]["threshold"] < default[rules.SEND_LIMIT]["threshold"]
    assert production[rules.SEND_LIMIT]["enforcementLevel"] == default[rules.SEND_LIMIT]["enforcementLevel"]
    assert pack_config("no-such-environment", set(rules.RULES)) == default


def test_bad_settings_are_named(tmp_path):
    (tmp_path / "default.json").write_text(json.dumps({rules.SEND_LIMIT: "mandatory"}))
    (tmp_path / "typo.json").write_text(json.dumps({"daily-send-limit": "mandatory"}))
    (tmp_path / "level.json").write_text(json.dumps({rules.SEND_LIMIT: {"enforcementLevel": "strict"}}))
    with pytest.raises(PackConfigError, match=r"typo.json: unknown rule 'daily-send-limit'"):
        pack_config("typo", set(rules.RULES), tmp_path)
    with pytest.raises(PackConfigError, match=r"level.json: daily-send-limit-needs-approval.enforcementLevel: 'strict'"):
        pack_config("level", set(rules.RULES), tmp_path)
    with pytest.raises(PackConfigError, match="only letters, digits"):
        pack_config("../etc", set(rules.RULES), tmp_path)


@pytest.mark.parametrize("stack, config, environment", [
    ("acme.production", {}, "production"),
    ("acme", {}, None),
    ("acme.staging", {"email-partners:environment": "production"}, "production"),  # the file wins
])
def test_environment_from_stack_name_or_config(stack, config, environment):
    context = stack_context({"PULUMI_STACK": stack, "PULUMI_CONFIG": json.dumps(config)})
    assert context.environment == environment


def test_partner_login_domain_from_config_or_environment():
    config = {"PULUMI_STACK": "a", "PULUMI_CONFIG": json.dumps({"cakemail:username": "ops@Reseller.Example"})}
    assert stack_context(config).partner_login_domain == "reseller.example"
    assert stack_context({"CAKEMAIL_USERNAME": "ops@r.example"}).partner_login_domain == "r.example"
    assert stack_context({"PULUMI_CONFIG": json.dumps({"ciirus:username": "api-user"})}).partner_login_domain is None


def test_config_dir_is_the_packs_own():
    assert CONFIG_DIR.parent.name == "policies" and (CONFIG_DIR / "default.json").exists()


# --- the launcher's installation -------------------------------------------------------------------

def test_install_pulumi_puts_the_launcher_beside_an_engine_already_installed(tmp_path):
    """The engine's early exit ("already installed") must still install or refresh the launcher, once."""
    import subprocess
    from pathlib import Path

    repo = Path(rules.__file__).resolve().parents[1]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    version = re.search(r'engine_version = "([^"]+)"', (repo / "pyproject.toml").read_text()).group(1)
    for name in ("pulumi", "pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python"):
        (bin_dir / name).write_text(f"#!/bin/sh\necho v{version}\n")
        (bin_dir / name).chmod(0o755)
    launcher = "pulumi-analyzer-policy-email-partners"
    (bin_dir / launcher).write_text("#!/bin/sh\n# an older launcher\n")

    def install() -> str:
        result = subprocess.run(["bash", str(repo / "scripts" / "install-pulumi.sh")], capture_output=True, text=True,
                                env={**os.environ, "PULUMI_INSTALL_ROOT": str(tmp_path)}, check=True)
        assert result.stdout.strip().splitlines()[-1] == str(bin_dir)
        return result.stderr

    assert "installed the policy-pack launcher" in install()
    assert (bin_dir / launcher).read_bytes() == (repo / "scripts" / launcher).read_bytes()
    assert os.access(bin_dir / launcher, os.X_OK)
    assert "launcher" not in install()  # unchanged: nothing to do


def test_one_owner_per_account_refuses_an_adoption_the_index_gives_another_stack():
    from providers.ownership import IndexEntry, Owner, OwnershipIndex, VendorObject

    the_account = VendorObject(platform="cakemail", noun="account", key="4")
    key = VendorObject(platform="cakemail", noun="DKIM key", key="4/news.acme.example")
    index = OwnershipIndex(backend="file:///s", project="email-partners", written_at="t", entries=[
        IndexEntry(object=the_account, owners=[Owner(stack="demo-cakemail", resource="demo-cakemail-account")]),
        IndexEntry(object=key, owners=[Owner(stack="demo-cakemail", resource="demo-cakemail-news")])])
    sub = account("acct", platform="cakemail", adopt_account_id="4", name="Acme")
    domain = child(rules.SENDING_DOMAIN, "dom", sub, platform="cakemail", domain="news.acme.example",
                   adopt_existing=True)
    found = rules.one_owner_per_account([sub, domain], index, "acme-bakery.production")
    assert [(urn, message.split(" is managed")[0]) for message, urn in found] == [
        ("acct", "cakemail account 4"), ("dom", "cakemail DKIM key 4/news.acme.example")]
    assert "email-partners take-over acme-bakery.production --from demo-cakemail" in found[0][0]
    assert rules.one_owner_per_account([sub, domain], index, "demo-cakemail") == []  # its own
    assert rules.one_owner_per_account([sub, domain], index, "acme-bakery.production", "demo-cakemail") == []
    assert rules.one_owner_per_account([sub, domain], None, "acme-bakery.production") == []  # no index: no verdict
