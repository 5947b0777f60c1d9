"""Strict checks of what callers send, with messages that say exactly what to fix.

Messages name fields and limits, never echo the values: a value may be personal data,
and error bodies end up in callers' logs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lead_router.store import MODES, Mode

MAX_BODY_BYTES = 65_536
MAX_REQUEST_ID = 200
# Field -> (required non-empty, max length). Generous for real leads, small enough that
# a pasted e-book does not reach the model.
LEAD_FIELDS: dict[str, tuple[bool, int]] = {
    "name": (True, 200),
    "email": (True, 254),
    "company": (False, 200),
    "message": (False, 5000),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]{1,200}$")


class InvalidRequest(Exception):
    """The request cannot be processed as sent; `status` is 400 (syntax) or 422 (content)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class InvokeRequest:
    """A validated invocation."""

    request_id: str
    input: dict[str, str]


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or InvalidRequest(400)."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidRequest(f"request body is larger than {MAX_BODY_BYTES} bytes", 413)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidRequest("request body is not valid JSON", 400) from None
    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object", 400)
    return data


def invoke_request(data: dict[str, Any]) -> InvokeRequest:
    """Check an invocation body: `{"request_id": str, "input": {name, email, company, message}}`."""
    if unknown := sorted(data.keys() - {"request_id", "input"}):
        raise InvalidRequest(f"unknown field(s) {', '.join(unknown)}; send request_id and input")
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not request_id.strip():
        raise InvalidRequest("request_id must be a non-empty string")
    if len(request_id) > MAX_REQUEST_ID:
        raise InvalidRequest(f"request_id must be at most {MAX_REQUEST_ID} characters")
    lead = data.get("input")
    if not isinstance(lead, dict):
        raise InvalidRequest("input must be an object with name, email, company and message")
    if unknown := sorted(lead.keys() - LEAD_FIELDS.keys()):
        raise InvalidRequest(f"input has unknown field(s) {', '.join(unknown)}")
    clean: dict[str, str] = {}
    for name, (required, limit) in LEAD_FIELDS.items():
        value = lead.get(name, None if required else "")
        if not isinstance(value, str):
            raise InvalidRequest(f"input.{name} must be a string")
        if required and not value.strip():
            raise InvalidRequest(f"input.{name} must not be empty")
        if len(value) > limit:
            raise InvalidRequest(f"input.{name} must be at most {limit} characters")
        clean[name] = value
    if not _EMAIL.match(clean["email"]):
        raise InvalidRequest("input.email is not an email address")
    return InvokeRequest(request_id, clean)


def mode_request(data: dict[str, Any]) -> Mode:
    """Check a `PUT /control` body."""
    mode = data.get("mode")
    for allowed in MODES:
        if mode == allowed:
            return allowed
    raise InvalidRequest(f"mode must be one of {', '.join(MODES)}")


def approver(data: dict[str, Any]) -> str:
    """Check a `POST /review/{id}/approve` body."""
    name = data.get("approver")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidRequest("approver must be a non-empty string of at most 200 characters")
    return name.strip()


def header_id(value: str | None) -> str | None:
    """An X-Request-ID worth forwarding: printable ASCII, bounded, else None."""
    return value if value is not None and _HEADER_SAFE.match(value) else None


def traceparent(value: str | None) -> str | None:
    """A W3C traceparent in version-00 shape, else None."""
    return value if value is not None and _TRACEPARENT.match(value.strip().lower()) else None
