"""Pure builders for the transport-level faults: error answers, HTML pages, huge bodies."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from readiness.chaos.messages import Headers, Request, Response

_JSON = ("Content-Type", "application/json")
# Paths of OpenAI-compatible APIs: their clients expect {"error": {"message", "type", ...}}.
_OPENAI_PATH = re.compile(
    r"/(chat/completions|completions|embeddings|responses|models|moderations|images|audio)\b"
)
_SERVER_ERRORS = {
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
    ),
    502: ("Bad gateway.", "server_error"),
    503: ("The server is overloaded or not ready yet.", "service_unavailable"),
    504: ("Gateway timeout: the upstream did not answer in time.", "timeout"),
}
_CLIENT_ERRORS = {
    400: ("The request is invalid.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: (
        "You are not allowed to perform this request.",
        "invalid_request_error",
        "permission_denied",
    ),
    404: ("The requested resource does not exist.", "invalid_request_error", "not_found"),
    409: (
        "The request conflicts with the current state of the resource.",
        "invalid_request_error",
        "conflict",
    ),
    422: (
        "The request is well-formed but cannot be processed.",
        "invalid_request_error",
        "unprocessable_entity",
    ),
}
_PIECE = 64 * 1024  # huge bodies are written in slices of this size


def openai_style(request: Request, style: str) -> bool:
    """Whether error bodies should take OpenAI's shape for this request."""
    if style != "auto":
        return style == "openai"
    return _OPENAI_PATH.search(request.path) is not None


def _error_body(openai: bool, message: str, kind: str, code: str | None) -> bytes:
    """An error body shaped like the upstream's."""
    if openai:
        payload: Any = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    else:
        payload = {"error": message}
    return json.dumps(payload, separators=(",", ":")).encode()


def rate_limited(params: Mapping[str, Any], request: Request, now: float) -> Response:
    """429 with Retry-After (delta-seconds or HTTP-date) and optionally retry-after-ms."""
    headers: Headers = [_JSON]
    retry_after: int | None = params["retry_after"]
    if retry_after is not None:
        if params["retry_after_date"]:
            # HTTP-dates have one-second resolution: round up so the wait is never shorter.
            headers.append(("Retry-After", formatdate(math.ceil(now) + retry_after, usegmt=True)))
        else:
            headers.append(("Retry-After", str(retry_after)))
    if params["retry_after_ms"] is not None:
        headers.append(("retry-after-ms", str(params["retry_after_ms"])))
    wait = f" Please try again in {retry_after}s." if retry_after is not None else ""
    openai = openai_style(request, params["style"])
    if openai:
        headers += [
            ("x-ratelimit-limit-requests", "60"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", f"{retry_after or 1}s"),
        ]
    message = f"Rate limit reached for requests.{wait}"
    body = _error_body(openai, message, "rate_limit_exceeded", "rate_limit_exceeded")
    return Response(429, headers, body)


def server_error(params: Mapping[str, Any], request: Request) -> Response:
    """A 5xx with an upstream-shaped JSON error body."""
    status: int = params["status"]
    message, kind = _SERVER_ERRORS[status]
    headers: Headers = [_JSON]
    if params["retry_after"] is not None:
        headers.append(("Retry-After", str(params["retry_after"])))
    body = _error_body(openai_style(request, params["style"]), message, kind, None)
    return Response(status, headers, body)


def client_error(params: Mapping[str, Any], request: Request) -> Response:
    """A 4xx with an upstream-shaped JSON error body."""
    status: int = params["status"]
    message, kind, code = _CLIENT_ERRORS[status]
    body = _error_body(openai_style(request, params["style"]), message, kind, code)
    return Response(status, [_JSON], body)


def html_error_page(params: Mapping[str, Any]) -> Response:
    """An HTML error page, as a load balancer or CDN sends it, with the given status."""
    title = html.escape(params["title"])
    page = (
        f"<!DOCTYPE html>\n<html>\n<head><title>{title}</title></head>\n<body>\n"
        f"<center><h1>{title}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
    )
    return Response(params["status"], [("Content-Type", "text/html; charset=utf-8")], page.encode())


@dataclass(frozen=True)
class HugeBody:
    """A valid JSON body of exactly `size` bytes: `prefix`, `size - len(prefix) - len(suffix)`
    filler bytes, `suffix`. Generated slice by slice, never held whole."""

    status: int
    headers: Headers
    prefix: bytes
    suffix: bytes
    size: int
    _fill: bytes = field(default=b"a" * _PIECE, repr=False)

    def chunks(self) -> Iterator[bytes]:
        """The body in slices of at most 64 KiB."""
        yield self.prefix
        left = self.size - len(self.prefix) - len(self.suffix)
        while left > 0:
            piece = min(left, _PIECE)
            yield self._fill[:piece]
            left -= piece
        yield self.suffix

    def preview(self, limit: int = _PIECE) -> bytes:
        """The first `limit` bytes (what is kept in the record)."""
        out = b""
        for chunk in self.chunks():
            out += chunk[: limit - len(out)]
            if len(out) >= limit:
                break
        return out

    def head(self) -> Response:
        """The response to record: headers with the true Content-Length, a body preview."""
        headers = [*self.headers, ("Content-Length", str(self.size))]
        return Response(self.status, headers, self.preview())


def huge_body(params: Mapping[str, Any], response: Response | None) -> HugeBody:
    """The real JSON object answer plus a `padding` string field, `mb` MiB in all.

    Keeping the real fields makes the body parse into what the agent expects, so the
    only fault is the size. Non-object answers become `{"padding": "aaa..."}`.
    """
    size = max(1, int(params["mb"] * 1024 * 1024))
    headers: Headers = [_JSON]
    prefix = b'{"padding":"'
    status = 200
    if response is not None:
        text = response.body.strip()
        if text[:1] == b"{" and text[-1:] == b"}" and _parses(text):
            status = response.status
            headers = _without(response.headers, "content-length", "content-encoding")
            inner = text[:-1].rstrip()
            prefix = inner + (b'"padding":"' if inner == b"{" else b',"padding":"')
    suffix = b'"}'
    return HugeBody(status, headers, prefix, suffix, max(size, len(prefix) + len(suffix)))


def _parses(text: bytes) -> bool:
    """Whether `text` is valid JSON."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _without(headers: Headers, *names: str) -> Headers:
    """The headers minus the given names (case-insensitive)."""
    return [(key, value) for key, value in headers if key.lower() not in names]
