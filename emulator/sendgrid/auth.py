"""Who a SendGrid call acts as: the API key's user, or the subuser its `on-behalf-of` header names.

`Authorization: Bearer <API key>`; no header (or another scheme) is 401 "authorization required",
an unknown key 401 with SendGrid's invalid-grant message. A parent's key may add `on-behalf-of:
<subuser username>` to act as one of its own subusers; a subuser's key may not impersonate anyone,
and a name that is not one of the parent's subusers is refused like a bad credential (the API
says no more). Customer accounts (`on-behalf-of: account-id <id>`) are not emulated: 403.
"""

from __future__ import annotations

from typing import Any

from flask import g, request

from . import store as db
from .errors import SendGridError
from ..core.store import get_store

AUTHORIZATION_REQUIRED = "authorization required"
INVALID_GRANT = "The provided authorization grant is invalid, expired, or revoked"
NO_PERMISSION = "you dont have permission to access this resource"  # the spec's wording


def authenticate() -> None:
    """before_request of the blueprint: sets g.sendgrid_key_user and g.sendgrid_user (who acts)."""
    scheme, _, key = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise SendGridError(401, AUTHORIZATION_REQUIRED)
    store = get_store()
    user = db.user_for_key(store, key.strip())
    if user is None:
        raise SendGridError(401, INVALID_GRANT)
    g.sendgrid_key_user = g.sendgrid_user = user
    behalf = request.headers.get("on-behalf-of")
    if behalf is None:
        return
    behalf = behalf.strip()
    if user["parent_id"] is not None or behalf.lower().startswith("account-id"):
        raise SendGridError(403, NO_PERMISSION)
    subuser = db.subuser_of(store, user["id"], behalf)
    if subuser is None:
        raise SendGridError(401, AUTHORIZATION_REQUIRED)
    g.sendgrid_user = subuser


def acting_user() -> dict[str, Any]:
    return g.sendgrid_user


def acting_parent() -> dict[str, Any]:
    """The parent account a /v3/subusers call needs: a subuser (or a call on behalf of one) may not."""
    user = g.sendgrid_user
    if user["parent_id"] is not None:
        raise SendGridError(403, NO_PERMISSION)
    return user
