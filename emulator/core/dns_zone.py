"""The emulator's pretend DNS: the records a customer has "published" for its sending domains.

Part of the core because several vendors read it (its table is created by store.py); the control
routes that publish and remove records are in control.py.

Ciirus (Mandrill), Cakemail DKIM and SendGrid domain authentication all report whether a domain's
verification, DKIM and SPF records (and, for SendGrid's manual security, an MX record) exist. The
emulator never resolves real DNS: a record counts only once a test (or the --publish-dns demo
option) has put it here, so a client can watch a domain go from unverified to verified, and a
wrong value visibly fails. Names are stored lower-case without the trailing dot,
as DNS compares them; TXT values are compared exactly (no unquoting, no whitespace folding);
CNAME targets and MX exchanges are host names, normalised like names (an MX preference is not
modelled: the value is the exchange alone).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import current_app

from .store import Store, get_store

TYPES = ("TXT", "CNAME", "MX")
_HOST_VALUED = ("CNAME", "MX")  # the value is a host name

# Owner names may hold underscores (_domainkey, _dmarc); host names (sending domains) may not.
_RECORD_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def is_host_labels(name: str) -> bool:
    """Dot-separated lower-case labels of letters, digits and inner hyphens (a DKIM selector)."""
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(x) for x in name.split("."))


def is_hostname(name: str) -> bool:
    """A lower-case, fully qualified host name without trailing dot (e.g. mail.example.com)."""
    labels = name.split(".")
    return is_host_labels(name) and len(labels) >= 2 and not labels[-1].isdigit()


def normalize_name(name: str) -> str:
    """Lower-case, drop one trailing dot; ValueError when it is not a DNS owner name."""
    text = name.strip().lower()
    text = text[:-1] if text.endswith(".") else text
    if not text or len(text) > 253 or not all(_RECORD_LABEL.match(x) for x in text.split(".")):
        raise ValueError(f"not a valid DNS name: {name!r}")
    return text


def _normalize(name: str, rtype: str, value: str | None) -> tuple[str, str, str | None]:
    rtype = rtype.upper()
    if rtype not in TYPES:
        raise ValueError(f"type must be one of {', '.join(TYPES)}")
    if rtype in _HOST_VALUED and value is not None:
        value = normalize_name(value)
    return normalize_name(name), rtype, value


def publish(name: str, rtype: str, value: str, store: Store | None = None) -> dict[str, str]:
    """Add a record (idempotent); returns it normalised. ValueError on a bad name or type."""
    name, rtype, value = _normalize(name, rtype, value)
    if not value:
        raise ValueError("value must be a non-empty string")
    (store or get_store()).execute(
        "INSERT OR IGNORE INTO dns_records (name, type, value, created) VALUES (?, ?, ?, ?)",
        (name, rtype, value, datetime.now(timezone.utc).isoformat()))
    return {"name": name, "type": rtype, "value": value}


def unpublish(name: str, rtype: str | None = None, value: str | None = None,
              store: Store | None = None) -> int:
    """Remove one record (type and value), every record of a type, or every record at a name."""
    sql, params = "DELETE FROM dns_records WHERE name = ?", [normalize_name(name)]
    if rtype is not None:
        _, rtype, value = _normalize(name, rtype, value)
        sql += " AND type = ?"
        params.append(rtype)
        if value is not None:
            sql += " AND value = ?"
            params.append(value)
    return int((store or get_store()).execute(sql, tuple(params)).rowcount)


def records(name: str | None = None, store: Store | None = None) -> list[dict[str, str]]:
    """Every published record (or those at one name), in a stable order."""
    sql, params = "SELECT name, type, value FROM dns_records", ()
    if name is not None:
        sql, params = sql + " WHERE name = ?", (normalize_name(name),)
    return (store or get_store()).query(sql + " ORDER BY name, type, value", params)


def has_txt(name: str, value: str, store: Store | None = None) -> bool:
    """True when a TXT record at name holds exactly value."""
    try:
        name = normalize_name(name)
    except ValueError:
        return False
    row = (store or get_store()).query_one(
        "SELECT 1 AS hit FROM dns_records WHERE name = ? AND type = 'TXT' AND value = ?",
        (name, value))
    return row is not None


def has_record(name: str, rtype: str, value: str, store: Store | None = None) -> bool:
    """True when the zone holds that record (a CNAME target or MX exchange compared as a name)."""
    try:
        name, rtype, value = _normalize(name, rtype, value)  # type: ignore[assignment]
    except ValueError:
        return False
    row = (store or get_store()).query_one(
        "SELECT 1 AS hit FROM dns_records WHERE name = ? AND type = ? AND value = ?", (name, rtype, value))
    return row is not None


def values(name: str, rtype: str, store: Store | None = None) -> list[str]:
    """The values published at name for one type (what a validator reports it found)."""
    try:
        name, rtype, _ = _normalize(name, rtype, None)
    except ValueError:
        return []
    rows = (store or get_store()).query(
        "SELECT value FROM dns_records WHERE name = ? AND type = ? ORDER BY value", (name, rtype))
    return [r["value"] for r in rows]


def publish_if_demo(wanted: list[tuple[str, str, str]], store: Store | None = None) -> None:
    """The --publish-dns demo option: publish what a vendor expects, as a customer would.

    Does nothing unless the app was created with publish_dns=True (off by default)."""
    if current_app.config.get("PUBLISH_DNS"):
        for name, rtype, value in wanted:
            publish(name, rtype, value, store)
