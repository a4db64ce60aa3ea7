"""Sign-Up.to request bodies (pydantic) and the one-line 400 messages PMAPI gives for them.

PMAPI answers a bad body with a single message in the envelope and the X-PMAPI-Error-Message
header, so the models are strict (no 0/1 -> bool or "5" -> int coercion, unknown keys refused)
and the first problem is turned into "Unknown field: x", "Missing required field: x" or
"Invalid value for x: reason". Field types and enums follow the seed and API-NOTES.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
COUNTRIES = frozenset((
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR "
    "BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW "
    "GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY "
    "KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV "
    "MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG "
    "TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM "
    "ZW").split())
_TIMEZONES = frozenset(zoneinfo.available_timezones())


def _email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise ValueError("not a valid email address")
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value) or value not in COUNTRIES:
        raise ValueError("not an ISO 3166-1 alpha-2 country code (two uppercase letters)")
    return value


def _timezone(value: str) -> str:
    # Without a tz database on the host, accept anything shaped like Area/Location.
    known = value in _TIMEZONES if _TIMEZONES else re.fullmatch(r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)+", value)
    if not known:
        raise ValueError("not a tz database time zone name (e.g. Europe/London)")
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Email = Annotated[str, AfterValidator(_email)]
Country = Annotated[str, AfterValidator(_country)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Name = Annotated[str, Field(max_length=255), AfterValidator(_non_blank)]
Limit = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AccountCreate(_Strict):
    """POST /v1/account (partner level)."""

    name: Name
    contactemail: Email
    country: Country = "GB"
    timezone: TimeZone = "Europe/London"
    address: Optional[str] = None
    telephone: Optional[str] = None
    website: Optional[str] = None


SWITCHES = (
    "enableanalyse", "enableaudienceinsights", "enablechangepassword", "enablecustommaildomain",
    "enabledkim", "enabledynamiccontent", "enableemail", "enableemailcredits", "enablefacebook",
    "enablehttppmapi", "enableinboxtest", "enablesalesforce", "enablesendbulkemail",
    "enablesendbulksms", "enablesms", "enablesubscriberprofilefields", "enabletimezonepremium",
    "enabletwitter", "enablewordpress", "locked")
# child switch -> the switch it depends on (the child is null while its parent is off)
DEPENDENT_SWITCHES = {"enablesplittest": "enablesendbulkemail", "enablesubscriptionmo": "enablesms"}
# limits shown on the account object too
LIMITS = ("list_limit", "user_limit", "subscriber_limit", "automation_limit", "search_limit",
          "smsautomation_limit", "subscriberprofilefield_limit")
READ_ONLY = ("cdate", "mdate")


class FeaturesUpdate(_Strict):
    """PUT /v1/accountFeatures: every field optional; only the fields sent are changed.

    A non-nullable field defaults to None here only to tell "absent" apart: sending null for it
    fails the strict type check.
    """

    id: int = None  # type: ignore[assignment]
    enableanalyse: bool = None  # type: ignore[assignment]
    enableaudienceinsights: bool = None  # type: ignore[assignment]
    enablechangepassword: bool = None  # type: ignore[assignment]
    enablecustommaildomain: bool = None  # type: ignore[assignment]
    enabledkim: bool = None  # type: ignore[assignment]
    enabledynamiccontent: bool = None  # type: ignore[assignment]
    enableemail: bool = None  # type: ignore[assignment]
    enableemailcredits: bool = None  # type: ignore[assignment]
    enablefacebook: bool = None  # type: ignore[assignment]
    enablehttppmapi: bool = None  # type: ignore[assignment]
    enableinboxtest: bool = None  # type: ignore[assignment]
    enablesalesforce: bool = None  # type: ignore[assignment]
    enablesendbulkemail: bool = None  # type: ignore[assignment]
    enablesendbulksms: bool = None  # type: ignore[assignment]
    enablesms: bool = None  # type: ignore[assignment]
    enablesubscriberprofilefields: bool = None  # type: ignore[assignment]
    enabletimezonepremium: bool = None  # type: ignore[assignment]
    enabletwitter: bool = None  # type: ignore[assignment]
    enablewordpress: bool = None  # type: ignore[assignment]
    locked: bool = None  # type: ignore[assignment]
    enablesplittest: Optional[bool] = None
    enablesubscriptionmo: Optional[bool] = None
    list_limit: Limit = None  # type: ignore[assignment]
    user_limit: Limit = None  # type: ignore[assignment]
    automation_limit: Optional[Count] = None
    search_limit: Optional[Count] = None
    smsautomation_limit: Optional[Count] = None
    subscriber_limit: Optional[Limit] = None
    subscriberprofilefield_limit: Optional[Count] = None
    contactemail: Email = None  # type: ignore[assignment]
    timezone: TimeZone = None  # type: ignore[assignment]
    custommaildomaintype: Optional[Literal["fixed_email", "domain"]] = None
    maildomainprimary: Optional[str] = None


class CreditTransferCreate(_Strict):
    """POST /v1/creditTransfer."""

    sourceaccount_id: int
    destinationaccount_id: int
    type: Literal["email", "sms", "inboxtest"]
    amount: int
    note: Optional[Annotated[str, Field(max_length=1000)]] = None


class TokenCreate(_Strict):
    """POST /v1/token: a company user's login, for Token authorisation."""

    username: Annotated[str, Field(max_length=255), AfterValidator(_non_blank)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


_ORDER = {"extra_forbidden": 0, "missing": 1}


def describe(exc: ValidationError) -> str:
    """The first problem as PMAPI-style text (unknown fields first, then missing, then invalid)."""
    errors = sorted(exc.errors(include_url=False, include_input=False),
                    key=lambda e: _ORDER.get(e["type"], 2))
    err = errors[0]
    field = ".".join(str(p) for p in err["loc"]) or "body"
    if err["type"] == "extra_forbidden":
        return f"Unknown field: {field}"
    if err["type"] == "missing":
        return f"Missing required field: {field}"
    reason = err["msg"].removeprefix("Value error, ")
    return f"Invalid value for {field}: {reason}"
