"""The do-nothing twin of the partner resources: same types, same shape, no API, no imports beyond
the Pulumi SDK. What the engine and the Python runtime cost on their own (the benchmark's floor)."""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ResourceProvider


class NullProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        id_ = uuid.uuid4().hex
        return CreateResult(id_, {**props, "account_id": props.get("account_id") or id_})


class NullSubAccount(pulumi.dynamic.Resource, module="null", name="SubAccount"):
    account_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict, opts=None):
        super().__init__(NullProvider(), name, {**props, "account_id": None}, opts)


class NullAccountFeatures(pulumi.dynamic.Resource, module="null", name="AccountFeatures"):
    def __init__(self, name: str, props: dict, opts=None):
        super().__init__(NullProvider(), name, props, opts)


class NullSendingDomain(pulumi.dynamic.Resource, module="null", name="SendingDomain"):
    def __init__(self, name: str, props: dict, opts=None):
        super().__init__(NullProvider(), name, props, opts)
