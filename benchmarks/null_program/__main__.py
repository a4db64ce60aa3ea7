"""A stack shaped like a customer (a component, a sub-account and its features, as dynamic
resources with similar inputs) whose provider does nothing: what a no-op preview costs in the
engine, the language host and the dynamic-provider process alone."""

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider


class NullProvider(ResourceProvider):
    def check(self, olds, news):
        from pulumi.dynamic import CheckResult
        return CheckResult(news, [])

    def diff(self, id, olds, news):
        return DiffResult(changes=False)

    def create(self, props):
        return CreateResult(id_="null", outs=dict(props))


class NullResource(Resource):
    def __init__(self, name, props, opts=None):
        super().__init__(NullProvider(), name, props, opts)


stack = pulumi.get_stack()
component = pulumi.ComponentResource("emailpartners:index:Customer", stack)
child = pulumi.ResourceOptions(parent=component)
account = NullResource(f"{stack}-account", {"platform": "cakemail", "name": f"Null {stack}",
                                             "owner": {"email": "owner@null.example", "first_name": "Null",
                                                       "last_name": "Owner"}}, child)
NullResource(f"{stack}-features", {"platform": "cakemail", "features": {"per_month": 20000}}, child)
pulumi.export("platform", "cakemail")
