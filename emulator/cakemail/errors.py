"""Cakemail's error shapes (FastAPI style) and the helpers every Cakemail route raises them with."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import jsonify, request
from pydantic import BaseModel, ValidationError

from .models import validation_detail


class CakemailError(Exception):
    """Raised anywhere in a view; turned into the vendor-shaped JSON response."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def error_body(status: int, message: str, loc: list | None = None) -> tuple[Any, dict[str, str]]:
    """The spec's error shape for a status: code/msg/type for 401/403, loc/msg/type otherwise."""
    if status == 401:
        return ({"detail": [{"code": 401, "msg": message, "type": "unauthorized"}]},
                {"WWW-Authenticate": "Bearer"})
    if status == 403:
        return {"detail": [{"code": 403, "msg": message, "type": "forbidden"}]}, {}
    kind = {400: "bad_request", 422: "value_error"}.get(status)
    if kind is None:
        try:
            kind = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
        except ValueError:
            kind = "error"
    return {"detail": [{"loc": loc or [], "msg": message, "type": kind}]}, {}


def fail(status: int, message: str, loc: list | None = None) -> CakemailError:
    body, headers = error_body(status, message, loc)
    return CakemailError(status, body, headers)


def invalid(loc: list, kind: str, message: str) -> CakemailError:
    """A 422 for one field, as FastAPI words its own validation errors."""
    return CakemailError(422, {"detail": [{"loc": loc, "msg": message, "type": kind}]})


def validate(model: type[BaseModel], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CakemailError(422, {"detail": validation_detail(exc, where)}) from None


def json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise invalid(["body"], "missing", "Field required")
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise invalid(["body"], "json_invalid", "JSON decode error")
    return body


def handle_error(exc: CakemailError):
    return jsonify(exc.body), exc.status, exc.headers
