"""SendGrid's error shape, {"errors": [{"field": ..., "message": ...}]}, and the exception views raise.

`field` names the body field (or query parameter) at fault, and is null when the error is about
the request as a whole (authorization, an unknown subuser), as in the spec's examples. A body
with several bad fields gets one entry per field, as the spec's 400 examples list several.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import jsonify

Problem = tuple[Optional[str], str]  # (field, message)


class SendGridError(Exception):
    """Raised anywhere in a view; turned into the vendor-shaped JSON answer."""

    def __init__(self, status: int, message: str, field: Optional[str] = None,
                 problems: Optional[list[Problem]] = None):
        super().__init__(message)
        self.status = status
        self.problems: list[Problem] = problems or [(field, message)]


def error_body(status: int, message: str) -> tuple[Any, dict[str, str]]:
    """The core's hook (faults, unknown paths, crashes): one error without a field."""
    return {"errors": [{"field": None, "message": message}]}, {}


def handle_error(exc: SendGridError):
    body = {"errors": [{"field": field, "message": message} for field, message in exc.problems]}
    return jsonify(body), exc.status
