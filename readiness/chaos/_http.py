"""HTTP/1.1 wire format over asyncio streams: bounded reads and one-buffer writes.

Only what a reverse proxy and small test servers need: origin-form requests,
Content-Length and chunked bodies, read-until-close responses, keep-alive.
Every read is bounded (head: `MAX_HEADER_BYTES`, body: `max_body`) so a hostile
peer can never make us buffer without limit.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from readiness.chaos.messages import Headers, Request, Response

MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BODY = 64 * 1024 * 1024

# Headers that describe one connection, not the message: never copied across a hop.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",  # recomputed by the writer from the body it sends
    }
)
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
NO_BODY_STATUSES = frozenset({204, 304})
_READ_CHUNK = 64 * 1024
_HEXDIGITS = b"0123456789abcdefABCDEF"


class PeerClosed(ConnectionError):
    """The peer closed or reset the connection before sending any byte of a response.

    On a reused keep-alive connection this means the peer had already given up on
    it, so the request can be sent again on a fresh connection.
    """


class HttpProtocolError(Exception):
    """The peer sent something that is not acceptable HTTP/1.1.

    `status` is the status a server should answer with (400, 413, 431, 501, 505);
    when the error comes from reading a response, the proxy answers 502 instead.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class IncomingRequest:
    """A request read off the wire, with what the connection layer needs to know."""

    request: Request
    keep_alive: bool
    http10: bool
    received_at: float  # time.time() when the head was complete, before the body
    fields: bytes | None = None  # from `_wire`: the header fields, LF-joined (headers: [])
    kept: bytes = b""  # from `_wire`: the end-to-end header lines, to forward as they are


@dataclass(slots=True)
class Head:
    """The parts of a message head that frame the body and the connection."""

    first_line: str
    headers: Headers
    content_length: int | None
    chunked: bool
    close: bool
    keep_alive: bool
    expect_continue: bool


def parse_head(data: bytes) -> Head:
    """Split a head (ending in CRLFCRLF) into its start line and headers."""
    text = data[:-4].decode("latin-1")
    first_line, _, rest = text.partition("\r\n")
    headers: Headers = []
    if rest:
        for line in rest.split("\r\n"):
            name, sep, value = line.partition(":")
            if not sep or not name or name[-1] in " \t" or name[0] in " \t":
                raise HttpProtocolError(f"malformed header line {line[:80]!r}")
            headers.append((name, value.strip(" \t")))
    # The framing headers are looked up in the lowered text: a substring search in C
    # is much cheaper than lowering every header name in Python (the proxy's hot path).
    lowered = text.lower()
    content_length: int | None = None
    chunked = close = keep_alive = expect_continue = False
    if "\r\ncontent-length:" in lowered:
        content_length = _content_length(_values(lowered, "\r\ncontent-length:"))
    if "\r\ntransfer-encoding:" in lowered:
        chunked = _chunked(_values(lowered, "\r\ntransfer-encoding:"))
    if "\r\nconnection:" in lowered:
        tokens = {
            token.strip(" \t")
            for value in _values(lowered, "\r\nconnection:")
            for token in value.split(",")
        }
        close = "close" in tokens
        keep_alive = "keep-alive" in tokens
    if "\r\nexpect:" in lowered:
        expect_continue = "100-continue" in _values(lowered, "\r\nexpect:")
    return Head(first_line, headers, content_length, chunked, close, keep_alive, expect_continue)


def _content_length(values: list[str]) -> int:
    """The one Content-Length; repeated identical values are tolerated (RFC 9110 8.6)."""
    content_length: int | None = None
    for value in values:
        if not (value.isascii() and value.isdigit()):
            raise HttpProtocolError(f"invalid Content-Length {value[:40]!r}")
        if content_length is not None and content_length != int(value):
            raise HttpProtocolError("conflicting Content-Length headers")
        content_length = int(value)
    assert content_length is not None
    return content_length


def _chunked(values: list[str]) -> bool:
    """True for `Transfer-Encoding: chunked`; other codings are not supported."""
    for value in values:
        if value != "chunked":
            message = f"unsupported Transfer-Encoding {value[:40]!r} (only chunked)"
            raise HttpProtocolError(message, 501)
    return True


def _values(lowered: str, prefix: str) -> list[str]:
    """The (lowered, stripped) values of every header line starting with `prefix`."""
    start = lowered.find(prefix)
    if start < 0:
        return []
    values = []
    while start >= 0:
        end = lowered.find("\r\n", start + 2)
        values.append(lowered[start + len(prefix) : end if end >= 0 else None].strip(" \t"))
        start = lowered.find(prefix, start + 2)
    return values


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The raw head up to CRLFCRLF; None on a clean EOF before any byte."""
    while True:
        try:
            data = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial.strip(b"\r\n"):
                return None
            raise HttpProtocolError("connection closed in the middle of a message head") from None
        except asyncio.LimitOverrunError:
            raise HttpProtocolError(f"message head exceeds {MAX_HEADER_BYTES} bytes", 431) from None
        if len(data) > MAX_HEADER_BYTES:
            raise HttpProtocolError(f"message head exceeds {MAX_HEADER_BYTES} bytes", 431)
        # RFC 9112 section 2.2: ignore empty lines before a start line.
        if data[:2] == b"\r\n":
            data = data.lstrip(b"\r\n")
            if len(data) < 4 or not data.endswith(b"\r\n\r\n"):
                continue
        return data


def chunk_size(line: bytes) -> int:
    """The size in a chunk-size line (without CRLF), ignoring chunk extensions."""
    size_text = line.split(b";", 1)[0].strip(b" \t")
    if not size_text or size_text.strip(_HEXDIGITS) or len(size_text) > 16:
        raise HttpProtocolError(f"invalid chunk size {size_text[:20]!r}")
    return int(size_text, 16)


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    """Decode a chunked body, discarding trailers."""
    parts: list[bytes] = []
    total = 0
    try:
        while True:
            line = await reader.readuntil(b"\r\n")
            size = chunk_size(line[:-2])
            if size == 0:  # trailer fields follow, up to an empty line: not forwarded
                trailer = await reader.readuntil(b"\r\n")
                while trailer != b"\r\n":
                    trailer = await reader.readuntil(b"\r\n")
                return b"".join(parts)
            total += size
            if total > max_body:
                raise HttpProtocolError(f"body exceeds the {max_body}-byte limit", 413)
            parts.append(await reader.readexactly(size))
            if await reader.readexactly(2) != b"\r\n":
                raise HttpProtocolError("chunk not terminated by CRLF")
    except asyncio.IncompleteReadError:
        raise HttpProtocolError("connection closed in the middle of a chunked body") from None
    except asyncio.LimitOverrunError:
        raise HttpProtocolError("chunk-size line too long") from None


async def _read_body(reader: asyncio.StreamReader, head: Head, max_body: int) -> bytes:
    """Read a body framed by Content-Length or chunked encoding."""
    if head.chunked:
        return await _read_chunked(reader, max_body)
    length = head.content_length
    if not length:
        return b""
    if length > max_body:
        raise HttpProtocolError(f"body of {length} bytes exceeds the {max_body}-byte limit", 413)
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise HttpProtocolError(
            f"connection closed after {len(exc.partial)} of {length} body bytes"
        ) from None


async def read_request(
    reader: asyncio.StreamReader,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    writer: asyncio.StreamWriter | None = None,
) -> IncomingRequest | None:
    """Read one request; None when the client closed the connection between requests.

    When `writer` is given, an `Expect: 100-continue` request gets its interim
    `100 Continue` before the body is read (clients otherwise stall for a second).
    Raises `HttpProtocolError` with the status to answer for anything malformed or
    oversized.
    """
    data = await _read_head(reader)
    if data is None:
        return None
    received_at = time.time()
    head = parse_head(data)
    method, target, http10 = request_line(head)
    if head.expect_continue and writer is not None and (head.chunked or head.content_length):
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, head, max_body)
    request = Request(method, target, head.headers, body)
    return IncomingRequest(request, keep_alive(head, http10), http10, received_at)


def request_line(head: Head) -> tuple[str, str, bool]:
    """Validate a request head: (method, target, is HTTP/1.0)."""
    parts = head.first_line.split(" ")
    if len(parts) != 3:
        raise HttpProtocolError(f"malformed request line {head.first_line[:80]!r}")
    method, target, version = parts
    if version == "HTTP/1.1":
        http10 = False
    elif version == "HTTP/1.0":
        http10 = True
    elif version.startswith("HTTP/"):
        raise HttpProtocolError(f"HTTP version {version[:20]!r} is not supported", 505)
    else:
        raise HttpProtocolError(f"malformed request line {head.first_line[:80]!r}")
    if not method or not (method.isalpha() or set(method) <= _TCHAR) or not target:
        raise HttpProtocolError(f"malformed request line {head.first_line[:80]!r}")
    if head.chunked and head.content_length is not None:
        # Both framings at once is the classic request-smuggling vector: refuse it.
        raise HttpProtocolError("request has both Content-Length and Transfer-Encoding")
    return method, target, http10


def status_line(head: Head) -> tuple[int, str, bool]:
    """Validate a response head: (status, reason, is HTTP/1.0)."""
    version, _, rest = head.first_line.partition(" ")
    status_text, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(status_text) != 3 or not status_text.isdigit():
        raise HttpProtocolError(f"malformed status line {head.first_line[:80]!r}")
    return int(status_text), reason, version == "HTTP/1.0"


def keep_alive(head: Head, http10: bool) -> bool:
    """Whether the connection stays open after this message (RFC 9112 section 9.3)."""
    return head.keep_alive and not head.close if http10 else not head.close


def response_has_body(method: str, status: int) -> bool:
    """HEAD responses, 1xx, 204 and 304 never have a body."""
    return not (method == "HEAD" or status in NO_BODY_STATUSES or status < 200)


async def read_response(
    reader: asyncio.StreamReader, *, method: str, max_body: int = DEFAULT_MAX_BODY
) -> tuple[Response, bool]:
    """Read one response to a `method` request; returns it and whether the connection is reusable.

    Interim 1xx responses are skipped. A response with neither Content-Length nor
    chunked encoding is read until the peer closes (and the connection is spent).
    Raises `PeerClosed` when the peer closed before sending any byte (a stale
    keep-alive connection), `HttpProtocolError` for garbage or an oversized body,
    `ConnectionError` or `asyncio.IncompleteReadError` when it closed mid-response.
    """
    try:
        data = await _read_head(reader)
    except ConnectionError as exc:
        raise PeerClosed(str(exc)) from exc
    while True:
        if data is None:
            raise PeerClosed("connection closed before a response")
        head = parse_head(data)
        status, reason, http10 = status_line(head)
        if status >= 200 or status == 101:
            break
        data = await _read_head(reader)  # an interim 1xx: the real response follows
    response = Response(status, head.headers, b"", reason)
    reusable = keep_alive(head, http10)
    if not response_has_body(method, status):
        return response, reusable
    if head.chunked or head.content_length is not None:
        response.body = await _read_body(reader, head, max_body)
        return response, reusable
    response.body = await _read_until_close(reader, max_body)
    return response, False


async def _read_until_close(reader: asyncio.StreamReader, max_body: int) -> bytes:
    """Read a body delimited by the peer closing the connection."""
    parts: list[bytes] = []
    total = 0
    while chunk := await reader.read(_READ_CHUNK):
        total += len(chunk)
        if total > max_body:
            raise HttpProtocolError(f"body exceeds the {max_body}-byte limit", 413)
        parts.append(chunk)
    return b"".join(parts)
