"""The benchmark's Pulumi program: N/3 each of SubAccount, AccountFeatures and SendingDomain on
Cakemail (BENCH_KIND=real) or their do-nothing twins (BENCH_KIND=null). Copied as __main__.py."""

import os

import pulumi

n, kind = int(os.environ["BENCH_N"]), os.environ["BENCH_KIND"]
for i in range(n // 3):
    owner = {"email": f"owner{i}@bench.example", "first_name": "Bench", "last_name": f"Mark{i}"}
    domain = f"news{i}.bench.example"
    if kind == "real":
        from providers.resources.account_features import AccountFeatures
        from providers.resources.sending_domain import SendingDomain
        from providers.resources.sub_account import SubAccount

        account = SubAccount(f"account-{i}", platform="cakemail", name=f"Bench {i}", owner=owner)
        AccountFeatures(f"features-{i}", platform="cakemail", account_id=account.account_id,
                        features={"per_month": 1000 + i, "use_ab_split": True})
        SendingDomain(f"domain-{i}", platform="cakemail", account_id=account.account_id, domain=domain)
    else:
        from benchmarks.null_twin import NullAccountFeatures, NullSendingDomain, NullSubAccount

        account = NullSubAccount(f"account-{i}", {"platform": "cakemail", "name": f"Bench {i}", "owner": owner})
        NullAccountFeatures(f"features-{i}", {"platform": "cakemail", "account_id": account.account_id,
                                              "features": {"per_month": 1000 + i, "use_ab_split": True}})
        NullSendingDomain(f"domain-{i}", {"platform": "cakemail", "account_id": account.account_id, "domain": domain})
