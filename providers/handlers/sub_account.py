"""What every platform's SubAccount handler records: the account's id and what the platform says of it."""

from __future__ import annotations

from typing import Optional, TypeVar

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
