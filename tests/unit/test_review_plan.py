"""The review's reading of a plan: field changes, dangers, acknowledgements, secrets never shown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi.dynamic import ConfigureRequest, Config

from operations.review.run import exit_status
from operations.review.files import stack_file_changes
from operations.review.plan import UNKNOWN, review_of
from operations.review.render import as_json, markdown
from providers.resources.sub_account import SubAccountProvider
from providers.platforms import describe
from providers.platforms.settings import settings_problems

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "stacks"))
from customer import CustomerDeclaration  # noqa: E402  (the stack program's module)

URN = "urn:pulumi:acme.prod::email-partners::emailpartners:index:Customer$pulumi-python:dynamic/partners:{}::{}"
OWNER = {"email": "a@acme.example", "first_name": "A", "last_name": "B"}


class Run:
    def __init__(self, steps, diagnostics=(), policy_events=(), ok=True):
        self.steps, self.diagnostics, self.policy_events = list(steps), list(diagnostics), list(policy_events)
        self.ok, self.returncode, self.stderr = ok, 0 if ok else 255, ""


def step(op, resource, name, old=None, new=None, keys=()):
    return {"op": op, "urn": URN.format(resource, name), "replaceReasons": list(keys),
            "oldState": {"inputs": old} if old is not None else None,
            "newState": {"inputs": new} if new is not None else None}


def test_fields_old_and_new_with_secrets_masked_everywhere():
    old = {"__provider": "[secret]", "platform": "cakemail", "name": "Acme", "owner": OWNER, "suspended": False,
           "password": "hunter2-old"}
    new = {**old, "name": "Acme Co", "suspended": True, "password": "hunter2-new", "token": "[secret]"}
    review = review_of("acme.prod", "acme", "cakemail", Run([step("update", "SubAccount", "acme-account", old, new),
                                                             step("same", "AccountFeatures", "acme-features", {}, {})]),
                       acknowledged=set())
    fields = {f.field: (f.old, f.new) for f in review.changes[0].fields}
    assert fields == {"name": ("Acme", "Acme Co"), "suspended": (False, True),
                      "password": ("[secret]", "[secret]"), "token": (None, "[secret]")}
    assert review.unchanged == 1 and [d.kind for d in review.dangers] == ["account-suspended"]
    for text in (markdown([review]), as_json([review], exit_status([review]))):
        assert "hunter2" not in text and "[secret]" in text
    assert exit_status([review]) == 3
    acked = review_of("acme.prod", "acme", "cakemail", Run([step("update", "SubAccount", "acme-account", old, new)]),
                      acknowledged={"account-suspended"})
    assert exit_status([acked]) == 0 and acked.dangers[0].acknowledged


def test_replaced_account_carries_its_dependents_and_is_acknowledged_by_the_declaration():
    old = {"platform": "cakemail", "name": "Acme", "owner": OWNER}
    steps = [step("replace", "SubAccount", "acme-account", old, {**old, "owner": {**OWNER, "email": "b@acme.example"}},
                  keys=["owner"]),
             step("update", "SendingDomain", "acme-news", {"platform": "cakemail", "account_id": "2", "domain": "n.example",
                                                          "adopt_existing": False},
                  {"platform": "cakemail", "account_id": UNKNOWN, "domain": "n.example"})]
    review = review_of("acme.prod", "acme", "cakemail", Run(steps), acknowledged=set())
    assert [(c.resource, c.op) for c in review.changes] == [("SubAccount", "replace"), ("SendingDomain", "replace")]
    assert [(d.kind, d.acknowledged) for d in review.dangers] == [("account-replaced", True)]
    assert review.changes[0].fields[0].field == "owner.email"


def test_guard_refusal_is_a_danger_not_a_failure_and_other_errors_fail():
    guard = {"severity": "error", "urn": URN.format("SubAccount", "acme-account"),
             "message": "error: ... has a problem: changing owner.email ... replaces the cakemail sub-account of customer "
                        "'Acme' [replace-guard]: ... add `allow_replace: true` under `account`"}
    review = review_of("s", "c", "cakemail", Run([], [guard], ok=False), acknowledged=set())
    assert not review.failed and exit_status([review]) == 3
    other = {"severity": "error", "message": "error: property name has a problem: must not be empty"}
    review = review_of("s", "c", "cakemail", Run([], [guard, other], ok=False), acknowledged=set())
    assert review.failed and exit_status([review]) == 1


def test_policy_violations_mandatory_fail_advisory_warn():
    events = [{"policyName": "owner-not-reseller-domain", "policyPackName": "p", "enforcementLevel": "advisory",
               "resourceUrn": URN.format("SubAccount", "acme-account"), "message": "owner on reseller domain"}]
    review = review_of("s", "c", "cakemail", Run([], policy_events=events), acknowledged=set())
    assert not review.failed and "owner-not-reseller-domain" in markdown([review])
    events[0]["enforcementLevel"] = "mandatory"
    review = review_of("s", "c", "cakemail", Run([], policy_events=events, ok=False), acknowledged=set())
    assert review.failed and json.loads(as_json([review], 1))["stacks"][0]["policy_violations"][0]["resource"] == "acme-account"


def configured(config: dict) -> SubAccountProvider:
    provider = SubAccountProvider()
    provider.configure(ConfigureRequest(Config(config, "email-partners")))
    return provider


def test_guard_names_customer_field_and_acknowledgement_and_strict_switches():
    olds = {"platform": "cakemail", "name": "Acme Bakery", "owner": OWNER, "trial": False, "partner": False,
            "suspended": False}
    provider = configured({"cakemail:username": "u@partner.example", "cakemail:password": "p"})
    news = {**olds, "owner": {**OWNER, "email": "new@acme.example"}}
    (failure,) = provider.check(olds, news).failures
    # A map would be printed by the engine as a Go dump (`value {map[email:...]}`): the reason names it instead.
    assert failure.property == "" and failure.reason.startswith("owner: changing owner.email")
    assert failure.reason.endswith("back.") and not failure.reason.endswith("..")
    for part in ("owner.email", "'a@acme.example'", "'new@acme.example'", "'Acme Bakery'", "allow_replace: true"):
        assert part in failure.reason
    assert provider.check(olds, {**news, "allow_replace": True}).failures == []
    assert "allow_replace" not in provider.check(olds, {**news, "allow_replace": True}).inputs
    reasons = {f.property: f.reason for f in provider.check({}, {**olds, "suspended": "no", "trial": 1}).failures}
    assert "(got 'no')" in reasons["suspended"] and "(got 1)" in reasons["trial"]


@pytest.mark.parametrize("platform, config, keys", [
    ("cakemail", {}, ["cakemail:username", "cakemail:password"]),  # every problem at once
    ("signupto", {"signupto:partnerId": "7"}, ["signupto:partnerKey"]),
    ("ciirus", {"ciirus:username": "u", "ciirus:password": "p", "ciirus:apiUrl": "api.example.com",
                "ciirus:apiVersion": "v1999.01.01"}, ["ciirus:apiUrl", "ciirus:apiVersion"]),
])
def test_settings_problems_name_the_key_and_variable(platform, config, keys, monkeypatch):
    for var in ("CAKEMAIL_USERNAME", "CAKEMAIL_PASSWORD", "SIGNUPTO_PARTNER_KEY", "CIIRUS_API_URL", "CIIRUS_API_VERSION"):
        monkeypatch.delenv(var, raising=False)
    problems = settings_problems(describe(platform), Config(config, "email-partners"))
    assert [k for k, _ in problems] == keys
    assert all(key in reason for key, reason in problems)
    if platform == "cakemail":
        assert "CAKEMAIL_USERNAME" in problems[0][1]


def test_ciirus_errors_name_the_keys_the_user_wrote():
    base = {"platform": "ciirus", "account": {}, "sending_domains": [{"domain": "mail.shop.example"}]}
    with pytest.raises(ValueError, match=r"features\.daily_send_limit: .*\(got -5\)"):
        CustomerDeclaration.model_validate({**base, "features": {"daily_send_limit": -5}})
    with pytest.raises(ValueError, match=r"features\.approved: .*'yes'"):
        CustomerDeclaration.model_validate({**base, "features": {"approved": "yes"}})
    with pytest.raises(ValueError, match=r"sending_domains\[0\]\.domain: .*not a valid hostname"):
        CustomerDeclaration.model_validate({**base, "sending_domains": [{"domain": "not a domain"}]})
    with pytest.raises(ValueError, match=r"account\.protect: must be true or false \(got 'no'\)"):
        CustomerDeclaration.model_validate({**base, "account": {"protect": "no"}})


def test_changed_stacks_since_a_git_ref(tmp_path):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "stacks").mkdir()
    for name in ("a.prod", "b.prod", "c.staging"):
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    (tmp_path / "README.md").write_text("x\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "base")
    (tmp_path / "stacks" / "Pulumi.a.prod.yaml").write_text("config: {x: 1}\n")
    git("commit", "-qam", "change a")
    (tmp_path / "stacks" / "Pulumi.d.prod.yaml").write_text("config: {}\n")   # new, not yet committed
    (tmp_path / "stacks" / "Pulumi.b.prod.yaml").unlink()                      # removed: not previewable
    (tmp_path / "README.md").write_text("y\n")
    changes = stack_file_changes(tmp_path, "HEAD~1")
    assert changes.changed == ["a.prod", "d.prod"]
    assert [(r.name, r.renamed_to) for r in changes.removed] == [("b.prod", None)]


def test_a_signupto_limit_lowered_below_usage_is_dangerous():
    from operations.review.plan import usage_dangers

    old = {"platform": "signupto", "account_id": "42", "features": {"list_limit": 50, "user_limit": 10,
                                                                     "subscriber_limit": "unlimited"}}
    new = {**old, "features": {"list_limit": 5, "user_limit": 20, "subscriber_limit": 1000}}
    review = review_of("s", "c", "signupto", Run([step("update", "AccountFeatures", "c-features", old, new)]), set())
    asked = []

    def usage_of(account_id):
        asked.append(account_id)
        return {"list_count": 7, "user_count": 15, "subscriber_count": 900}

    dangers = usage_dangers(review, usage_of, set())
    assert asked == ["42"]
    assert [(d.kind, d.acknowledged) for d in dangers] == [("limit-below-usage", False)]
    assert "list_limit goes from 50 to 5, below the 7" in dangers[0].reason
    assert usage_dangers(review, usage_of, {"limit-below-usage"})[0].acknowledged


def test_a_refused_replacement_is_shown_as_the_planned_change_without_engine_noise():
    refusal = ("pulumi-python:dynamic/partners:SubAccount resource 'acme-account' has a problem: platform: changing "
               "platform (from 'cakemail' to 'ciirus') replaces the cakemail sub-account of customer 'Acme' "
               "[replace-guard]: ... add "
               "`allow_replace: true` under `account` in the customer's stack file and run again; otherwise put "
               "platform back.")
    diagnostics = [{"severity": "warning", "message": "using pulumi-analyzer-policy-email-partners from $PATH at /x"},
                   {"severity": "error", "urn": URN.format("SubAccount", "acme-account"), "message": refusal}]
    review = review_of("acme.prod", "acme", "ciirus", Run([], diagnostics, ok=False), set())
    [change] = review.changes
    assert (change.resource, change.op) == ("SubAccount", "replace (refused)")
    assert [(f.field, f.old, f.new) for f in change.fields] == [("platform", "cakemail", "ciirus")]
    assert [p.severity for p in review.problems] == ["error"]  # the analyzer's $PATH warning is not a problem
    text = markdown([review])
    assert "moves from cakemail to ciirus" in text and "No changes." not in text and "unchanged" not in text
    assert "  - planned: `platform` `cakemail` → `ciirus` (replaces the account)." in text  # under the danger
    assert text.count("otherwise put platform back") == 1  # the refusal once, as the danger
    assert "$PATH" not in text
    for line in text.splitlines():
        assert not line.rstrip().endswith(".."), line
        if line.startswith("- "):
            assert line.rstrip().endswith("."), line


def test_a_create_lists_what_was_declared_and_a_domain_change_says_what_to_publish():
    declaration = {"platform": "cakemail", "account": {"name": "Acme", "owner": OWNER, "protect": True},
                   "sending_domains": [{"domain": "mail.acme.example", "verification_timeout_seconds": 60}]}
    account = {"platform": "cakemail", "name": "Acme", "owner": OWNER, "trial": False, "partner": False,
               "suspended": False, "creation_marker": "ep1-x"}
    domain = {"platform": "cakemail", "account_id": "7", "domain": "mail.acme.example", "adopt_existing": False}
    old_domain = {**domain, "domain": "news.acme.example"}
    steps = [step("create", "SubAccount", "acme-account", None, account),
             step("create", "SendingDomain", "acme-mail.acme.example", None, domain),
             step("delete", "SendingDomain", "acme-news.acme.example", old_domain, None)]
    review = review_of("acme.prod", "acme", "cakemail", Run(steps), set(), declaration)
    created = {c.resource: [f.field for f in c.fields] for c in review.changes if c.op == "create"}
    assert created == {"SubAccount": ["name", "owner.email", "owner.first_name", "owner.last_name", "platform"]}
    # The domain's create and delete are the one change they are: its domain, and nothing else (no defaults).
    [changed] = [c for c in review.changes if c.resource == "SendingDomain"]
    assert (changed.op, changed.name) == ("replace", "acme-news.acme.example -> acme-mail.acme.example")
    assert [(f.field, f.old, f.new) for f in changed.fields] == [("domain", "news.acme.example", "mail.acme.example")]
    assert "adopt_existing" not in markdown([review])
    [danger] = review.dangers
    assert danger.kind == "domain-replaced" and "is replaced by mail.acme.example" in danger.reason
    assert "_domainkey.mail.acme.example" in danger.reason and "email-partners dns" in danger.reason
