"""The proxy's fast framing: common messages parsed by llhttp, in C, via `httptools`.

Splitting heads into header lists in Python was most of the proxy's CPU time.
Here llhttp (the parser behind uvicorn) frames each message and hands over the
header fields as bytes, which are forwarded with one join (hop-by-hop fields
dropped) and recorded as they are, decoded only when the record is read.

Only a message that llhttp parses cleanly, and that needs nothing special, takes
this path: anything else (llhttp rejects it, pipelined or extra bytes, HTTP/1.0,
Expect, chunked requests, oversized bodies, a head split oddly, responses to
HEAD, 1xx/204/304 or read-until-close responses) falls back, with every byte
received for it, to the general framers in `_framing`, which handle or reject it
exactly as before. Used only when no steps are configured.
"""

from __future__ import annotations

import time
from http import HTTPStatus

import httptools

from readiness.chaos._framing import RequestFramer, ResponseFramer
from readiness.chaos._http import MAX_HEADER_BYTES, IncomingRequest
from readiness.chaos.messages import Request

# Header fields as received, joined by LF (which llhttp never lets into a field):
# b"name\nvalue\nname\nvalue". Bytes, not a tuple: a recorder row made only of
# atomic values is untracked by the garbage collector at its first pass.
Fields = bytes

_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"upgrade"})
# Request fields never forwarded (Host is rewritten, Content-Length recomputed) or
# that need the general path (Expect: 100-continue, chunked request bodies).
_REQUEST_SPECIAL = _HOP | {b"host", b"content-length", b"expect", b"transfer-encoding"}
_RESPONSE_SPECIAL = _HOP | {b"content-length", b"transfer-encoding"}
_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}
_PARSER_ERRORS = (httptools.HttpParserError, httptools.HttpParserUpgrade)


class _FallBack(Exception):
    """Raised in an llhttp callback: this message takes the general path."""


class WireResponse:
    """A response framed by llhttp, for the proxy to send on and record.

    `kept` is its end-to-end header lines: the proxy sends the status line, them,
    Content-Length (and Connection), the empty line and `body`. `fields` are all
    the header fields as received, for the record.
    """

    __slots__ = ("body", "fields", "kept", "reason", "status")

    def __init__(self, status: int, reason: bytes, kept: bytes, fields: Fields, body: bytes):
        self.status = status
        self.reason = reason
        self.kept = kept
        self.fields = fields
        self.body = body


class _Wire:
    """What both wire framers share: the llhttp episode and the fall-back to bytes.

    An episode is every byte fed since llhttp was last at a clean message end. A
    message is taken only when one message began and completed in it; on anything
    else the episode's bytes go to the general framer's buffer, and llhttp starts
    afresh (its state cannot be reset).
    """

    # Attributes of the concrete framers (their __slots__).
    buffer: bytearray
    max_body: int
    parser: httptools.HttpRequestParser | httptools.HttpResponseParser
    received: list[bytes]
    size: int
    begun: int
    done: bool
    headed: bool
    fields: list[bytes]
    kept: list[bytes]
    parts: list[bytes]
    special: frozenset[bytes]

    def _start_episode(self) -> None:
        """Forget the message being assembled."""
        self.received, self.size, self.begun = [], 0, 0
        self.done = self.headed = False
        self.fields, self.kept, self.parts = [], [], []

    def _parse(self, data: bytes) -> bool:
        """Feed llhttp; True once one whole message is in (then take it and restart)."""
        self.received.append(data)
        self.size += len(data)
        try:
            self.parser.feed_data(data)
        except (_FallBack, *_PARSER_ERRORS):
            self._fall_back()
            return False
        if self.done:
            if self.begun == 1:
                return True
            self._fall_back()  # more than one message: the general framer splits them
        elif not self.headed and self.size > MAX_HEADER_BYTES:
            self._fall_back()  # the general framer answers 431
        return False

    def _fall_back(self) -> None:
        """Hand every byte of this episode to the general framer, with a fresh parser."""
        self.buffer += b"".join(self.received)
        self.parser = type(self.parser)(self)
        self._start_episode()

    def _body(self) -> bytes:
        parts = self.parts
        return b"" if not parts else parts[0] if len(parts) == 1 else b"".join(parts)

    # llhttp callbacks

    def on_message_begin(self) -> None:
        self.begun += 1

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields += (name, value)
        lowered = name.lower()
        if lowered not in self.special:
            self.kept += (name, b": ", value, b"\r\n")
        elif lowered == b"content-length":
            if int(value) > self.max_body:
                raise _FallBack  # the general framer answers 413
        elif self.special is _REQUEST_SPECIAL and lowered in (b"expect", b"transfer-encoding"):
            raise _FallBack  # 100-continue and chunked request bodies: the general framer's

    def on_body(self, body: bytes) -> None:
        self.parts.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class WireRequestFramer(_Wire, RequestFramer):
    """A `RequestFramer` that frames the common requests with llhttp.

    A request framed here has `fields` and `kept` (its end-to-end header lines) set,
    and empty `request.headers`.
    """

    __slots__ = (
        "begun",
        "done",
        "fields",
        "headed",
        "keep_alive",
        "kept",
        "parser",
        "parts",
        "ready",
        "received",
        "received_at",
        "size",
        "url",
    )
    special = _REQUEST_SPECIAL
    parser: httptools.HttpRequestParser

    def __init__(self, max_body: int) -> None:
        super().__init__(max_body)
        self.parser = httptools.HttpRequestParser(self)
        self.ready: IncomingRequest | None = None
        self.url = b""
        self.received_at = 0.0
        self.keep_alive = True
        self._start_episode()

    def feed(self, data: bytes) -> None:
        if self.ready is not None or self.buffer or self.head is not None:
            self.buffer += data  # the general path holds earlier bytes: keep the order
        elif self._parse(data):
            parser = self.parser
            request = Request(
                parser.get_method().decode("ascii"), self.url.decode("latin-1"), [], self._body()
            )
            self.ready = IncomingRequest(
                request,
                self.keep_alive,
                False,
                self.received_at,
                b"\n".join(self.fields),
                b"".join(self.kept),
            )
            self.url = b""
            self._start_episode()

    @property
    def pending(self) -> int:
        return len(self.buffer) + self.size

    def next_request(self) -> IncomingRequest | None:
        ready = self.ready
        if ready is not None:
            self.ready = None
            return ready
        if self.head is None and not self.buffer:
            return None
        return super().next_request()

    def _fall_back(self) -> None:
        self.url = b""
        super()._fall_back()

    # llhttp callbacks

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_headers_complete(self) -> None:
        self.received_at = time.time()
        self.headed = True
        self.keep_alive = self.parser.should_keep_alive()  # reset once the message ends
        # "METHOD SP target SP HTTP/1.1" in the first read: llhttp tolerates more spaces.
        at = len(self.parser.get_method()) + 1 + len(self.url)
        if not self.received[0].startswith(b" HTTP/1.1\r\n", at) or self.size > MAX_HEADER_BYTES:
            raise _FallBack  # (the general framer decides on heads near the size limit)


class WireResponseFramer(_Wire, ResponseFramer):
    """A `ResponseFramer` that frames the common responses with llhttp as `WireResponse`.

    Set `head_request` before each response: responses to HEAD take the general path.
    """

    __slots__ = (
        "begun",
        "body_size",
        "done",
        "fields",
        "head_request",
        "headed",
        "kept",
        "parser",
        "parts",
        "ready",
        "reason",
        "received",
        "size",
    )
    special = _RESPONSE_SPECIAL
    parser: httptools.HttpResponseParser

    def __init__(self, max_body: int) -> None:
        super().__init__(max_body)
        self.parser = httptools.HttpResponseParser(self)
        self.head_request = False
        self.ready: WireResponse | None = None
        self.reason = b""
        self.body_size = 0
        self._start_episode()

    def feed(self, data: bytes) -> None:
        if self.ready is not None or self.buffer or self.head is not None or self.head_request:
            self.buffer += data
        elif self._parse(data):
            status = self.parser.get_status_code()
            self.ready = WireResponse(
                status,
                self.reason or _REASONS.get(status, b""),
                b"".join(self.kept),
                b"\n".join(self.fields),
                self._body(),
            )
            self.reason = b""
            self.body_size = 0
            self._start_episode()

    def _fall_back(self) -> None:
        self.reason = b""
        self.body_size = 0
        super()._fall_back()

    def next_wire(self) -> WireResponse | None:
        """The response llhttp framed, if any (else use `next_response`); reusable."""
        ready = self.ready
        self.ready = None
        return ready

    @property
    def started(self) -> bool:
        return bool(self.received) or self.ready is not None or super().started

    # llhttp callbacks

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_headers_complete(self) -> None:
        self.headed = True
        status = self.parser.get_status_code()
        # 1xx, bodyless and read-until-close responses, big heads: the general path.
        if (
            status < 200
            or status == 204
            or status == 304
            or not self.parser.should_keep_alive()
            or self.size > MAX_HEADER_BYTES
        ):
            raise _FallBack

    def on_body(self, body: bytes) -> None:
        self.parts.append(body)
        self.body_size += len(body)
        if self.body_size > self.max_body:
            raise _FallBack  # the general framer answers 413


def field_pairs(fields: Fields) -> tuple[tuple[str, str], ...]:
    """Header fields as (name, value) text pairs, as `parse_head` would give them."""
    if not fields:
        return ()
    parts = fields.decode("latin-1").split("\n")
    return tuple(zip(parts[::2], (value.strip(" \t") for value in parts[1::2]), strict=True))
