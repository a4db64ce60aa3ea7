"""Ciirus request validation and response shapes, transcribed from the two seed documents.

The seeds give field names and types but no error format beyond the `error_message` key, so a bad
body gets a 400 `{"error_message": "<field>: <reason>"}` naming the first offending field. Types
are strict (a string "5" is not an int, 1 is not a bool): a client that relies on coercion would
be fragile against the real service, so the emulator refuses it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, BeforeValidator, Field, StrictBool, StrictInt,
                      StrictStr, ValidationError)

from . import store as ciirus_store
from ..core import dns_zone
from ..core.store import Store

# API version -> the name of the user id echo field (renamed in v2024.07.31).
VERSIONS = {"v2023.07.31": "mc_user_id", "v2024.07.31": "management_company_user_id"}

# POST / GET answer (create seed, sample order) and PUT answer (update seed), before the
# version's user id field.
FULL_FIELDS = ("user_id", "sending_domain", "subaccount_id", "dns_value", "dns_validation_status",
               "dkim_value", "dkim_validation_status", "spf_value", "spf_validation_status",
               "daily_send_limit", "approved", "reputation", "sent_monthly", "sent_weekly",
               "sent_total", "created_at", "first_sent_at", "error_message")
UPDATE_FIELDS = ("user_id", "sending_domain", "subaccount_id", "dns_value",
                 "dns_validation_status", "dkim_value", "dkim_validation_status", "spf_value",
                 "spf_validation_status", "daily_send_limit", "approved")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _hostname(value: str) -> str:
    if not dns_zone.is_hostname(value):
        raise ValueError("must be a host name such as mail.example.com (no trailing dot)")
    return value


class SubaccountBody(BaseModel):
    """POST and PUT body: every field required."""

    sending_domain: Annotated[StrictStr, BeforeValidator(_lower), AfterValidator(_hostname)]
    daily_send_limit: Annotated[StrictInt, Field(ge=0)]
    approved: StrictBool


def parse_body(data: Any) -> SubaccountBody:
    """The validated body, or ValueError('<field>: <reason>') for the 400 answer."""
    if not isinstance(data, dict):
        raise ValueError("body: must be a JSON object")
    try:
        return SubaccountBody.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in err["loc"]) or "body"
        reason = err["msg"].removeprefix("Value error, ")
        raise ValueError(f"{field}: {reason}") from None


def subaccount_object(sub: dict[str, Any], version: str, store: Store,
                      fields: tuple[str, ...] = FULL_FIELDS,
                      error_message: str | None = None) -> dict[str, Any]:
    """The seed's object; validation statuses are read from the DNS zone on every call."""
    valid = {kind: dns_zone.has_txt(name, value, store)
             for kind, (name, _, value) in ciirus_store.expected_records(sub).items()}
    user_id = int(sub["user_id"])
    full = {
        "user_id": user_id, "sending_domain": sub["sending_domain"],
        "subaccount_id": f"subaccount-{user_id}-partner-api",
        "dns_value": sub["dns_value"], "dns_validation_status": valid["dns"],
        "dkim_value": sub["dkim_value"], "dkim_validation_status": valid["dkim"],
        "spf_value": ciirus_store.SPF_VALUE, "spf_validation_status": valid["spf"],
        "daily_send_limit": sub["daily_send_limit"], "approved": sub["approved"],
        "reputation": 0, "sent_monthly": 0, "sent_weekly": 0, "sent_total": 0,
        "created_at": sub["created_at"], "first_sent_at": None, "error_message": error_message,
    }
    body = {key: full[key] for key in fields}
    body[VERSIONS[version]] = user_id
    return body
