"""Typed request and response bodies of SendGrid's subusers and domain authentication APIs (v3).

Requests are strict (what we send is what the spec declares); responses are lenient (a newer field
is ignored, not an error). The subuser password is a SecretStr: it shows as '**********' in any
repr, log line or error, and only `CreateSubuser.request_body()` reveals it, for the one request.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, StrictInt, model_validator

Region = Literal["global", "eu"]
CreditType = Literal["unlimited", "recurring", "nonrecurring"]
ResetFrequency = Literal["monthly", "weekly", "daily"]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- subusers ------------------------------------------------------------------------------------
class CreateSubuser(BaseModel):
    """POST /v3/subusers. `ips` are the parent's IPs to assign (the API requires at least one)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1)
    email: str = Field(min_length=3)
    password: SecretStr
    ips: list[str] = Field(min_length=1)
    region: Optional[Region] = None

    def request_body(self) -> dict[str, Any]:
        body = {"username": self.username, "email": self.email, "password": self.password.get_secret_value(),
                "ips": list(self.ips)}
        if self.region is not None:
            body.update(region=self.region, include_region=True)
        return body


class Subuser(_Lenient):
    """An entry of GET /v3/subusers (the spec has no GET of one subuser: look-ups filter the list)."""

    id: int
    username: str
    email: str
    disabled: bool = False
    region: Optional[Region] = None


class CreatedSubuser(_Lenient):
    """POST /v3/subusers's answer (SubuserPost)."""

    username: str
    user_id: int
    email: str
    credit_allocation: Optional[dict[str, Any]] = None
    region: Optional[Region] = None

    def subuser(self) -> Subuser:
        return Subuser(id=self.user_id, username=self.username, email=self.email, disabled=False, region=self.region)


class CreditsRequest(BaseModel):
    """PUT /v3/subusers/{name}/credits (SubuserCreditsRequest), with the rules its descriptions state:
    `recurring` needs `total` and `reset_frequency`; `nonrecurring` needs `total` only; `unlimited` neither."""

    model_config = ConfigDict(extra="forbid")

    type: CreditType
    reset_frequency: Optional[ResetFrequency] = None
    total: Optional[StrictInt] = Field(None, ge=1)

    @model_validator(mode="after")
    def _fits_the_type(self) -> "CreditsRequest":
        if self.type == "recurring" and (self.total is None or self.reset_frequency is None):
            raise ValueError("type 'recurring' needs both total and reset_frequency")
        if self.type == "nonrecurring" and (self.total is None or self.reset_frequency is not None):
            raise ValueError("type 'nonrecurring' needs total and takes no reset_frequency")
        if self.type == "unlimited" and (self.total is not None or self.reset_frequency is not None):
            raise ValueError("type 'unlimited' takes neither total nor reset_frequency")
        return self

    def request_body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class SubuserCredits(_Lenient):
    """SubuserCredits. Per the spec, `total` and `used` are null for unlimited and nonrecurring, and
    `remain` is null for unlimited: a nonrecurring allocation reads back as what remains of it."""

    type: CreditType
    reset_frequency: Optional[ResetFrequency] = None
    remain: Optional[int] = None
    total: Optional[int] = None
    used: Optional[int] = None


# -- domain authentication -------------------------------------------------------------------------
class CreateDomain(BaseModel):
    """POST /v3/whitelabel/domains. The owner is set by the client's `on_behalf_of` (the header), so
    the body's `username` is not offered here."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=3)
    subdomain: Optional[str] = None
    ips: list[str] = []
    custom_spf: StrictBool = False
    default: StrictBool = False
    automatic_security: StrictBool = True
    custom_dkim_selector: Optional[str] = Field(None, pattern=r"^[A-Za-z0-9]{3}$")
    region: Optional[Region] = None

    @model_validator(mode="after")
    def _spf_needs_manual_security(self) -> "CreateDomain":
        if self.custom_spf and self.automatic_security:
            raise ValueError("custom_spf is only available with automatic_security false")
        return self

    def request_body(self) -> dict[str, Any]:
        body = self.model_dump(exclude_none=True)
        if not body["ips"]:
            del body["ips"]
        return body


class PatchDomain(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: Optional[StrictBool] = None
    custom_spf: Optional[StrictBool] = None

    def request_body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class DnsRecord(_Lenient):
    valid: bool = False
    type: str  # "cname", "mx" or "txt", as the API spells it
    host: str
    data: str


class AuthenticatedDomain(_Lenient):
    id: int
    user_id: int
    subdomain: str
    domain: str
    username: str
    ips: list[str] = []
    custom_spf: bool = False
    default: bool = False
    legacy: bool = False
    automatic_security: bool = True
    valid: bool = False
    dns: dict[str, DnsRecord] = {}
    last_validation_attempt_at: Optional[int] = None

    def records(self) -> list[dict[str, Any]]:
        """The records to publish, in the order the API lists them: {key, name, type (upper-case), value, valid}."""
        return [{"key": key, "name": r.host, "type": r.type.upper(), "value": r.data, "valid": r.valid}
                for key, r in self.dns.items()]


class RecordValidation(_Lenient):
    valid: bool
    reason: Optional[str] = None


class DomainValidation(_Lenient):
    """POST /v3/whitelabel/domains/{id}/validate: the outcome and, per record, why it failed."""

    id: int
    valid: bool
    validation_results: dict[str, RecordValidation] = {}

    def reasons(self) -> dict[str, str]:
        return {key: r.reason or "invalid" for key, r in self.validation_results.items() if not r.valid}
