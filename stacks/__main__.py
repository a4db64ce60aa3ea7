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
