"""What every platform's SubAccount handler records: the account's id and what the platform says of it."""

from __future__ import annotations

from typing import Any, Mapping, Optional, TypeVar

from pydantic import BaseModel

from ..resources.markers import MARKER_KEY
from .base import Handler, Recorded, State


class SubAccountState(State):
    account_id: str
    status: Optional[str] = None
    created_at: Optional[str] = None
    owner_user_id: Optional[str] = None
    lineage: Optional[str] = None


ArgsT = TypeVar("ArgsT", bound=BaseModel)


class SubAccountHandler(Handler[ArgsT, SubAccountState]):
    """A customer's account on one platform. The creation marker, where the platform can store it,
    lets an interrupted create be recognised by the next one (see providers/resources/markers.py)."""

    State = SubAccountState
    recorded_inputs: Mapping[str, Any] = {MARKER_KEY: str}  # the resource class's own input (markers.py)

    @classmethod
    def customer_name(cls, recorded: Recorded) -> Optional[str]:
        """How people name this customer on the platform (the replacement guard's message says it)."""
        name = getattr(recorded, "name", None)
        return name if isinstance(name, str) and name else None
