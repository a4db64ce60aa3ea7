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
    # What operators publish: every DNS record with its validation state, and one flag per domain. Where a
    # DomainVerification waited, its reading is the later one (`email-partners dns` prints them all in full).
    latest = {name: customer.verifications.get(name, d) for name, d in customer.domains.items()}
    pulumi.export("dns_records", pulumi.Output.all(*[r.records for r in latest.values()])
                  .apply(lambda lists: [record for records in lists for record in records]))
    pulumi.export("domains_verified", {name: r.verified for name, r in latest.items()})
