"""The Ciirus emails/subaccount object (seeds), tolerant of both API versions' field names."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class SubAccountFields(BaseModel):
    """POST and PUT both require all three: whoever writes must send the others' current values."""

    sending_domain: str
    daily_send_limit: int = Field(ge=0)
    approved: StrictBool


class SubAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: Optional[int] = None
    sending_domain: str
    subaccount_id: str
    dns_value: Optional[str] = None
    dns_validation_status: bool = False
    dkim_value: Optional[str] = None
    dkim_validation_status: bool = False
    spf_value: Optional[str] = None
    spf_validation_status: bool = False
    daily_send_limit: int
    approved: bool
    reputation: Optional[int] = None
    created_at: Optional[str] = None
    error_message: Optional[str] = None
    mc_user_id: Optional[int] = None  # v2023.07.31
    management_company_user_id: Optional[int] = None  # v2024.07.31

    @property
    def management_user_id(self) -> Optional[int]:
        return self.management_company_user_id if self.management_company_user_id is not None else self.mc_user_id

    def fields(self) -> SubAccountFields:
        return SubAccountFields(sending_domain=self.sending_domain, daily_send_limit=self.daily_send_limit,
                                approved=self.approved)
