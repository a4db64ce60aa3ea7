"""Value checks shared by every platform's inputs, so the same mistake gets the same message, and the
one reading of a pydantic validation error."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from pydantic import ValidationError

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


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    """Listing them walks the tz database on disk (~70 ms): once per process is enough."""
    return frozenset(zoneinfo.available_timezones())


def timezone_name(value: Optional[str]) -> Optional[str]:
    if value is None:  # optional fields: absence is checked by the model, not here
        return None
    if value not in _time_zones():
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


LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def hostname(value: Optional[str]) -> Optional[str]:
    """A sending domain: lower-cased (DNS ignores case; the platforms store lower case); a
    trailing dot, non-ASCII names and anything that is not a hostname are refused with the reason."""
    if value is None:
        return None
    text = value.strip()
    if text.endswith("."):
        raise ValueError(f"{value!r} ends with a dot: write the domain without it ({text.rstrip('.')!r})")
    if not text.isascii():
        raise ValueError(f"{value!r} is not ASCII: write an internationalised domain in its xn-- (punycode) form")
    text = text.lower()
    labels = text.split(".")
    if len(text) > 253 or len(labels) < 2 or not all(LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{value!r} is not a valid hostname (labels of letters, digits and inner hyphens, "
                         f"separated by dots, for example mail.example.com)")
    return text


@dataclass(frozen=True)
class Problem:
    """One pydantic validation error, as this project words them (one helper for every model's errors)."""

    loc: tuple
    kind: str       # pydantic's error type: extra_forbidden, missing, value_error...
    message: str    # pydantic's message, without its "Value error, " prefix
    value: Any      # the refused input

    @property
    def path(self) -> str:
        """`owner.email`: the dotted field, without pydantic's validator names."""
        return ".".join(str(part) for part in self.loc if not str(part).startswith("function-"))


def validation_problems(error: ValidationError) -> list[Problem]:
    return [Problem(tuple(item["loc"]), item["type"], item["msg"].removeprefix("Value error, "), item.get("input"))
            for item in error.errors()]
