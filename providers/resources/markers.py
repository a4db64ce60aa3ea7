"""Creation markers: how a create interrupted before the engine recorded its object is recognised.

A resource class adds a `creation_marker` input, a short deterministic id of that one resource of
that one stack; the create stores it with the remote object where the vendor allows, so that the
next `up` recognises the object instead of making a second one, and never confuses it with another
stack's. Where a vendor stores nothing of ours, recognition is an exact match on every declared
field of an object made within RECOGNITION_WINDOW.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Optional

# An input the resource class computes itself (never the user): see creation_marker().
MARKER_KEY = "creation_marker"
# How old an object without our marker may be and still be recognised as the one an interrupted
# create of this resource made (an exact match on every declared field is required as well).
RECOGNITION_WINDOW = dt.timedelta(hours=24)


def creation_marker(project: str, stack: str, type_: str, resource_name: str) -> str:
    """A short, deterministic id of one resource of one stack (the parts of its URN). It is not
    compared in diff: changing it never updates or replaces."""
    digest = hashlib.sha256("::".join((project, stack, type_, resource_name)).encode()).hexdigest()
    return f"ep1-{digest[:24]}"


def within_window(created: Optional[dt.datetime], now: Optional[dt.datetime] = None) -> bool:
    """Whether an object was made recently enough to be an interrupted create's (see RECOGNITION_WINDOW)."""
    if created is None:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return now - RECOGNITION_WINDOW <= created <= now + dt.timedelta(minutes=5)  # small clock skew
