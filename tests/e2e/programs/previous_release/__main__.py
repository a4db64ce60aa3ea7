# The program's entry point as it was at 778eaeb (the previous release), beside its customer.py: state
# written by it must preview with no change under the current program (tests/e2e/test_drift_sweep.py).
"""The program: one stack is one customer, declared in stacks/Pulumi.<stack>.yaml."""

import pulumi

from customer import Customer, load_declaration

declaration = load_declaration(pulumi.Config())
customer = Customer(pulumi.get_stack(), declaration)

pulumi.export("platform", declaration.platform)
pulumi.export("account_id", customer.account.account_id)
pulumi.export("account_status", customer.account.status)
pulumi.export("account_created_at", customer.account.created_at)
if customer.features is not None:
    pulumi.export("features", customer.features.features)
if customer.domains:
    # What operators publish: every DNS record with its validation state, and one flag per domain.
    pulumi.export("dns_records", pulumi.Output.all(*[d.records for d in customer.domains.values()])
                  .apply(lambda lists: [record for records in lists for record in records]))
    pulumi.export("domains_verified", {name: d.verified for name, d in customer.domains.items()})
