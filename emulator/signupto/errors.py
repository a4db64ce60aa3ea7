"""Sign-Up.to's error shape: the PMAPI envelope plus the X-PMAPI-Error-Message header."""

from __future__ import annotations

from typing import Any, Optional


class SignuptoError(Exception):
    def __init__(self, status: int, message: str, headers: Optional[dict[str, str]] = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_body(status: int, message: str) -> tuple[Any, dict[str, str]]:
    """The PMAPI error envelope plus the X-PMAPI-Error-Message header (kept to safe ASCII)."""
    header = message.encode("ascii", "backslashreplace").decode().replace("\r", " ").replace("\n", " ")
    return ({"status": "error", "response": {"message": message, "code": status, "subcode": None}},
            {"X-PMAPI-Error-Message": header})
