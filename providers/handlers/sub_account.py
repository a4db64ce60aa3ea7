"""What every platform's SubAccount handler records: the account's id and what the platform says of it."""

from __future__ import annotations

from typing import Any, Mapping, Optional, TypeVar

from pydantic import BaseModel

from .base import Handler, State


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

    @classmethod
    def customer_name(cls, recorded: Mapping[str, Any]) -> Optional[str]:
        """How people name this customer on the platform (the replacement guard's message says it)."""
        name = recorded.get("name")
        return name if isinstance(name, str) and name else None
