"""Cakemail request models and response builders, transcribed from the OpenAPI subset (v1.18.25).

Request bodies and query strings are validated with pydantic models that follow the spec's
schemas (required fields, minLength, minimum, enums, formats), so a client that sends what the
real API would reject gets the same FastAPI-shaped 422 here. The spec sets no
additionalProperties=false anywhere, so unknown keys are ignored, as FastAPI does.
Response builders produce exactly the spec's AccountFullResponse / AccountSummaryResponse keys.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, AnyUrl, BaseModel, Field, TypeAdapter, ValidationError

LANGUAGES = tuple((
    "da da_DK de de_DE el el_GR en en_US en_GB en_UK es es_US es_ES et et_EE fi fi_FI fr fr_CA "
    "fr_FR he he_IL id id_ID it it_IT ja ja_JP nl nl_NL no no_NO pt pt_BR ro ro_RO ru ru_RU sv "
    "sv_SE th th_TH tr tr_TR vi vi_VN zh zh_CN aa ab ae af ak am an ar av ay az ba be bg bh bi bm "
    "bn bo br bs ca ce ch co cr cs cu cv cy dv dz ee eo eu fa ff fj fo fy ga gd gl gn gu gv ha hi "
    "ho hr ht hu hy hz ia ie ig ii ik io is_IS iu jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky "
    "la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nn nr nv ny oc oj om "
    "os pa pi pl ps qu rm rn rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sw ta te tg ti tk "
    "tl tn to ts tt tw ty ug uk ur uz ve vo wa wo xh yi yo za zu").split())

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_URL = TypeAdapter(AnyUrl)


def _email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise ValueError("value is not a valid email address")
    return value


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError("value is not a valid enumeration member (see the Languages schema)")
    return value


def _uri(value: str) -> str:
    _URL.validate_python(value)  # raises on an invalid URL; the original text is kept
    return value


Email = Annotated[str, AfterValidator(_email)]
Uri = Annotated[str, Field(min_length=1, max_length=2083), AfterValidator(_uri)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Address(BaseModel):
    address1: NonEmpty
    address2: Optional[str] = None
    city: Optional[str] = None
    country: NonEmpty
    province: Optional[str] = None
    postal_code: Optional[str] = None


class AccountOwnerUser(BaseModel):
    first_name: str
    last_name: str
    title: Optional[str] = None
    office_phone: Optional[str] = None
    mobile_phone: Optional[Annotated[str, Field(pattern="[0-9]+")]] = None
    language: Optional[Annotated[str, AfterValidator(_language)]] = None
    timezone: Optional[str] = None
    password: Optional[Annotated[str, Field(min_length=8)]] = None
    email: Email
    password_strength_requirement: Literal[
        "VERY_WEAK", "WEAK", "MODERATE", "STRONG", "VERY_STRONG"] = "VERY_WEAK"


class AccountOwner(BaseModel):
    user_id: Annotated[int, Field(ge=1)]


class UsageLimits(BaseModel):
    starts_on: Optional[Annotated[int, Field(ge=0)]] = None
    per_campaign: Optional[Annotated[int, Field(ge=0)]] = None
    per_month: Optional[Annotated[int, Field(ge=0)]] = None
    maximum_contacts: Optional[Annotated[int, Field(ge=0)]] = None
    lists: Optional[Annotated[int, Field(ge=-1)]] = None
    users: Optional[Annotated[int, Field(ge=-1)]] = None
    campaign_blueprints: Optional[Annotated[int, Field(ge=-1)]] = None
    automation_conditions: Optional[Annotated[int, Field(ge=-1)]] = None
    use_campaign_blueprints: Optional[bool] = None
    use_automation_conditions: Optional[bool] = None
    use_automations: Optional[bool] = None
    use_automation_customwebhooks: Optional[bool] = None
    use_html_editor: Optional[bool] = None
    use_contact_export: Optional[bool] = None
    use_custom_merge_tags: Optional[bool] = None
    use_list_redirection: Optional[bool] = None
    use_behavioral_segmentation: Optional[bool] = None
    use_ab_split: Optional[bool] = None
    use_smart_email_resource: Optional[bool] = None
    use_smart_blueprint: Optional[bool] = None
    use_brand: Optional[bool] = None
    use_email_api: Optional[bool] = None
    insert_reseller_logo: Optional[bool] = None
    use_tags_in_automation: Optional[bool] = None
    use_tags: Optional[bool] = None


class Domains(BaseModel):
    bounce: Optional[str] = None
    tracking: Optional[Uri] = None
    forward: Optional[Uri] = None


class CreateAccount(BaseModel):
    name: NonEmpty
    address: Optional[Address] = None
    account_owner: Optional[AccountOwnerUser] = None
    fax: Optional[NonEmpty] = None
    phone: Optional[NonEmpty] = None
    website: Optional[Uri] = None
    usage_limits: UsageLimits = UsageLimits()
    domains: Domains = Domains()
    trial: bool = False
    partner: bool = False


class PatchSelfAccount(BaseModel):
    """PATCH /accounts/self: what an account may change about itself (no limits, no partner flag)."""

    address: Optional[Address] = None
    name: Optional[NonEmpty] = None  # the spec sets no minLength here; an empty name is refused
    account_owner: Optional[AccountOwner] = None
    fax: Optional[str] = None
    phone: Optional[str] = None
    domains: Domains = Domains()
    website: Optional[Uri] = None


class PatchAccount(PatchSelfAccount):
    """PATCH /accounts/{id}: the partner also sets the sub-account's limits and flags."""

    usage_limits: UsageLimits = UsageLimits()
    trial: Optional[bool] = None
    partner: Optional[bool] = None
    metadata: Optional[dict[str, Any]] = None


class TokenForm(BaseModel):
    grant_type: Literal["password", "refresh_token"] = "password"
    username: Optional[Email] = None
    password: Optional[str] = None
    account_id: Optional[int] = None
    scopes: Annotated[str, Field(
        pattern=r"^(user|admin|internal|auth)(?:,(user|admin|internal|auth))*$")] = "user"
    expiration_seconds: Optional[Annotated[int, Field(ge=600)]] = None
    refresh_token: Optional[str] = None


class ListAccountsQuery(BaseModel):
    partner_account_id: Optional[int] = None
    recursive: bool = False
    page: Annotated[int, Field(ge=1)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 50
    with_count: bool = False
    sort: Optional[str] = None
    filter: Optional[str] = None


class CreateAccountQuery(BaseModel):
    partner_account_id: Optional[int] = None
    skip_verification: bool = False  # accepted; accounts never wait for owner verification here


def validation_detail(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    """pydantic errors -> FastAPI's [{loc, msg, type}] (never echoing the input: it may hold a
    password)."""
    return [{"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False)]


# -- responses ---------------------------------------------------------------------------------
# No defaults in the spec: a new sub-account gets modest sending limits, unlimited (-1) counts and
# every optional feature switched off until the partner turns it on.
DEFAULT_USAGE_LIMITS: dict[str, Any] = {
    "per_campaign": 10000, "per_month": 50000, "maximum_contacts": 10000,
    "lists": -1, "users": -1, "campaign_blueprints": -1, "automation_conditions": -1,
    "use_ab_split": False, "use_automation_conditions": False, "use_automations": False,
    "use_automation_customwebhooks": False, "use_behavioral_segmentation": False,
    "use_brand": False, "use_campaign_blueprints": False, "use_contact_export": False,
    "use_custom_merge_tags": False, "use_email_api": False, "use_html_editor": False,
    "use_list_redirection": False, "use_smart_email_resource": False,
    "use_smart_blueprint": False, "use_tags_in_automation": False, "use_tags": False,
    "insert_reseller_logo": False,
}
ADDRESS_KEYS = ("address1", "address2", "city", "country", "province", "postal_code")
DEFAULT_OVERRIDES = {"bypass_recaptcha": False, "inject_address": True,
                     "inject_unsubscribe_link": True}


def usage_limits_response(account: dict[str, Any]) -> dict[str, Any]:
    limits = {**DEFAULT_USAGE_LIMITS, **account["body"].get("usage_limits", {})}
    return {"starts_on": limits.get("starts_on", account["created_on"]),
            "per_campaign": limits["per_campaign"], "per_month": limits["per_month"],
            "remaining": limits["per_month"],  # nothing is ever sent through the emulator
            **{k: v for k, v in limits.items()
               if k not in ("starts_on", "per_campaign", "per_month")}}


def _owner(account: dict[str, Any]) -> dict[str, Any]:
    owner = account.get("owner")
    return {"user_id": str(owner["id"]) if owner else None}


def account_summary(account: dict[str, Any]) -> dict[str, Any]:
    body = account["body"]
    return {
        "id": str(account["id"]), "lineage": account["lineage"], "status": account["status"],
        "partner": bool(account["partner"]), "name": account["name"],
        "account_owner": _owner(account), "usage_limits": usage_limits_response(account),
        "created_on": account["created_on"], "stripe_customer_id": None,
        "expires_on": body.get("expires_on"),
    }


def account_full(account: dict[str, Any]) -> dict[str, Any]:
    body = account["body"]
    address = body.get("address") or {}
    return {
        "id": str(account["id"]), "lineage": account["lineage"], "status": account["status"],
        "name": account["name"], "address": {k: address.get(k) for k in ADDRESS_KEYS},
        "account_owner": _owner(account), "fax": body.get("fax"), "phone": body.get("phone"),
        "website": body.get("website"), "logo": body.get("logo") or "",
        "usage_limits": usage_limits_response(account),
        "last_activity_on": body.get("last_activity_on", account["created_on"]),
        "created_on": account["created_on"], "partner": bool(account["partner"]),
        "organization": False, "stripe_customer_id": None,
        "overrides": dict(DEFAULT_OVERRIDES), "metadata": body.get("metadata") or {},
    }
