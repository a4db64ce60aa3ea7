"""How `fleet drift`'s sweep groups customers by partner identity, and the budgets per environment."""

from __future__ import annotations

from pathlib import Path

import yaml

from operations.drift.identities import Budgets, group_by_identity
from operations.project.stacks import CustomerStack

SECURE = {"secure": "v1:abc"}


def stack(name: str, platform: str, **config) -> CustomerStack:
    return CustomerStack(name, Path(f"Pulumi.{name}.yaml"), {"email-partners:customer": {"platform": platform}, **config})


def test_one_identity_per_environment_platform_and_user():
    env = {"CAKEMAIL_API_URL": "http://x/cakemail", "CAKEMAIL_USERNAME": "partner@x"}
    groups = group_by_identity([
        stack("a.production", "cakemail"), stack("b.production", "cakemail"),   # the environment's credentials
        stack("c.staging", "cakemail"),                                          # another environment
        stack("d.production", "cakemail", **{"cakemail:username": "other@x"}),   # another user
        stack("e.production", "ciirus", **{"ciirus:username": "u1", "ciirus:password": SECURE}),
        stack("f.production", "ciirus", **{"ciirus:username": "u1", "ciirus:password": SECURE}),
        stack("g.production", "ciirus", **{"ciirus:username": SECURE, "ciirus:password": SECURE}),
        stack("h.production", "ciirus", **{"ciirus:username": SECURE, "ciirus:password": SECURE}),
    ], env)
    assert [[s.name for s in g.stacks] for g in groups] == [["a.production", "b.production"], ["c.staging"],
                                                           ["d.production"], ["e.production", "f.production"],
                                                           ["g.production"], ["h.production"]]
    secrets = [g.identity.secrets_from for g in groups]
    assert secrets == [None, None, None, "stack config", "g.production", "h.production"]
    assert "other@x" in groups[2].identity.describe() and "production" in groups[2].identity.describe()


def test_budgets_come_from_the_environment_file_else_defaults(tmp_path):
    (tmp_path / "stacks" / "environments").mkdir(parents=True)
    (tmp_path / "stacks" / "environments" / "production.yaml").write_text(yaml.safe_dump(
        {"providers": {}, "request_budgets": {"cakemail": {"concurrency": 8, "per_second": 25}}}))
    budgets = Budgets(tmp_path)
    assert (budgets.spec("production", "cakemail").concurrency, budgets.spec("production", "cakemail").per_second) == (8, 25)
    assert budgets.spec("production", "ciirus").concurrency == 4 and budgets.spec("production", "ciirus").per_second == 10
    assert budgets.spec("nowhere", "cakemail").concurrency == 4 and budgets.spec(None, "cakemail").per_second == 10
