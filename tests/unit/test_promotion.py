"""Promotion's rules without an engine: the rehearsed change found against the copy's base, mapped back
through the copy rules (both directions beside each other in CopyRules), refused where it needs a decision,
never carrying identities, secrets or acknowledgements; and the target's stack file edited with its
comments, order and encrypted values kept. The whole journey through the CLI: tests/e2e/test_promotion.py."""

from __future__ import annotations

import copy

import pytest
import yaml

from operations.customers.clone import rewrite_declaration
from operations.project.environments import CopyRules, load_environment
from operations.promotion.changes import PromotionError, applied, differences, plan_promotion
from operations.promotion.records import (CopyRecord, Rewritten, fingerprint, read_copy_record, without_secrets,
                                          write_copy_record)
from operations.promotion.stack_file import edited_text, unified_diff

STAGING = """
providers:
  cakemail: {apiUrl: http://127.0.0.1:1/cakemail, username: s@example.com, password: {env: STAGING_PW}}
copies:
  owner_email: plus
  domain_prefix: staging
  limits_cap: {per_month: 1000, maximum_contacts: 500, daily_send_limit: 100, subscriber_limit: 500}
"""

ACME = {
    "platform": "cakemail",
    "account": {"name": "Acme", "owner": {"email": "owner@acme.example", "first_name": "Ada"}, "suspended": False},
    "features": {"per_month": 50000, "maximum_contacts": 10000, "use_ab_split": False},
    "sending_domains": [{"domain": "news.acme.example", "verification_timeout_seconds": 30}],
}


@pytest.fixture
def staging(tmp_path):
    (tmp_path / "stacks" / "environments").mkdir(parents=True)
    (tmp_path / "stacks" / "environments" / "staging.yaml").write_text(STAGING)
    return load_environment(tmp_path, "staging")


def record_of(source: dict, environment, stack: str = "acme.staging") -> CopyRecord:
    """The record clone writes, for a copy made by the real rewrite."""
    copied, rewrites = rewrite_declaration(source, environment, "acme")
    names = [s["domain"] for s in copied.get("sending_domains") or []]
    sources = [s["domain"] for s in source.get("sending_domains") or []]
    return CopyRecord(stack=stack, source="acme.production", environment=environment.name, rules=environment.spec.copies,
                      rewrites=[Rewritten(field=r.field, source=r.source, copy=r.clone) for r in rewrites],
                      copied_at="t", based_at="t", source_declaration=copy.deepcopy(source), copy_declaration=copied,
                      domains=dict(zip(names, sources)))


def edited(record: CopyRecord, **changes) -> dict:
    declared = copy.deepcopy(record.copy_declaration)
    for path, value in changes.items():
        holder, *parts = [declared, *path.split("__")]
        for part in parts[:-1]:
            holder = holder.setdefault(part, {})
        holder[parts[-1]] = value
    return declared


def by_field(plan) -> dict:
    return {c.field: (c.old, c.new) for c in plan.changes}


def test_the_rehearsed_change_is_promoted_mapped_back_and_the_rules_own_rewrites_are_not(staging):
    record = record_of(ACME, staging)
    rehearsed = edited(record, features__per_month=80000, features__use_ab_split=True, account__suspended=True)
    rehearsed["sending_domains"].append({"domain": "staging.news2.acme.example"})
    plan = plan_promotion(record, rehearsed, ACME, "acme.production")
    assert plan.decisions == []
    assert by_field(plan) == {
        "features.per_month": (50000, 80000),            # the value the staging change asked for, not the cap's
        "features.use_ab_split": (False, True),
        "account.suspended": (False, True),
        "sending_domains[news2.acme.example]": (None, {"domain": "news2.acme.example"}),
    }
    assert next(c for c in plan.changes if c.field == "features.per_month").copy_old == 1000
    rule_only = {o.field for o in plan.left_out if "copy rule" in o.reason}
    assert rule_only == {"features.maximum_contacts", "account.owner.email", "sending_domains[0].domain"}
    promoted = applied(ACME, plan.changes)
    assert promoted["features"] == {"per_month": 80000, "maximum_contacts": 10000, "use_ab_split": True}
    assert promoted["account"]["owner"]["email"] == "owner@acme.example"
    assert [d["domain"] for d in promoted["sending_domains"]] == ["news.acme.example", "news2.acme.example"]


def test_a_copy_without_changes_promotes_nothing_whatever_the_rules_rewrote(staging):
    record = record_of(ACME, staging)
    plan = plan_promotion(record, copy.deepcopy(record.copy_declaration), ACME, "acme.production")
    assert plan.changes == [] and plan.decisions == []


@pytest.mark.parametrize("value, expected", [
    (500, (50000, 500)),        # lowered on the copy, and from the target's value: the same way
    ("unlimited", (50000, "unlimited")),
    (90000, (50000, 90000)),
])
def test_a_capped_limit_promotes_the_value_the_change_asked_for(staging, value, expected):
    record = record_of(ACME, staging)
    plan = plan_promotion(record, edited(record, features__per_month=value), ACME, "acme.production")
    assert by_field(plan) == {"features.per_month": expected}


def test_a_limit_the_cap_makes_ambiguous_is_refused_naming_it_until_set(staging):
    record = record_of(ACME, staging)
    rehearsed = edited(record, features__per_month=1200)  # raised from the cap 1000, yet below production's 50000
    plan = plan_promotion(record, rehearsed, ACME, "acme.production")
    assert plan.changes == [] and [d.field for d in plan.decisions] == ["features.per_month"]
    assert "raised it from its cap 1000 to 1200, which is below the target's 50000" in plan.decisions[0].reason
    decided = plan_promotion(record, rehearsed, ACME, "acme.production", {"features.per_month": 60000})
    assert by_field(decided) == {"features.per_month": (50000, 60000)} and decided.decisions == []


def test_owner_email_tags_are_undone_and_an_address_the_rule_did_not_make_is_refused(staging):
    record = record_of(ACME, staging)
    plan = plan_promotion(record, edited(record, account__owner__email="ops+staging@acme.example"), ACME, "p")
    assert by_field(plan) == {"account.owner.email": ("owner@acme.example", "ops@acme.example")}
    refused = plan_promotion(record, edited(record, account__owner__email="tester@qa.example"), ACME, "p")
    assert [d.field for d in refused.decisions] == ["account.owner.email"]
    catch_all = record.model_copy(update={"rules": CopyRules(owner_email="catch_all", catch_all="qa@r.example")})
    assert [d.field for d in plan_promotion(catch_all, edited(record, account__owner__email="x+a@r.example"), ACME,
                                            "p").decisions] == ["account.owner.email"]


@pytest.mark.parametrize("rules, email, back", [
    (CopyRules(owner_email="plus"), "owner+staging@a.example", "owner@a.example"),
    (CopyRules(owner_email="plus"), "a+b-staging@a.example", "a+b@a.example"),
    (CopyRules(owner_email="plus"), "owner@a.example", None),
    (CopyRules(owner_email="keep"), "owner@a.example", "owner@a.example"),
    (CopyRules(owner_email="catch_all", catch_all="qa@r.example"), "qa+acme-staging@r.example", None),
])
def test_each_rule_maps_back_what_it_made(rules, email, back):
    assert rules.original_email(email, "staging") == back
    if back is not None:
        assert rules.copy_email(back, "staging", "acme") == (email if rules.owner_email == "plus" else back)
    prefixed = CopyRules(domain_prefix="staging")
    assert prefixed.original_domain(prefixed.copy_domain("news.a.example")) == "news.a.example"
    assert prefixed.original_domain("news.a.example") is None and CopyRules().original_domain("x.example") == "x.example"


def test_a_domain_added_without_the_prefix_is_refused_naming_it_until_set(staging):
    record = record_of(ACME, staging)
    rehearsed = copy.deepcopy(record.copy_declaration)
    rehearsed["sending_domains"].append({"domain": "mail.other.example"})
    plan = plan_promotion(record, rehearsed, ACME, "acme.production")
    assert [d.field for d in plan.decisions] == ["sending_domains[mail.other.example].domain"]
    assert "without the environment's prefix 'staging.'" in plan.decisions[0].reason
    decided = plan_promotion(record, rehearsed, ACME, "acme.production",
                             {"sending_domains[mail.other.example].domain": "mail.acme.example"})
    assert by_field(decided) == {"sending_domains[mail.acme.example]": (None, {"domain": "mail.acme.example"})}


def test_a_domain_removed_or_changed_on_the_copy_is_removed_or_changed_in_the_target(staging):
    record = record_of(ACME, staging)
    removed = copy.deepcopy(record.copy_declaration)
    removed["sending_domains"] = []
    plan = plan_promotion(record, removed, ACME, "p")
    assert by_field(plan) == {"sending_domains[news.acme.example]":
                              ({"domain": "news.acme.example", "verification_timeout_seconds": 30}, None)}
    assert applied(ACME, plan.changes)["sending_domains"] == []
    changed = copy.deepcopy(record.copy_declaration)
    changed["sending_domains"][0]["verification_timeout_seconds"] = 600
    assert by_field(plan_promotion(record, changed, ACME, "p")) == {
        "sending_domains[news.acme.example].verification_timeout_seconds": (30, 600)}
    renamed = copy.deepcopy(record.copy_declaration)  # one domain for another (a Ciirus customer's way)
    renamed["sending_domains"][0]["domain"] = "staging.mail2.acme.example"
    promoted = applied(ACME, plan_promotion(record, renamed, ACME, "p").changes)
    assert promoted["sending_domains"] == [{"domain": "mail2.acme.example", "verification_timeout_seconds": 30}]


def test_identities_secrets_and_acknowledgements_never_cross(staging):
    source = {"platform": "sendgrid",
              "account": {"username": "acme", "email": "ops@acme.example", "password": {"secure": "v1:prod-cipher"},
                          "ips": ["198.51.100.1"]},
              "features": {"type": "recurring", "limit": 10000, "reset_frequency": "monthly"},
              "sending_domains": [{"domain": "news.acme.example"}]}
    record = record_of(source, staging)
    assert record.copy_declaration["account"]["username"] == "acme-staging"
    rehearsed = copy.deepcopy(record.copy_declaration)
    rehearsed["account"].update(username="acme-other", password={"secure": "v1:staging-cipher"}, allow_replace=True,
                                protect=False, adopt_account_id="someone-else")
    rehearsed["sending_domains"][0]["adopt_domain_id"] = "42"
    rehearsed["features"]["limit"] = 20000
    plan = plan_promotion(record, rehearsed, source, "acme.production")
    assert by_field(plan) == {"features.limit": (10000, 20000)}
    left_out = {o.field: o.reason for o in plan.left_out}
    for field in ("account.username", "account.adopt_account_id", "sending_domains[news.acme.example].adopt_domain_id"):
        assert "identity" in left_out[field], field
    assert "secret" in left_out["account.password"]
    assert "acknowledgement" in left_out["account.allow_replace"] and "acknowledgement" in left_out["account.protect"]
    assert "staging-cipher" not in plan.model_dump_json() and "prod-cipher" not in plan.model_dump_json()
    promoted = applied(source, plan.changes)
    assert promoted["account"] == source["account"]
    for field in ("account.password", "account.username", "account.allow_replace"):
        with pytest.raises(PromotionError, match=field.replace(".", r"\.")):
            plan_promotion(record, rehearsed, source, "acme.production", {field: "x"})


def test_a_field_both_sides_changed_is_refused_and_the_targets_own_changes_are_kept(staging):
    record = record_of(ACME, staging)
    target = copy.deepcopy(ACME)
    target["features"]["per_month"] = 60000          # production's own change since the copy
    target["account"]["name"] = "Acme Ltd"
    plan = plan_promotion(record, edited(record, features__per_month=80000, features__use_ab_split=True), target, "p")
    assert [d.field for d in plan.decisions] == ["features.per_month"]
    assert "the target changed it too since the copy (50000 -> 60000)" in plan.decisions[0].reason
    assert by_field(plan) == {"features.use_ab_split": (False, True)}
    assert {f.field for f in plan.target_changed} == {"features.per_month", "account.name"}
    same = plan_promotion(record, edited(record, features__per_month=60000), target, "p")  # both asked the same
    assert same.changes == [] and same.decisions == [] and "already in the target" in same.left_out[0].reason


def test_an_unknown_set_is_refused_naming_the_promotions_fields(staging):
    record = record_of(ACME, staging)
    with pytest.raises(PromotionError, match=r"--set features\.lists: not a field of this promotion .*features\.per_month"):
        plan_promotion(record, edited(record, features__per_month=80000), ACME, "p", {"features.lists": 3})


def test_a_platform_change_is_never_promoted(staging):
    record = record_of(ACME, staging)
    plan = plan_promotion(record, {**record.copy_declaration, "platform": "signupto"}, ACME, "p")
    assert [(d.field, d.settable) for d in plan.decisions] == [("platform", False)]


def test_differences_name_domains_and_fields():
    after = copy.deepcopy(ACME)
    after["sending_domains"].append({"domain": "news2.acme.example"})
    after["features"]["per_month"] = 1
    assert [(f.field, f.old, f.new) for f in differences(ACME, after)] == [
        ("features.per_month", 50000, 1), ("sending_domains[news2.acme.example]", None, "news2.acme.example")]


def test_records_keep_fingerprints_of_secrets_never_ciphertext(tmp_path, staging):
    record = record_of({**ACME, "account": {**ACME["account"], "password": {"secure": "v1:cipher"}}}, staging)
    path = write_copy_record(tmp_path, record)
    assert path == tmp_path / "stacks" / "copies" / "acme.staging.yaml"
    assert "v1:cipher" not in path.read_text() and "sha256:" in path.read_text()
    again = read_copy_record(tmp_path, "acme.staging")
    assert again.base == record.base == fingerprint(record.source_declaration, record.copy_declaration)
    assert again.source_declaration == without_secrets(record.source_declaration)
    path.write_text(path.read_text().replace("source:", "sorce:"))
    with pytest.raises(Exception, match="stacks/copies/acme.staging.yaml"):
        read_copy_record(tmp_path, "acme.staging")


STACK_FILE = """\
# Customer 'acme' in production: reviewed by the platform team.
encryptionsalt: v1:salt0000=:v1:abc
config:
  cakemail:apiUrl: http://127.0.0.1:8710/cakemail
  cakemail:password:
    secure: v1:ciphertext-stays-as-it-is
  email-partners:environment: production
  # The customer: one stack per customer.
  email-partners:customer:
    platform: cakemail
    account:
      name: "Acme"          # the name people know
      owner: {email: owner@acme.example, first_name: Ada}
      suspended: false
    features:                 # only these are managed
      per_month: 50000        # the plan's monthly sends
      maximum_contacts: 10000
      use_ab_split: false
    sending_domains:
      - domain: news.acme.example
        verification_timeout_seconds: 30   # the emulator publishes records itself
"""


def test_the_stack_file_gets_only_the_edits_with_comments_order_and_ciphertext_kept(tmp_path, staging):
    path = tmp_path / "stacks" / "Pulumi.acme.production.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STACK_FILE)
    declared = yaml.safe_load(STACK_FILE)["config"]["email-partners:customer"]
    record = record_of(declared, staging)
    rehearsed = edited(record, features__per_month=80000, features__use_ab_split=True, account__suspended=True)
    rehearsed["sending_domains"].append({"domain": "staging.news2.acme.example"})
    plan = plan_promotion(record, rehearsed, declared, "acme.production")
    old, new = edited_text(path, plan.changes)
    assert old == STACK_FILE and path.read_text() == STACK_FILE  # nothing written by the check itself
    diff = unified_diff(path, tmp_path, old, new)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "-      suspended: false",
        "+      suspended: true",
        "-      per_month: 50000        # the plan's monthly sends",
        "+      per_month: 80000        # the plan's monthly sends",
        "-      use_ab_split: false",
        "+      use_ab_split: true",
        "+      - domain: news2.acme.example",
    ], diff
    assert "a/stacks/Pulumi.acme.production.yaml" in diff
    assert yaml.safe_load(new)["config"]["email-partners:customer"] == applied(declared, plan.changes)


def test_a_file_written_by_pyyaml_keeps_its_layout_too(tmp_path, staging):
    declared = copy.deepcopy(ACME)
    text = "# made by clone\n" + yaml.safe_dump({"config": {"cakemail:password": {"secure": "v1:x"},
                                                             "email-partners:customer": declared}}, sort_keys=False)
    path = tmp_path / "Pulumi.acme.production.yaml"
    path.write_text(text)
    record = record_of(declared, staging)
    rehearsed = edited(record, features__per_month=80000)
    rehearsed["features"]["lists"] = 5
    rehearsed["sending_domains"].append({"domain": "staging.news2.acme.example"})
    old, new = edited_text(path, plan_promotion(record, rehearsed, declared, "p").changes)
    diff = [line for line in unified_diff(path, tmp_path, old, new).splitlines()
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert diff == ["-      per_month: 50000", "+      per_month: 80000", "+      lists: 5", "+    - domain: news2.acme.example"]
