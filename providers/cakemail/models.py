"""Typed request and response bodies of the Cakemail accounts API (OpenAPI v1.18.25 subset)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool

AccountStatus = Literal["trial", "active", "suspended", "suspended_by_partner", "deleted", "incomplete", "pending"]
SUSPENDED_STATUSES = frozenset({"suspended", "suspended_by_partner"})

# The spec's Languages enum: an owner language outside it is rejected at preview.
LANGUAGES = frozenset({
    'da', 'da_DK', 'de', 'de_DE', 'el', 'el_GR', 'en', 'en_US', 'en_GB', 'en_UK', 'es', 'es_US',
    'es_ES', 'et', 'et_EE', 'fi', 'fi_FI', 'fr', 'fr_CA', 'fr_FR', 'he', 'he_IL', 'id', 'id_ID',
    'it', 'it_IT', 'ja', 'ja_JP', 'nl', 'nl_NL', 'no', 'no_NO', 'pt', 'pt_BR', 'ro', 'ro_RO', 'ru',
    'ru_RU', 'sv', 'sv_SE', 'th', 'th_TH', 'tr', 'tr_TR', 'vi', 'vi_VN', 'zh', 'zh_CN', 'aa', 'ab',
    'ae', 'af', 'ak', 'am', 'an', 'ar', 'av', 'ay', 'az', 'ba', 'be', 'bg', 'bh', 'bi', 'bm', 'bn',
    'bo', 'br', 'bs', 'ca', 'ce', 'ch', 'co', 'cr', 'cs', 'cu', 'cv', 'cy', 'dv', 'dz', 'ee', 'eo',
    'eu', 'fa', 'ff', 'fj', 'fo', 'fy', 'ga', 'gd', 'gl', 'gn', 'gu', 'gv', 'ha', 'hi', 'ho', 'hr',
    'ht', 'hu', 'hy', 'hz', 'ia', 'ie', 'ig', 'ii', 'ik', 'io', 'is_IS', 'iu', 'jv', 'ka', 'kg',
    'ki', 'kj', 'kk', 'kl', 'km', 'kn', 'ko', 'kr', 'ks', 'ku', 'kv', 'kw', 'ky', 'la', 'lb', 'lg',
    'li', 'ln', 'lo', 'lt', 'lu', 'lv', 'mg', 'mh', 'mi', 'mk', 'ml', 'mn', 'mr', 'ms', 'mt', 'my',
    'na', 'nb', 'nd', 'ne', 'ng', 'nn', 'nr', 'nv', 'ny', 'oc', 'oj', 'om', 'os', 'pa', 'pi', 'pl',
    'ps', 'qu', 'rm', 'rn', 'rw', 'sa', 'sc', 'sd', 'se', 'sg', 'si', 'sk', 'sl', 'sm', 'sn', 'so',
    'sq', 'sr', 'ss', 'st', 'su', 'sw', 'ta', 'te', 'tg', 'ti', 'tk', 'tl', 'tn', 'to', 'ts', 'tt',
    'tw', 'ty', 'ug', 'uk', 'ur', 'uz', 've', 'vo', 'wa', 'wo', 'xh', 'yi', 'yo', 'za', 'zu',
})


class _Lenient(BaseModel):
    """Responses may carry fields newer than our spec; keep them out of the way, don't fail."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class TokenResponse(_Lenient):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    accounts: list[int] = []


class AccountOwnerUser(BaseModel):
    email: str
    first_name: str
    last_name: str
    language: Optional[str] = None
    timezone: Optional[str] = None


class UsageLimits(BaseModel):
    """Only the limits a user declares are sent; absent ones stay as the platform has them."""

    model_config = ConfigDict(extra="forbid")

    per_campaign: Optional[int] = Field(None, ge=0)
    per_month: Optional[int] = Field(None, ge=0)
    maximum_contacts: Optional[int] = Field(None, ge=0)
    lists: Optional[int] = Field(None, ge=-1)
    users: Optional[int] = Field(None, ge=-1)
    campaign_blueprints: Optional[int] = Field(None, ge=-1)
    automation_conditions: Optional[int] = Field(None, ge=-1)
    use_campaign_blueprints: Optional[StrictBool] = None
    use_automation_conditions: Optional[StrictBool] = None
    use_automations: Optional[StrictBool] = None
    use_automation_customwebhooks: Optional[StrictBool] = None
    use_html_editor: Optional[StrictBool] = None
    use_contact_export: Optional[StrictBool] = None
    use_custom_merge_tags: Optional[StrictBool] = None
    use_list_redirection: Optional[StrictBool] = None
    use_behavioral_segmentation: Optional[StrictBool] = None
    use_ab_split: Optional[StrictBool] = None
    use_smart_email_resource: Optional[StrictBool] = None
    use_smart_blueprint: Optional[StrictBool] = None
    use_brand: Optional[StrictBool] = None
    use_email_api: Optional[StrictBool] = None
    insert_reseller_logo: Optional[StrictBool] = None
    use_tags_in_automation: Optional[StrictBool] = None
    use_tags: Optional[StrictBool] = None


class CreateAccount(BaseModel):
    name: str
    account_owner: Optional[AccountOwnerUser] = None
    usage_limits: Optional[UsageLimits] = None
    trial: Optional[StrictBool] = None
    partner: Optional[StrictBool] = None


class PatchAccount(BaseModel):
    name: Optional[str] = None
    usage_limits: Optional[UsageLimits] = None
    trial: Optional[StrictBool] = None
    partner: Optional[StrictBool] = None
    metadata: Optional[dict] = None  # replaced as a whole: merge into the current metadata first


class AccountOwnerResponse(_Lenient):
    user_id: Optional[str] = None


class Account(_Lenient):
    """AccountFull and AccountSummary share these fields."""

    id: str
    lineage: Optional[str] = None
    status: AccountStatus
    name: Optional[str] = None
    partner: bool = False
    account_owner: AccountOwnerResponse = AccountOwnerResponse()
    usage_limits: dict = {}
    created_on: Optional[int] = None
    expires_on: Optional[int] = None
    metadata: Optional[dict] = None  # only in the full account (GET /accounts/{id}), not in listings

    @property
    def suspended(self) -> bool:
        return self.status in SUSPENDED_STATUSES

    @property
    def gone(self) -> bool:
        return self.status == "deleted"


class Pagination(_Lenient):
    """All optional in the published schema: a listing may come without any of them."""
    page: Optional[int] = None
    per_page: Optional[int] = None
    count: Optional[int] = None


class AccountPage(_Lenient):
    pagination: Optional[Pagination] = None
    data: list[Account] = []


class DkimKey(_Lenient):
    id: str
    status: Optional[str] = None  # optional in the published schema: without it the key counts as not active
    selector: str
    domain: str
    public_key: str

    @property
    def active(self) -> bool:
        return self.status == "active"

    def dns_record(self) -> tuple[str, str, str]:
        """(name, type, value) of the TXT record that makes this key active."""
        return f"{self.selector}._domainkey.{self.domain}", "TXT", f"v=DKIM1; k=rsa; p={self.public_key}"
