"""Environment files and the copy rules of `clone` (no engine, no API)."""

from __future__ import annotations

import pytest

from operations.customers.clone import rewrite_declaration
from operations.project.environments import EnvironmentError_, load_environment

STAGING = """
providers:
  cakemail: {apiUrl: http://127.0.0.1:1/cakemail, username: s@example.com, password: {env: STAGING_PW}}
copies:
  owner_email: plus
  domain_prefix: staging
  limits_cap: {per_month: 1000, subscriber_limit: 50, daily_send_limit: 10}
"""


def env(tmp_path, name: str, text: str):
    (tmp_path / "stacks" / "environments").mkdir(parents=True, exist_ok=True)
    (tmp_path / "stacks" / "environments" / f"{name}.yaml").write_text(text)
    return load_environment(tmp_path, name)


def test_copy_rules_rewrite_owner_domains_limits_and_drop_adoption(tmp_path):
    staging = env(tmp_path, "staging", STAGING)
    declaration = {"platform": "cakemail",
                   "account": {"name": "A", "owner": {"email": "o@a.example"}, "suspended": True,
                               "adopt_account_id": "12"},
                   "features": {"per_month": 50000, "subscriber_limit": "unlimited", "use_tags": True},
                   "sending_domains": [{"domain": "news.a.example", "adopt_existing": True}]}
    copy, rewrites = rewrite_declaration(declaration, staging, "a")
    assert copy["account"] == {"name": "A", "owner": {"email": "o+staging@a.example"}, "suspended": True}
    assert copy["features"] == {"per_month": 1000, "subscriber_limit": 50, "use_tags": True}
    assert copy["sending_domains"] == [{"domain": "staging.news.a.example"}]
    assert {r.field for r in rewrites} == {"account.adopt_account_id", "account.owner.email", "features.per_month",
                                           "features.subscriber_limit", "sending_domains[0].domain",
                                           "sending_domains[0].adopt_existing"}
    assert declaration["account"]["owner"]["email"] == "o@a.example"  # the source is untouched
    again, more = rewrite_declaration(copy, staging, "a")  # cloning a clone changes nothing more
    assert again == copy and more == []


def test_catch_all(tmp_path):
    sandbox = env(tmp_path, "sandbox", STAGING.replace("owner_email: plus", "owner_email: catch_all\n  catch_all: qa@r.example"))
    copy, _ = rewrite_declaration({"platform": "signupto", "account": {"owner": {"email": "x@y.example"}}}, sandbox,
                                  "Acme Bakery")
    assert copy["account"]["owner"]["email"] == "qa+acme-bakery-sandbox@r.example"


@pytest.mark.parametrize("text, message", [
    (STAGING.replace("username:", "usernme:"), "providers.cakemail.usernme: unknown key"),
    (STAGING.replace("{env: STAGING_PW}", "hunter2"), "may not be written in clear"),
    (STAGING.replace("owner_email: plus", "owner_email: catch_all"), "copies.catch_all: required"),
    (STAGING + "extra: 1\n", "extra: unknown key"),
])
def test_bad_environment_files_name_file_and_key(tmp_path, text, message):
    with pytest.raises(EnvironmentError_) as err:
        env(tmp_path, "bad", text)
    assert message in str(err.value) and "stacks/environments/bad.yaml" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_unknown_environment_and_missing_credentials(tmp_path):
    staging = env(tmp_path, "staging", STAGING)
    with pytest.raises(EnvironmentError_, match="unknown environment 'prod'.*environments: staging"):
        load_environment(tmp_path, "prod")
    with pytest.raises(EnvironmentError_, match=r"STAGING_PW"):
        staging.resolved_config("cakemail", environ={})
    with pytest.raises(EnvironmentError_, match="no ciirus settings"):
        staging.resolved_config("ciirus", environ={})
    assert [v for _, v in staging.resolved_config("cakemail", environ={"STAGING_PW": "pw"})][-1] == "pw"
