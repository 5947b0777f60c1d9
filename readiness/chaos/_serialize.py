"""Writing HTTP/1.1 messages: responses and requests as wire bytes, JSON answers."""

from __future__ import annotations

import json
from http import HTTPStatus

from readiness.chaos._http import HOP_BY_HOP, NO_BODY_STATUSES
from readiness.chaos.messages import Headers, Request, Response

_REASONS = {status.value: status.phrase for status in HTTPStatus}


def _encode_head(text: str) -> bytes:
    """Encode a head; headers are latin-1 on the wire, UTF-8 only as a last resort."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def serialize_response(
    response: Response, *, close: bool = False, http10: bool = False, head_request: bool = False
) -> bytes:
    """The response as one buffer: status line, headers, framing, body.

    Hop-by-hop headers are dropped and Content-Length is set from the body. For a
    HEAD request, 204, 304 and 1xx no body is written; a HEAD or 304 response keeps
    a Content-Length it already carries (it describes the representation).
    """
    status = response.status
    reason = response.reason or _REASONS.get(status, "")
    lines = [f"HTTP/1.1 {status} {reason}"]
    bodyless = head_request or status in NO_BODY_STATUSES or status < 200
    declared: str | None = None
    for name, value in response.headers:
        lowered = name.lower()
        if lowered in HOP_BY_HOP:
            if lowered == "content-length":
                declared = value
            continue
        lines.append(f"{name}: {value}")
    body = response.body
    if not bodyless:
        lines.append(f"Content-Length: {len(body)}")
    elif status != 204 and status >= 200:
        lines.append(f"Content-Length: {declared if declared is not None else len(body)}")
    if close:
        lines.append("Connection: close")
    elif http10:
        lines.append("Connection: keep-alive")
    lines.append("\r\n")
    data = _encode_head("\r\n".join(lines))
    if bodyless or not body:
        return data
    return data + body


def serialize_request(
    request: Request, *, host: str | None = None, target: str | None = None
) -> bytes:
    """The request as one buffer, with Content-Length from the body.

    Hop-by-hop headers and Expect are dropped (the body is already in hand); `host`
    replaces the Host header and `target` the request target when given.
    """
    lines = [f"{request.method} {request.target if target is None else target} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in HOP_BY_HOP or lowered == "expect" or (host is not None and lowered == "host"):
            continue
        lines.append(f"{name}: {value}")
    body = request.body
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("\r\n")
    data = _encode_head("\r\n".join(lines))
    return data + body if body else data


def json_response(status: int, payload: object, headers: Headers | None = None) -> Response:
    """A response with a compact JSON body."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, [("Content-Type", "application/json"), *(headers or [])], body)


def error_response(status: int, message: str) -> Response:
    """The harness's JSON error shape: `{"error": "..."}`."""
    return json_response(status, {"error": message})
