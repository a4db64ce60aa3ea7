"""Request models (pydantic, strict JSON types) and the answers' shapes, after the OpenAPI documents.

A bad body is a 400 listing every bad field in SendGrid's error shape; messages never repeat the
value sent (it may be a password).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal, Optional

from pydantic import (AfterValidator, BaseModel, BeforeValidator, Field, RootModel, StrictBool, StrictInt,
                      StrictStr, ValidationError, model_validator)

from .errors import SendGridError
from ..core import dns_zone

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9@._+-]{1,64}$")
SELECTOR_RE = re.compile(r"^[a-z0-9]{3}$")
MIN_PASSWORD = 8
CREDIT_TYPES = ("unlimited", "recurring", "nonrecurring")
TYPE_MESSAGE = "Type should be set to 'recurring', 'nonrecurring', or 'unlimited'"  # the spec's words


def ipv4_address(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError("must be IPv4 addresses such as 192.0.2.1") from None


def _username(value: str) -> str:
    if not USERNAME_RE.match(value):
        raise ValueError("must be 1 to 64 letters, digits or the characters @ . _ + -")
    return value


def _email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise ValueError("must be an email address")
    return value


def _password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise ValueError(f"must be at least {MIN_PASSWORD} characters")
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _hostname(value: str) -> str:
    if not dns_zone.is_hostname(value):
        raise ValueError("must be a domain name such as example.com")
    return value


def _subdomain(value: str) -> str:
    if not dns_zone.is_host_labels(value) or len(value) > 63:
        raise ValueError("must be DNS labels (letters, digits, hyphens)")
    return value


def _selector(value: str) -> str:
    if not SELECTOR_RE.match(value):
        raise ValueError("must be three letters or numbers")
    return value


Ipv4 = Annotated[StrictStr, AfterValidator(ipv4_address)]


class CreateSubuser(BaseModel):
    username: Annotated[StrictStr, AfterValidator(_username)]
    email: Annotated[StrictStr, AfterValidator(_email)]
    password: Annotated[StrictStr, AfterValidator(_password)]
    ips: Annotated[list[Ipv4], Field(min_length=1)]
    region: Literal["global", "eu"] = "global"
    include_region: StrictBool = False


class PatchSubuser(BaseModel):
    disabled: Optional[StrictBool] = None


class IpList(RootModel[list[Ipv4]]):
    pass


class CreditsRequest(BaseModel):
    type: StrictStr
    reset_frequency: Optional[Literal["monthly", "weekly", "daily"]] = None
    total: Optional[Annotated[StrictInt, Field(ge=1)]] = None

    @model_validator(mode="after")
    def _fits_the_type(self) -> "CreditsRequest":
        problems = []
        if self.type not in CREDIT_TYPES:
            raise SendGridError(400, TYPE_MESSAGE, "type")
        if self.type == "recurring":
            if self.reset_frequency is None:
                problems.append(("reset_frequency", "reset_frequency is required when type is 'recurring'"))
            if self.total is None:
                problems.append(("total", "total is required when type is 'recurring'"))
        else:
            if self.reset_frequency is not None:
                problems.append(("reset_frequency", f"do not include reset_frequency when type is '{self.type}'"))
            if self.type == "nonrecurring" and self.total is None:
                problems.append(("total", "total is required when type is 'nonrecurring'"))
            if self.type == "unlimited" and self.total is not None:
                problems.append(("total", "do not include total when type is 'unlimited'"))
        if problems:
            raise SendGridError(400, problems[0][1], problems=problems)
        return self


class CreateDomain(BaseModel):
    domain: Annotated[StrictStr, BeforeValidator(_lower), AfterValidator(_hostname)]
    subdomain: Optional[Annotated[StrictStr, BeforeValidator(_lower), AfterValidator(_subdomain)]] = None
    username: Optional[StrictStr] = None
    ips: list[Ipv4] = []
    custom_spf: StrictBool = False
    default: StrictBool = False
    automatic_security: StrictBool = True
    custom_dkim_selector: Optional[Annotated[StrictStr, BeforeValidator(_lower), AfterValidator(_selector)]] = None
    region: Literal["global", "eu"] = "global"

    @model_validator(mode="after")
    def _spf_needs_manual_security(self) -> "CreateDomain":
        if self.custom_spf and self.automatic_security:  # "only available ... for manual security"
            raise SendGridError(400, "custom_spf is only available with automatic_security false", "custom_spf")
        return self


class PatchDomain(BaseModel):
    default: Optional[StrictBool] = None
    custom_spf: Optional[StrictBool] = None


def parse(model: type[BaseModel], data: Any) -> Any:
    """The body as `model`, or a 400 naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(err) for err in exc.errors()]
        raise SendGridError(400, problems[0][1], problems=problems) from None


def _problem(err: Any) -> tuple[Optional[str], str]:
    loc = [str(x) for x in err["loc"] if not isinstance(x, int)]
    if not loc:
        return None, "request body must be a JSON object" if err["type"] == "model_type" else err["msg"]
    field, text = loc[0], err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        return field, f"{field} is required"
    return field, f"{field} {text}" if text.startswith("must") else f"{field}: {text}"


# -- answers -----------------------------------------------------------------------------------
def subuser_item(user: dict[str, Any], include_region: bool) -> dict[str, Any]:
    """An entry of GET /v3/subusers (Subuser), in the example's key order."""
    item = {"disabled": user["disabled"], "email": user["email"], "id": user["id"], "username": user["username"]}
    if include_region:
        item["region"] = user["region"]
    return item


def created_subuser(user: dict[str, Any], include_region: bool) -> dict[str, Any]:
    """POST /v3/subusers (SubuserPost): a new subuser starts with unlimited credits."""
    body = {"username": user["username"], "user_id": user["id"], "email": user["email"],
            "credit_allocation": {"type": "unlimited"}}
    if include_region:
        body["region"] = user["region"]
    return body


def credits_object(row: dict[str, Any]) -> dict[str, Any]:
    """SubuserCredits: unlimited has no numbers; nonrecurring shows only what remains."""
    kind = row["type"]
    if kind == "unlimited":
        return {"type": kind, "reset_frequency": None, "remain": None, "total": None, "used": None}
    remain = max(0, row["total"] - row["used"])
    if kind == "nonrecurring":
        return {"type": kind, "reset_frequency": None, "remain": remain, "total": None, "used": None}
    return {"type": kind, "reset_frequency": row["reset_frequency"], "remain": remain, "total": row["total"],
            "used": row["used"]}
