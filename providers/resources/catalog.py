"""The four resources by name: their provider classes, type tokens, and the props each hands the engine.

For code that works on resources outside a program (`fleet drift`'s sweep, the status page, the
benchmarks' fleet maker): the same props a program's resource classes hand the engine, and the
provider classes the engine would call.
"""

from __future__ import annotations

from typing import Any, Callable

from .account_features import AccountFeaturesProvider, account_features_props
from .domain_verification import DomainVerificationProvider, domain_verification_props
from .provider import PlatformProvider
from .sending_domain import SendingDomainProvider, sending_domain_props
from .sub_account import SubAccountProvider, sub_account_props

# The type of a dynamic resource in state: the SDK's prefix, then the classes' `module:name`.
TYPE_PREFIX = "pulumi-python:dynamic/partners:"
PROVIDERS: dict[str, type[PlatformProvider]] = {
    "SubAccount": SubAccountProvider, "AccountFeatures": AccountFeaturesProvider,
    "SendingDomain": SendingDomainProvider, "DomainVerification": DomainVerificationProvider}
_PROPS: dict[str, Callable[..., dict[str, Any]]] = {
    "AccountFeatures": account_features_props, "SendingDomain": sending_domain_props,
    "DomainVerification": domain_verification_props}


def type_token(kind: str) -> str:
    """`pulumi-python:dynamic/partners:SubAccount`: the resource's type as state and policies see it."""
    return TYPE_PREFIX + kind


def engine_props(kind: str, project: str, stack: str, resource_name: str, **declared: Any) -> dict[str, Any]:
    """The props the resource class of `kind` would hand the engine for these declared settings."""
    if kind == "SubAccount":  # its creation marker names the resource in its stack
        return sub_account_props(project, stack, resource_name, **declared)
    return _PROPS[kind](**declared)
