"""A customer: its declaration in stack config, and the component that builds it."""

from __future__ import annotations

from typing import Any, Literal, Optional

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from providers.resources.account_features import AccountFeatures
from providers.resources.sub_account import SubAccount


class CustomerDeclaration(BaseModel):
    """The `customer` config object. Resource settings inside `account` are checked by the resource
    itself at preview, so the messages name the same fields whether you use this program or not."""

    model_config = ConfigDict(extra="forbid")

    platform: Literal["cakemail", "signupto", "ciirus"]
    account: dict[str, Any] = Field(description="the sub-account's settings for this platform")
    features: Optional[dict[str, Any]] = Field(None, description="switches and limits to manage; others are left alone")


def load_declaration(config: pulumi.Config) -> CustomerDeclaration:
    raw = config.get_object("customer")
    if raw is None:
        raise pulumi.RunError(
            f"stack {pulumi.get_stack()!r} declares no customer: add a `{config.name}:customer` object to "
            f"stacks/Pulumi.{pulumi.get_stack()}.yaml (see stacks/Pulumi.demo-cakemail.yaml)")
    try:
        return CustomerDeclaration.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"customer.{'.'.join(str(p) for p in e['loc'])}: "
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors())
        raise pulumi.RunError(f"invalid customer declaration in stack config: {problems}") from None


class Customer(pulumi.ComponentResource):
    account: SubAccount
    features: Optional[AccountFeatures] = None

    def __init__(self, name: str, declaration: CustomerDeclaration, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("emailpartners:index:Customer", name, None, opts)
        settings = dict(declaration.account)
        self.account = SubAccount(
            f"{name}-account",
            platform=declaration.platform,
            opts=pulumi.ResourceOptions(parent=self),
            **settings,
        )
        if declaration.features is not None:
            self.features = AccountFeatures(
                f"{name}-features",
                platform=declaration.platform,
                account_id=self.account.account_id,
                features=declaration.features,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"account_id": self.account.account_id, "status": self.account.status})
