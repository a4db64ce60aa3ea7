"""The project's CrossGuard policy pack (`pulumi preview --policy-pack policies/`): see README, "Policy as code"."""
