"""Promotion through the real CLI, the engine and the emulator, every platform over the registry: a
production customer per platform (tests/vendors/<name>.py, REHEARSAL), cloned to staging, changed there
(a capped limit raised, a switch, a new or changed sending domain, a suspension, as each platform offers),
`up` on staging, `promote` to production: the production stack file gets exactly the rehearsed change,
mapped back (comments kept); `review` names it as promoted, dangers first; `up` of production changes
only it, checked through each vendor's API. Then what must not cross: the caps' own values, an
unmappable domain (refused, naming the field), identities, secrets and acknowledgements; and what
shows it: `promote --check`, the status page's data, the run history.

One journey, built once for the module (a `fleet up` per environment runs the four customers two at a
time), then checked platform by platform."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from providers.platforms import describe, names
from providers.platforms.settings import provider_settings

from ..conftest import Control
from ..vendors import STAGING_CAPS, vendor
from .environments_harness import tool, write_environment
from .pulumi_cli import PulumiProject, Result

CUSTOMER = "email-partners:customer"
COMMENT = "# reviewed by the platform team: the customer's plan"


@dataclass
class Journey:
    project: PulumiProject
    creds: dict[str, str]
    partners: dict[str, dict[str, dict]]                  # environment -> platform -> partner
    stacks: dict[str, str] = field(default_factory=dict)  # platform -> customer
    before: dict[str, str] = field(default_factory=dict)  # production stack files before the promotion
    promoted: dict[str, Result] = field(default_factory=dict)
    check_before: dict = field(default_factory=dict)
    check_after: dict = field(default_factory=dict)
    review: dict = field(default_factory=dict)
    review_status: int = -1
    account_ids: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, expect: int = 0) -> Result:
        result = tool(self.project, *args, env=self.creds)
        assert result.returncode == expect, f"{args}: exit {result.returncode}\n{result.output[-5000:]}"
        return result

    def file(self, stack: str) -> Path:
        return self.project.root / "stacks" / f"Pulumi.{stack}.yaml"

    def declaration(self, stack: str) -> dict:
        return yaml.safe_load(self.file(stack).read_text())["config"][CUSTOMER]


def environment_file(partners: dict[str, dict], tag: str, creds: dict[str, str]) -> dict:
    """An environment's providers from each platform's partner, its secrets through variables."""
    providers = {}
    for platform, partner in partners.items():
        entries = {}
        for setting in provider_settings(describe(platform)):
            if setting.name not in partner:
                continue
            if setting.secret:
                variable = f"{tag}_{setting.env_var}"
                entries[setting.key] = {"env": variable}
                creds[variable] = str(partner[setting.name])
            else:
                entries[setting.key] = str(partner[setting.name])
        providers[platform] = entries
    return providers


def declare(journey: Journey, stack: str, declaration: dict, secrets: dict[str, str]) -> None:
    """The declaration in the stack `new` wrote, as an engineer edits it: the starter replaced, a comment
    of the team's own kept above it, secrets set as the README says."""
    path = journey.file(stack)
    head = path.read_text().split("  # The customer: replace", 1)[0]
    body = yaml.safe_dump({CUSTOMER: declaration}, sort_keys=False)
    path.write_text(head + "".join(f"  {line}\n" for line in body.splitlines()))
    for key, value in secrets.items():
        journey.project.run("config", "set", "--path", "--secret", "--stack", stack, f"{CUSTOMER}.{key}", value)
    text = path.read_text()
    assert "\n    features:\n" in text, text
    path.write_text(text.replace("\n    features:\n", f"\n    {COMMENT}\n    features:\n", 1))


def edit_copy(journey: Journey, stack: str, rehearse) -> None:
    path = journey.file(stack)
    data = yaml.safe_load(path.read_text())
    rehearse(data["config"][CUSTOMER])
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def journey(tmp_path_factory, pulumi_bin, emulator) -> Journey:
    control = Control(emulator.url)
    project = PulumiProject(tmp_path_factory.mktemp("promotion") / "project", pulumi_bin, stack="scratch")
    partners = {env: {p: vendor(p).partner(control, f"promote-{env}") for p in names()}
                for env in ("production", "staging")}
    creds: dict[str, str] = {}
    write_environment(project, "production", environment_file(partners["production"], "PROD", creds),
                      {"owner_email": "keep"})
    write_environment(project, "staging", environment_file(partners["staging"], "STAGING", creds),
                      {"owner_email": "plus", "domain_prefix": "staging", "limits_cap": STAGING_CAPS})
    journey = Journey(project, creds, partners)
    for platform in names():
        customer = journey.stacks[platform] = f"{platform}-shop"
        test_vendor = vendor(platform)
        journey.run("new", customer, "--platform", platform, "--environment", "production")
        declaration = test_vendor.REHEARSAL.production(partners["production"][platform])
        declare(journey, f"{customer}.production", declaration, test_vendor.SECRETS)
    journey.run("fleet", "up", "--environment", "production", "--yes", "--parallel", "2")
    for platform, customer in journey.stacks.items():
        journey.run("clone", f"{customer}.production", "--to", "staging")
        edit_copy(journey, f"{customer}.staging", vendor(platform).REHEARSAL.rehearse)
    journey.run("fleet", "up", "--environment", "staging", "--yes", "--parallel", "2", "--no-refresh")

    journey.check_before = journey.run("promote", "--check", "--output", "json").json()
    for platform, customer in journey.stacks.items():
        journey.before[platform] = journey.file(f"{customer}.production").read_text()
        journey.promoted[platform] = journey.run("promote", f"{customer}.staging", "--to", "production")
    journey.check_after = journey.run("promote", "--check", "--environment", "staging", "--output", "json").json()

    production = [f"{c}.production" for c in journey.stacks.values()]
    reviewed = tool(project, "review", *production, "--format", "json", env=creds)
    journey.review_status, journey.review = reviewed.returncode, reviewed.json()
    journey.run("fleet", "up", "--environment", "production", "--yes", "--parallel", "2", "--no-refresh")
    for platform, customer in journey.stacks.items():
        outputs = project.run("stack", "output", "--json", "--stack", f"{customer}.production").json()
        journey.account_ids[platform] = outputs["account_id"]
    return journey


@pytest.mark.parametrize("platform", names())
def test_production_gets_exactly_the_rehearsed_change_mapped_back(journey, platform):
    rehearsal, customer = vendor(platform).REHEARSAL, journey.stacks[platform]
    stack = f"{customer}.production"
    out = journey.promoted[platform].stdout
    for field, (old, new) in rehearsal.promoted.items():
        assert field in out, out
    assert journey.promoted[platform].stderr == ""  # the rehearsal was checked against staging's state, silently
    expected = yaml.safe_load(journey.before[platform])["config"][CUSTOMER]
    for field, (old, new) in rehearsal.promoted.items():
        if field.startswith("sending_domains["):
            domain = field[len("sending_domains["):-1]
            if new is None:
                expected["sending_domains"] = [d for d in expected["sending_domains"] if d["domain"] != domain]
            else:
                expected["sending_domains"].append(new)
            continue
        section, key = field.split(".", 1)
        assert expected[section].get(key) == old, (field, expected)
        expected[section][key] = new
    assert journey.declaration(stack) == expected
    # Only those lines changed: the team's comment and everything else as it was.
    text = journey.file(stack).read_text()
    assert COMMENT in text
    before_config = yaml.safe_load(journey.before[platform])["config"]
    after_config = yaml.safe_load(text)["config"]
    assert {k: v for k, v in after_config.items() if k != CUSTOMER} == \
        {k: v for k, v in before_config.items() if k != CUSTOMER}   # credentials and ciphertext untouched
    # The diff printed is the file's own change.
    diff = [line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert diff and all(COMMENT not in line for line in diff)
    assert f"a/stacks/Pulumi.{stack}.yaml" in out


@pytest.mark.parametrize("platform", names())
def test_the_caps_own_values_and_the_copys_identities_do_not_cross(journey, platform):
    customer = journey.stacks[platform]
    production, staging = journey.declaration(f"{customer}.production"), journey.declaration(f"{customer}.staging")
    text = journey.file(f"{customer}.production").read_text()
    # The copy's rewrites stay in staging: plus-tags, the domain prefix, the caps the copy kept.
    assert "+staging" not in text and "staging." not in text and "-staging" not in text
    for name, cap in STAGING_CAPS.items():
        if name in (production.get("features") or {}) and staging["features"].get(name) == cap:
            assert production["features"][name] != cap, name
    assert "allow_replace" not in production["account"]
    # No credential of the staging partner, nor any in clear, in what promote printed or wrote.
    staging_partner = journey.partners["staging"][platform]
    texts = [journey.promoted[platform].output, text,
             (journey.project.root / "stacks" / "promotions" / f"{customer}.production.yaml").read_text()]
    assert [s for s in (str(v) for k, v in staging_partner.items() if k != "api_url") if any(s in t for t in texts)
            if len(s) > 8 and s not in text] == []
    for secret in journey.creds.values():
        assert all(secret not in t for t in texts)
    for secret in vendor(platform).SECRETS.values():
        assert all(secret not in t for t in texts)


def test_promote_check_lists_changes_to_promote_then_none(journey):
    before = {c["copy_stack"]: c for c in journey.check_before["copies"]}
    after = {c["copy_stack"]: c for c in journey.check_after["copies"]}
    for platform, customer in journey.stacks.items():
        copy = f"{customer}.staging"
        assert before[copy]["state"] == "to promote" and before[copy]["target"] == f"{customer}.production"
        assert {f["field"] for f in before[copy]["to_promote"]} == set(vendor(platform).REHEARSAL.promoted)
        assert after[copy]["state"] == "in sync" and after[copy]["to_promote"] == [], after[copy]


def test_review_shows_each_promoted_change_as_such_dangers_first(journey):
    assert journey.review_status == 3  # a suspension, new credits, Ciirus's one object: acknowledged here again
    reviews = {r["stack"]: r for r in journey.review["stacks"]}
    for platform, customer in journey.stacks.items():
        review = reviews[f"{customer}.production"]
        promotion = review["promotion"]
        assert promotion["source"] == f"{customer}.staging", review
        assert {f["field"]: (f["old"], f["new"]) for f in promotion["fields"]} == dict(vendor(platform).REHEARSAL.promoted)
        assert all(f["in_plan"] and f["still_declared"] for f in promotion["fields"]), promotion
        for danger in review["dangers"]:
            assert danger["promoted_from"] == f"{customer}.staging" and not danger["acknowledged"], danger
    suspended = [d for r in reviews.values() for d in r["dangers"] if d["kind"] == "account-suspended"]
    assert len(suspended) == 2  # Cakemail and SendGrid: a suspension rehearsed on staging is reviewed again


@pytest.mark.parametrize("platform", names())
def test_up_of_production_changes_only_the_promoted_change(journey, platform):
    rehearsal = vendor(platform).REHEARSAL
    review = next(r for r in journey.review["stacks"] if r["stack"] == f"{journey.stacks[platform]}.production")
    plan: dict[str, set[str]] = {}
    for change in review["changes"]:  # the plan the review read from production's preview
        plan.setdefault(change["op"], set()).add(change["resource"])
    assert plan == rehearsal.plan, review["changes"]
    test_vendor = vendor(platform)
    rehearsal.assert_promoted(test_vendor.client(journey.partners["production"][platform]), journey.account_ids[platform])


def test_history_and_status_show_the_promotions(journey):
    customer = journey.stacks["cakemail"]
    entries = journey.run("history", f"{customer}.production", "--format", "json").json()["entries"]
    promoted = [e for e in entries if e["operation"] == "promote"]
    assert len(promoted) == 1 and promoted[0]["result"] == "promoted"
    assert promoted[0]["promotion"]["source"] == f"{customer}.staging"
    assert {f["field"] for f in promoted[0]["promotion"]["fields"]} == set(vendor("cakemail").REHEARSAL.promoted)
    table = journey.run("history", f"{customer}.production").stdout
    assert f"promoted from {customer}.staging" in table
    page = journey.run("status", "--format", "json").json()
    rows = {c["stack"]: c for c in page["customers"]}
    for customer in journey.stacks.values():
        assert rows[f"{customer}.staging"]["promotion"]["as_copy"]["state"] == "in sync"
        assert rows[f"{customer}.production"]["promotion"]["last_promoted_from"] == f"{customer}.staging"


def test_what_cannot_be_mapped_back_or_was_not_rehearsed_is_refused_and_nothing_written(journey):
    customer = journey.stacks["cakemail"]
    production = journey.file(f"{customer}.production")
    before = production.read_text()

    def change_copy(declared):
        declared["sending_domains"].append({"domain": "mail.elsewhere.example"})  # no staging. prefix
        declared["features"]["per_month"] = 90000

    edit_copy(journey, f"{customer}.staging", change_copy)
    snapshot = {p: p.read_text() for p in (journey.project.root / "stacks").rglob("*.yaml")}  # records included
    refused = journey.run("promote", f"{customer}.staging", "--to", "production", expect=2)
    assert "sending_domains[mail.elsewhere.example].domain" in refused.stderr, refused.output
    assert "--set sending_domains[mail.elsewhere.example].domain=VALUE" in refused.stderr
    assert production.read_text() == before

    # Decided with --set, it is still refused: the copy's file was never deployed (the change not rehearsed).
    decided = ("--set", "sending_domains[mail.elsewhere.example].domain=mail2.acme.example")
    unrehearsed = journey.run("promote", f"{customer}.staging", "--to", "production", *decided, expect=2)
    assert "not rehearsed" in unrehearsed.stderr and f"pulumi up --stack {customer}.staging" in unrehearsed.stderr
    dry = journey.run("promote", f"{customer}.staging", "--to", "production", *decided, "--unrehearsed", "--dry-run",
                      "--output", "json").json()
    assert {c["field"]: c["new"] for c in dry["changes"]} == {
        "features.per_month": 90000, "sending_domains[mail2.acme.example]": {"domain": "mail2.acme.example"}}
    assert dry["written"] is False and "+    - domain: mail2.acme.example" in dry["diff"]
    assert {p: p.read_text() for p in snapshot} == snapshot
    unknown = journey.run("promote", f"{customer}.staging", "--to", "production", "--set", "features.lists=3",
                          expect=2)
    assert "--set features.lists: not a field of this promotion" in unknown.stderr
    assert production.read_text() == before
