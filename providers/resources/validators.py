"""Value checks shared by every platform's inputs, so the same mistake gets the same message."""

from __future__ import annotations

import re
import zoneinfo
from typing import Optional

EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


def email_address(value: Optional[str]) -> Optional[str]:
    """Trimmed, with the domain lower-cased (the local part is case-sensitive by the RFC)."""
    if value is None:  # optional fields: absence is checked by the model, not here
        return None
    value = value.strip()
    if not EMAIL.match(value):
        raise ValueError(f"{value!r} is not a valid email address")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def timezone_name(value: Optional[str]) -> Optional[str]:
    if value is None:  # optional fields: absence is checked by the model, not here
        return None
    if value not in zoneinfo.available_timezones():
        raise ValueError(f"{value!r} is not a tz database time zone (for example America/Montreal)")
    return value


def country_code(value: Optional[str]) -> Optional[str]:
    if value is None:  # optional fields: absence is checked by the model, not here
        return None
    value = value.strip().upper()
    if not COUNTRY.match(value):
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code (for example GB, CA)")
    return value


def not_blank(value: Optional[str]) -> Optional[str]:
    if value is None:  # optional fields: absence is checked by the model, not here
        return None
    if not value.strip():
        raise ValueError("must not be empty or blank")
    return value.strip()
