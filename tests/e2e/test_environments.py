"""Environments, `email-partners clone|new|discover` and adoption, through the real `pulumi` CLI and
the emulator (two partner identities stand for production and staging)."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from providers.cakemail.models import CreateAccount, PatchAccount, UsageLimits
from providers.signupto.models import CreateAccount as SignupToCreateAccount

from .environments_harness import on_stacks, tool, write_environment, writes
from .pulumi_cli import PulumiProject, copy_policies, steps_by_op

ACME = {
    "platform": "cakemail",
    "account": {"name": "Acme Bakery", "suspended": False, "trial": False, "partner": False,
                "owner": {"email": "owner@acme-bakery.example", "first_name": "Ada", "last_name": "Baker"}},
    "features": {"per_month": 50000, "maximum_contacts": 10000, "use_ab_split": True},
    "sending_domains": [{"domain": "news.acme-bakery.example"}],
}


@pytest.fixture
def project(tmp_path, pulumi_bin) -> PulumiProject:
    return PulumiProject(tmp_path / "project", pulumi_bin, stack="scratch")


def use(project: PulumiProject, stack: str) -> None:
    project.stack = stack
    project.run("stack", "select", stack)


def cakemail_env(partner: dict, var: str) -> dict:
    return {"cakemail": {"apiUrl": partner["api_url"], "username": partner["username"], "password": {"env": var}}}


def test_clone_production_to_staging(project, pulumi_bin, control, cakemail_partner, cakemail_api, monkeypatch):
    staging_partner = {**cakemail_partner, "username": "staging-" + cakemail_partner["username"],
                       "password": cakemail_partner["password"] + "-staging"}
    control.post("/cakemail/partners", {"username": staging_partner["username"], "password": staging_partner["password"]})
    from providers.cakemail import CakemailClient
    staging_api = CakemailClient(staging_partner["api_url"], staging_partner["username"], staging_partner["password"])
    write_environment(project, "production", cakemail_env(cakemail_partner, "PROD_CM_PASSWORD"), {"owner_email": "keep"})
    write_environment(project, "staging", cakemail_env(staging_partner, "STAGING_CM_PASSWORD"),
                      {"owner_email": "plus", "domain_prefix": "staging", "limits_cap": {"per_month": 1000}})
    creds = {"PROD_CM_PASSWORD": cakemail_partner["password"], "STAGING_CM_PASSWORD": staging_partner["password"]}

    # `new` writes a commented starter; the test then declares the customer and creates it in production.
    created = tool(project, "new", "acme-bakery", "--platform", "cakemail", "--environment", "production", env=creds,
                   bin_dir=pulumi_bin)
    assert created.returncode == 0, created.output
    starter = (project.root / "stacks" / "Pulumi.acme-bakery.production.yaml").read_text()
    assert "# " in starter and cakemail_partner["password"] not in starter
    monkeypatch.syspath_prepend(str(project.root / "stacks"))
    from customer import CustomerDeclaration  # the stack program's own model accepts the starter
    CustomerDeclaration.model_validate(yaml.safe_load(starter)["config"]["email-partners:customer"])
    use(project, "acme-bakery.production")
    project.set_customer(ACME)
    project.up()
    production_id = project.outputs()["account_id"]
    production_before = cakemail_api.get_account(production_id).model_dump()
    production_count = len(list(cakemail_api.iter_accounts()))

    cloned = tool(project, "clone", "acme-bakery.production", "--to", "staging", env=creds, bin_dir=pulumi_bin)
    assert cloned.returncode == 0, cloned.output
    for expected in ("owner+staging@acme-bakery.example", "staging.news.acme-bakery.example", "features.per_month"):
        assert expected in cloned.stdout
    text = (project.root / "stacks" / "Pulumi.acme-bakery.staging.yaml").read_text()
    assert "secure:" in text
    for secret in creds.values():
        assert secret not in text and secret not in cloned.output
    config = yaml.safe_load(text)["config"]
    assert config["cakemail:username"] == staging_partner["username"]
    assert config["email-partners:environment"] == "staging"
    assert config["email-partners:customer"]["features"]["per_month"] == 1000
    assert config["email-partners:customer"]["account"]["suspended"] is False

    use(project, "acme-bakery.staging")
    ops = steps_by_op(project.preview_json())
    assert set(ops) == {"create"}, ops
    before = control.last_request_id()
    project.up()
    staging_accounts = list(staging_api.iter_accounts())
    assert [a.name for a in staging_accounts] == ["Acme Bakery"]
    staging_id = staging_accounts[0].id
    made = writes(control.requests(since_id=before, vendor="cakemail"))
    assert ("POST", "/cakemail/accounts") in made
    assert all(production_id not in path for _, path in made), made
    assert cakemail_api.get_account(production_id).model_dump() == production_before
    assert len(list(cakemail_api.iter_accounts())) == production_count
    assert staging_id != production_id
    project.preview("--expect-no-changes")

    again = tool(project, "clone", "acme-bakery.production", "--to", "staging", env=creds, bin_dir=pulumi_bin)
    assert again.returncode == 2 and "already exists" in again.output and "--force" in again.output
    assert (project.root / "stacks" / "Pulumi.acme-bakery.staging.yaml").read_text() == text


DISCOVERED = 12  # three pages of 5; shops 0, 5 and 10 are trials over the trial limits, 3 is suspended


def test_discover_cakemail_adopts_every_account_without_writing(project, pulumi_bin, control, cakemail_partner,
                                                               cakemail_api):
    write_environment(project, "production", cakemail_env(cakemail_partner, "PROD_CM_PASSWORD"))
    creds = {"PROD_CM_PASSWORD": cakemail_partner["password"]}
    for n in range(DISCOVERED):  # made behind the tool's back
        account = cakemail_api.create_account(CreateAccount(name=f"Shop {n:02d}", trial=n % 5 == 0))
        cakemail_api.patch_account(account.id, PatchAccount(usage_limits=UsageLimits(
            per_month=1000 + n, maximum_contacts=500 + n, use_ab_split=n % 2 == 0)))
        cakemail_api.create_dkim_key(account.id, f"mail.shop{n:02d}.example")
        if n == 3:
            cakemail_api.set_suspended(account.id, True)

    started = time.monotonic()
    before = control.last_request_id()
    found = tool(project, "discover", "--environment", "production", "--platform", "cakemail", "--page-size", "5",
                 "--output", "json", env=creds, bin_dir=pulumi_bin)
    assert found.returncode == 0, found.output
    listing = [r for r in control.requests(since_id=before, vendor="cakemail") if r["path"] == "/cakemail/accounts"]
    assert len(listing) >= 3  # paged
    report = found.json()
    stacks = [a["stack"] for a in report["accounts"]]
    assert len(stacks) == DISCOVERED and all(a["result"] == "written" for a in report["accounts"])
    assert any("owner" in note for note in report["limits"])
    for account in report["accounts"]:
        text = (project.root / "stacks" / f"Pulumi.{account['stack']}.yaml").read_text()
        assert cakemail_partner["password"] not in text
        declared = yaml.safe_load(text)["config"]["email-partners:customer"]
        live = cakemail_api.get_account(account["account_id"])
        assert declared["account"]["adopt_account_id"] == live.id and declared["account"]["suspended"] == live.suspended
        assert all(live.usage_limits[k] == v for k, v in declared["features"].items())
        assert declared["sending_domains"][0]["adopt_existing"] is True

    # The trials over the trial limits break a mandatory policy: discover says which rule and why, in its
    # report and in the stack file's header, and `fleet up` (which runs the pack) refuses to adopt them.
    over_limits = {f"shop-{n:02d}" for n in range(DISCOVERED) if n % 5 == 0}  # (the platform's default: unlimited lists)
    breaking = {a["customer"]: a["policy_violations"] for a in report["accounts"] if a["policy_violations"]}
    assert set(breaking) == over_limits, breaking
    assert all([rule for rule, _ in v] == ["trial-within-trial-limits"] for v in breaking.values()), breaking
    assert "features.per_month is 1005 (trial maximum 1000)" in breaking["shop-05"][0][1]
    header = (project.root / "stacks" / "Pulumi.shop-05.production.yaml").read_text().split("config:", 1)[0]
    assert "trial-within-trial-limits" in header and "features.per_month is 1005" in header

    # Every other stack adopts through the real engine, as an operator would take a discovered fleet over:
    # `fleet up` (two stacks at a time, with the project's policy pack), then a no-op `fleet preview`.
    copy_policies(project.root)
    before = control.last_request_id()
    up = tool(project, "fleet", "up", "--yes", "--environment", "production", "--json", "-", env=creds,
              bin_dir=pulumi_bin)
    assert up.returncode == 1, up.output
    results = {c["customer"]: c for c in json.loads(up.stdout)["customers"]}
    assert len(results) == DISCOVERED
    for name, result in results.items():
        if name in over_limits:
            assert result["result"] == "failed", result
            assert "mandatory policy trial-within-trial-limits" in result["error"], result
        else:
            assert result["result"] == "adopted" and result["changes"].get("create", 0) >= 3, result
    assert "adopted" in up.stderr + up.stdout
    again_preview = tool(project, "fleet", "preview", "--environment", "production", "--json", "-", env=creds,
                         bin_dir=pulumi_bin)
    assert again_preview.returncode == 1, again_preview.output
    assert {c["customer"] for c in json.loads(again_preview.stdout)["customers"]
            if c["result"] not in ("no changes", "unchanged (not run)")} == over_limits
    assert writes(control.requests(since_id=before, vendor="cakemail")) == []
    assert all(len(cakemail_api.list_dkim_keys(a["account_id"])) == 1 for a in report["accounts"])
    print(f"\ndiscover and adopt {DISCOVERED} cakemail stacks: {time.monotonic() - started:.1f}s")

    again = tool(project, "discover", "--environment", "production", "--platform", "cakemail", env=creds,
                 bin_dir=pulumi_bin)
    assert again.returncode == 0 and again.stdout.count("skipped") == DISCOVERED


def test_discover_signupto_and_ciirus_adopt_without_writing(project, pulumi_bin, control, signupto_partner,
                                                            signupto_api, ciirus_user, ciirus_api):
    write_environment(project, "production", {
        "signupto": {"apiUrl": signupto_partner["api_url"], "partnerId": signupto_partner["partner_id"],
                     "partnerKey": {"env": "PROD_SUT_KEY"}},
        "ciirus": {"apiUrl": ciirus_user["api_url"], "apiVersion": ciirus_user["api_version"],
                   "username": ciirus_user["username"], "password": {"env": "PROD_CIIRUS_PASSWORD"}}})
    creds = {"PROD_SUT_KEY": signupto_partner["partner_key"], "PROD_CIIRUS_PASSWORD": ciirus_user["password"]}
    for n in range(2):
        account = signupto_api.create_account(SignupToCreateAccount(
            name=f"Books {n}", contactemail=f"owner{n}@books{n}.example", country="FR" if n else None))
        signupto_api.update_features(account.id, {"list_limit": 300 + n, "enablesms": n == 1, "subscriber_limit": None})
    from providers.ciirus.models import SubAccountFields
    ciirus_api.create(SubAccountFields(sending_domain="mail.riverside.example", daily_send_limit=750, approved=True))

    stacks = []
    for platform, extra in (("signupto", []), ("ciirus", ["--customer", "riverside"])):
        found = tool(project, "discover", "--environment", "production", "--platform", platform, "--output", "json",
                     *extra, env=creds, bin_dir=pulumi_bin)
        assert found.returncode == 0, found.output
        stacks += [a["stack"] for a in found.json()["accounts"]]
    assert len(stacks) == 3 and "riverside.production" in stacks
    before = control.last_request_id()
    on_stacks(project, stacks, "up", "--yes", "--skip-preview")
    on_stacks(project, stacks, "preview", "--expect-no-changes")
    assert writes(control.requests(since_id=before)) == []
    assert ciirus_api.get().daily_send_limit == 750


def test_bad_input_is_named_and_creates_nothing(project, pulumi_bin, control, cakemail_partner, cakemail_api):
    write_environment(project, "production", cakemail_env(cakemail_partner, "PROD_CM_PASSWORD"))
    creds = {"PROD_CM_PASSWORD": cakemail_partner["password"]}
    (project.root / "stacks" / "environments" / "broken.yaml").write_text(
        "providers:\n  cakemail:\n    apiUrl: http://x\n    username: u\n    password: {env: X}\n    pasword: oops\n")
    (project.root / "stacks" / "environments" / "clear.yaml").write_text(
        "providers:\n  cakemail:\n    apiUrl: http://x\n    username: u\n    password: hunter2\n")
    before = control.last_request_id()
    cases = [
        (["discover", "--environment", "nowhere", "--platform", "cakemail"], "unknown environment 'nowhere'"),
        (["clone", "ghost.production", "--to", "production"], "unknown stack 'ghost.production'"),
        (["new", "acme", "--platform", "cakemail", "--environment", "broken"],
         "stacks/environments/broken.yaml: providers.cakemail.pasword: unknown key"),
        (["new", "acme", "--platform", "cakemail", "--environment", "clear"], "may not be written in clear"),
        (["new", "acme", "--platform", "cakemail", "--environment", "production"], "PROD_CM_PASSWORD"),
    ]
    for args, message in cases:
        result = tool(project, *args, env=creds if "nowhere" in args else {}, bin_dir=pulumi_bin)
        assert result.returncode == 2 and message in result.output, (args, result.output)
    assert "hunter2" not in "".join(tool(project, "new", "a", "--platform", "cakemail", "--environment", "clear",
                                         bin_dir=pulumi_bin).output)
    assert not list((project.root / "stacks").glob("Pulumi.acme*.yaml"))

    # Adopting an account that does not exist (or is another partner's) fails at create; nothing is created.
    project.set_config("cakemail:apiUrl", cakemail_partner["api_url"])
    project.set_config("cakemail:username", cakemail_partner["username"])
    project.set_config("cakemail:password", cakemail_partner["password"], secret=True)
    project.set_customer({"platform": "cakemail", "account": {"name": "Ghost", "adopt_account_id": "987654"},
                          "features": {"per_month": 10}})
    failed = project.up(check=False)
    assert failed.returncode != 0 and "cannot adopt cakemail account 987654" in failed.output
    assert writes(control.requests(since_id=before)) == []
    assert list(cakemail_api.iter_accounts()) == []
