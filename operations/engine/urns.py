"""How the engine names a resource: its type token and its URN, read in one place.

`pulumi-python:dynamic/partners:SubAccount` is a SubAccount; the URN
`urn:pulumi:acme.production::email-partners::<parent types>$pulumi-python:dynamic/partners:SubAccount::acme.production-account`
names the resource `acme.production-account` of that kind.
"""

from __future__ import annotations


def kind_of_type(type_token: str) -> str:
    """`SubAccount` for `pulumi-python:dynamic/partners:SubAccount` (the last segment, whatever the module)."""
    return type_token.rsplit(":", 1)[-1]


def type_of_urn(urn: str) -> str:
    """The resource's own type token (after any parent types) of a URN."""
    parts = urn.split("::")
    return parts[-2].split("$")[-1] if len(parts) >= 2 else ""


def kind_of_urn(urn: str) -> str:
    return kind_of_type(type_of_urn(urn))


def name_of_urn(urn: str) -> str:
    """The resource's name in its stack: the URN's last segment."""
    return urn.rsplit("::", 1)[-1]


def is_engine_resource(type_token: str) -> bool:
    """The engine's own records (`pulumi:pulumi:Stack`, `pulumi:providers:...`), not a customer's resources."""
    return type_token.startswith("pulumi:")
