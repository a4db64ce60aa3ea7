"""Typed bodies of the Sign-Up.to PMAPI endpoints this project uses (field names as API-NOTES)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Account(_Lenient):
    id: int
    name: str
    address: Optional[str] = None
    country: Optional[str] = None
    telephone: Optional[str] = None
    website: Optional[str] = None
    contactemail: Optional[str] = None
    timezone: Optional[str] = None
    emailcreditbalance: int = 0
    smscreditbalance: int = 0
    inboxtestcreditbalance: int = 0
    cdate: Optional[float] = None
    mdate: Optional[float] = None


class CreateAccount(BaseModel):
    name: str
    contactemail: str
    country: Optional[str] = None
    timezone: Optional[str] = None
    address: Optional[str] = None
    telephone: Optional[str] = None
    website: Optional[str] = None


# The feature switches and limits, by type. Names are the API's own.
SWITCHES = (
    "enableanalyse", "enableaudienceinsights", "enablechangepassword", "enablecustommaildomain", "enabledkim",
    "enabledynamiccontent", "enableemail", "enableemailcredits", "enablefacebook", "enablehttppmapi",
    "enableinboxtest", "enablesalesforce", "enablesendbulkemail", "enablesendbulksms", "enablesms",
    "enablesubscriberprofilefields", "enabletimezonepremium", "enabletwitter", "enablewordpress", "locked",
)
# Nullable switches that only mean something when their parent switch is on.
DEPENDENT_SWITCHES = {"enablesplittest": "enablesendbulkemail", "enablesubscriptionmo": "enablesms"}
LIMITS = ("list_limit", "user_limit")
NULLABLE_LIMITS = ("automation_limit", "search_limit", "smsautomation_limit", "subscriber_limit",
                   "subscriberprofilefield_limit")
CustomMailDomainType = Literal["fixed_email", "domain"]


class CreditTransfer(_Lenient):
    id: Optional[int] = None
    sourceaccount_id: int
    destinationaccount_id: int
    type: Literal["email", "sms", "inboxtest"]
    amount: int
    note: Optional[str] = None
    cdate: Optional[float] = None
