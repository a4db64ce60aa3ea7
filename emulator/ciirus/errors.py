"""Ciirus's error shape: {"error_message": "..."}, the only error field the seeds show."""

from __future__ import annotations

from typing import Any


class CiirusError(Exception):
    """Raised anywhere in a view; turned into the vendor-shaped JSON response."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def error_body(status: int, message: str) -> tuple[Any, dict[str, str]]:
    headers = {"WWW-Authenticate": 'Basic realm="ciirus"'} if status == 401 else {}
    return {"error_message": message}, headers
