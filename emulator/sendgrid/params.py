"""Reading a SendGrid request: its JSON body and its query parameters (limit, offset, flags)."""

from __future__ import annotations

from typing import Any, Optional

from flask import Response, request

from .errors import SendGridError


def json_body() -> Any:
    """The parsed JSON body, or None (the models then answer "request body must be a JSON object")."""
    return request.get_json(force=True, silent=True)


def int_arg(name: str, default: int, minimum: int, maximum: Optional[int] = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SendGridError(400, f"{name} must be an integer", name) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise SendGridError(400, f"{name} must be {bound}", name)
    return value


def bool_arg(name: str) -> bool:
    raw = request.args.get(name, "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise SendGridError(400, f"{name} must be true or false", name)
    return raw in ("true", "1")


def no_content() -> Response:
    return Response(status=204)
