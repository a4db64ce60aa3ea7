"""`promote` as a workflow on a project's files, without an engine: what it writes and records (the target's
file, the promotion record, the copy's base moved forward, the run history), `--check`'s states, a copy made
before clone kept a base (refused with the way forward; `--base REF` from git), and how a review and the
status page show a promotion. The engine and the vendors: tests/e2e/test_promotion.py."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from operations.customers.clone import rewrite_declaration
from operations.history.store import HistoryStore, location_for
from operations.project.environments import load_environment
from operations.project.stacks import load_stack
from operations.promotion.changes import PromotionError
from operations.promotion.check import check_copies, promotion_statuses
from operations.promotion.records import read_copy_record, read_promotion_record, record_copy
from operations.promotion.run import promote
from operations.review.models import FieldChange, ResourceChange, StackReview
from operations.review.promotion import mark_promoted_dangers, promotion_view
from operations.review.plan import dangers_of
from operations.review.render import markdown

ENVIRONMENT = """
providers:
  cakemail: {{apiUrl: http://127.0.0.1:1/cakemail, username: {user}@example.com, password: {{env: {var}}}}}
copies: {copies}
"""
ACME = {"platform": "cakemail",
        "account": {"name": "Acme", "owner": {"email": "owner@acme.example"}, "suspended": False},
        "features": {"per_month": 50000, "maximum_contacts": 10000},
        "sending_domains": [{"domain": "news.acme.example"}]}


def write_stack(project, name: str, environment: str, declaration: dict, header: str = "") -> None:
    text = header + yaml.safe_dump({"config": {"cakemail:password": {"secure": f"v1:{name}-cipher"},
                                               "email-partners:environment": environment,
                                               "email-partners:customer": declaration}}, sort_keys=False)
    (project / "stacks" / f"Pulumi.{name}.yaml").write_text(text)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: email-partners\nruntime: python\n")
    (tmp_path / "stacks" / "environments").mkdir(parents=True)
    for name, copies in (("production", "{owner_email: keep}"),
                         ("staging", "{owner_email: plus, domain_prefix: staging, limits_cap: {per_month: 1000}}")):
        (tmp_path / "stacks" / "environments" / f"{name}.yaml").write_text(
            ENVIRONMENT.format(user=name, var=name.upper() + "_PW", copies=copies))
    write_stack(tmp_path, "acme.production", "production", ACME)
    staging = load_environment(tmp_path, "staging")
    copied, rewrites = rewrite_declaration(ACME, staging, "acme")
    write_stack(tmp_path, "acme.staging", "staging", copied,
                header="# Customer 'acme' in environment 'staging': cloned from stack 'acme.production' by\n")
    return tmp_path


@pytest.fixture
def env(tmp_path):
    return {"PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(), "PULUMI_HOME": str(tmp_path / "home"),
            "EMAIL_PARTNERS_ACTOR": "ada"}


def clone_record(project) -> None:
    staging = load_environment(project, "staging")
    _, rewrites = rewrite_declaration(ACME, staging, "acme")
    record_copy(project, "acme.staging", load_stack(project, "acme.production"), staging,
                [(r.field, r.source, r.clone) for r in rewrites])


def rehearse(project, **features) -> None:
    path = project / "stacks" / "Pulumi.acme.staging.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["email-partners:customer"]["features"].update(features)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_promote_writes_the_edit_records_it_and_moves_the_base(project, env):
    clone_record(project)
    assert [(s.copy_stack, s.state) for s in check_copies(project, [load_stack(project, "acme.staging")])] == [
        ("acme.staging", "in sync")]
    rehearse(project, per_month=80000)
    [status] = check_copies(project, [load_stack(project, "acme.staging")])
    assert status.state == "to promote" and [f.field for f in status.to_promote] == ["features.per_month"]

    result = promote(project, "acme.staging", "production", unrehearsed=True, env=env)
    assert result.written and "+      per_month: 80000" in result.diff
    assert load_stack(project, "acme.production").declaration["features"] == {"per_month": 80000,
                                                                             "maximum_contacts": 10000}
    record = read_promotion_record(project, "acme.production")
    assert (record.source, record.promoted_by, [(f.field, f.old, f.new) for f in record.fields]) == (
        "acme.staging", "ada", [("features.per_month", 50000, 80000)])
    base = read_copy_record(project, "acme.staging")
    assert base.based_on == "promote" and base.source_declaration["features"]["per_month"] == 80000
    [entry] = HistoryStore(location_for(env["PULUMI_BACKEND_URL"], env)).entries()
    assert (entry.operation, entry.stack, entry.result, entry.promotion.source) == (
        "promote", "acme.production", "promoted", "acme.staging")
    # Nothing left: the same command again promotes nothing and writes nothing.
    again = promote(project, "acme.staging", "production", unrehearsed=True, env=env)
    assert not again.written and again.plan.changes == []
    [status] = check_copies(project, [load_stack(project, "acme.staging")])
    assert status.state == "in sync"


def test_check_tells_the_targets_own_changes_and_both(project):
    clone_record(project)
    production = dict(ACME, account={**ACME["account"], "name": "Acme Ltd"})
    write_stack(project, "acme.production", "production", production)
    [status] = check_copies(project, [load_stack(project, "acme.staging")])
    assert status.state == "target changed" and [f.field for f in status.target_changed] == ["account.name"]
    rehearse(project, maximum_contacts=20)
    [status] = check_copies(project, [load_stack(project, "acme.staging")])
    assert status.state == "both changed"
    statuses = promotion_statuses(project, [load_stack(project, n) for n in ("acme.staging", "acme.production")])
    assert statuses["acme.staging"].as_copy.state == "both changed" and "acme.production" not in statuses


def test_a_copy_without_a_record_is_refused_with_the_way_forward_then_promoted_from_git(project, env):
    [status] = check_copies(project, [load_stack(project, "acme.staging")])
    assert (status.state, status.target) == ("no record", "acme.production")
    git = lambda *args: subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True)
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start")
    git("add", "stacks")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "clone")
    rehearse(project, per_month=80000)
    with pytest.raises(PromotionError, match=r"no copy record .* --base REF.*git log --diff-filter=A"):
        promote(project, "acme.staging", "production", unrehearsed=True, env=env)
    with pytest.raises(PromotionError, match="--base HEAD~1: git has no stacks/Pulumi.acme.production.yaml there"):
        promote(project, "acme.staging", "production", base_ref="HEAD~1", unrehearsed=True, env=env)
    result = promote(project, "acme.staging", "production", base_ref="HEAD", unrehearsed=True, env=env)
    assert [(c.field, c.old, c.new) for c in result.plan.changes] == [("features.per_month", 50000, 80000)]
    assert read_copy_record(project, "acme.staging").based_on == "promote"  # from now on, a record


def test_bad_usage_is_named_and_nothing_is_written(project, env):
    clone_record(project)
    rehearse(project, per_month=1200)
    before = {p: p.read_text() for p in (project / "stacks").rglob("*.yaml")}
    cases = [
        (dict(to="staging"), "acme.production is in environment 'production', not 'staging'"),
        (dict(to="nowhere"), "unknown environment 'nowhere'"),
        (dict(to="production", target_name="acme.staging"), "the copy itself"),
        (dict(to="production"), "features.per_month .*raised it from its cap 1000 to 1200.*--set features.per_month"),
    ]
    for kwargs, message in cases:
        with pytest.raises(Exception, match=message):
            promote(project, "acme.staging", unrehearsed=True, env=env, **kwargs)
    assert {p: p.read_text() for p in (project / "stacks").rglob("*.yaml")} == before


def test_a_review_shows_the_promotion_beside_the_plan_and_marks_its_dangers(project, env):
    clone_record(project)
    path = project / "stacks" / "Pulumi.acme.staging.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["email-partners:customer"]["account"]["suspended"] = True
    data["config"]["email-partners:customer"]["features"]["per_month"] = 80000
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    promote(project, "acme.staging", "production", unrehearsed=True, env=env)

    review = StackReview(stack="acme.production", customer="acme", platform="cakemail", preview_ok=True)
    account = ResourceChange(resource="SubAccount", name="acme.production-account", op="update",
                             fields=[FieldChange(field="suspended", old=False, new=True)])
    features = ResourceChange(resource="AccountFeatures", name="acme.production-features", op="update",
                              fields=[FieldChange(field="features.per_month", old=50000, new=80000)])
    review.changes = [account, features]
    review.dangers = dangers_of(account, "cakemail", {"suspended": False}, {"suspended": True}, set())
    review.promotion = promotion_view(project, review, load_stack(project, "acme.production").declaration)
    mark_promoted_dangers(review, review.promotion)
    assert [(f.field, f.in_plan, f.still_declared) for f in review.promotion.fields] == [
        ("account.suspended", True, True), ("features.per_month", True, True)]
    text = markdown([review])
    assert text.index("## Dangerous") < text.index("**Promoted from `acme.staging`**")
    assert "SubAccount acme.production-account (promoted from `acme.staging`): the account is suspended" in text
    assert "**not acknowledged**" in text  # a promotion never carries an acknowledgement
    assert "account.suspended false -> true; features.per_month 50000 -> 80000." in text
    # Once applied (nothing of it planned), the review no longer mentions it.
    applied = StackReview(stack="acme.production", customer="acme", platform="cakemail", preview_ok=True)
    assert promotion_view(project, applied, load_stack(project, "acme.production").declaration) is None


def test_the_status_page_carries_the_promotion_facts(project, env):
    from operations.status.data import build_page

    clone_record(project)
    rehearse(project, per_month=80000)
    stacks = [load_stack(project, n) for n in ("acme.production", "acme.staging")]
    page = build_page(stacks, {}, {}, {}, {}, lambda s, st: [], "email-partners",
                      promotion_statuses(project, stacks))
    rows = {c.stack: c for c in page.customers}
    assert rows["acme.staging"].promotion.as_copy.state == "to promote"
    assert rows["acme.production"].promotion is None
    assert '"as_copy"' in page.model_dump_json()  # the page's JSON (and so its script) gets it
