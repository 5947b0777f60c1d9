"""Incremental HTTP/1.1 framing over a byte buffer, for protocol-based connections.

The recording proxy runs on `asyncio.Protocol` callbacks rather than streams: a
stream reader costs a future and a task wake-up per read, which halves a proxy's
throughput. These framers take bytes as they arrive and hand back whole messages,
with the same limits and errors as the stream readers in `_http`.

The proxy without steps frames the common messages with llhttp instead (see
`_wire`) and hands anything else, with every byte received for it, to these
framers, so behaviour and errors stay exactly theirs.
"""

from __future__ import annotations

import time

from readiness.chaos._http import (
    MAX_HEADER_BYTES,
    Head,
    HttpProtocolError,
    IncomingRequest,
    chunk_size,
    keep_alive,
    parse_head,
    request_line,
    response_has_body,
    status_line,
)
from readiness.chaos.messages import Request, Response


class _Framer:
    """Buffer plus the state of the message being assembled."""

    __slots__ = (
        "buffer",
        "chunk_pos",
        "chunk_total",
        "chunks",
        "head",
        "head_at",
        "max_body",
        "scanned",
        "start_line",
    )

    def __init__(self, max_body: int) -> None:
        self.buffer = bytearray()
        self.max_body = max_body
        self.head: Head | None = None
        self.scanned = 0  # where the CRLFCRLF search resumes: no rescans on slow clients
        self.head_at = 0.0
        self.start_line: tuple[str, str, bool] = ("", "", False)
        self.chunks: list[bytes] = []
        self.chunk_pos = 0
        self.chunk_total = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self.buffer += data

    @property
    def pending(self) -> int:
        """How many received bytes wait in this framer."""
        return len(self.buffer)

    def _take_head(self) -> Head | None:
        """Parse a complete head off the buffer, or None if more bytes are needed."""
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n", self.scanned)
        if end < 0:
            if len(buffer) > MAX_HEADER_BYTES:
                raise HttpProtocolError(f"message head exceeds {MAX_HEADER_BYTES} bytes", 431)
            self.scanned = max(0, len(buffer) - 3)
            return None
        self.scanned = 0
        if end >= MAX_HEADER_BYTES:
            raise HttpProtocolError(f"message head exceeds {MAX_HEADER_BYTES} bytes", 431)
        if buffer[:2] == b"\r\n":  # RFC 9112 section 2.2: ignore empty lines before a message
            while buffer[:2] == b"\r\n":
                del buffer[:2]
            return self._take_head()
        head = parse_head(bytes(buffer[: end + 4]))
        del buffer[: end + 4]
        self.head_at = time.time()
        return head

    def _take_body(self, head: Head) -> bytes | None:
        """The framed body, or None while incomplete (the head stays pending)."""
        if head.chunked:
            return self._take_chunked()
        length = head.content_length
        if not length:
            return b""
        if length > self.max_body:
            raise HttpProtocolError(
                f"body of {length} bytes exceeds the {self.max_body}-byte limit", 413
            )
        buffer = self.buffer
        if len(buffer) < length:
            return None
        body = bytes(buffer[:length]) if len(buffer) > length else bytes(buffer)
        del buffer[:length]
        return body

    def _take_chunked(self) -> bytes | None:
        """Decode as many chunks as have arrived; the body once the last one has."""
        buffer = self.buffer
        pos = self.chunk_pos
        while True:
            line_end = buffer.find(b"\r\n", pos)
            if line_end < 0:
                if len(buffer) - pos > MAX_HEADER_BYTES:
                    raise HttpProtocolError("chunk-size line too long")
                self.chunk_pos = pos
                return None
            size = chunk_size(bytes(buffer[pos:line_end]))
            if size == 0:
                line_start = line_end + 2
                while True:  # skip trailer fields (not forwarded) up to the empty line
                    next_end = buffer.find(b"\r\n", line_start)
                    if next_end < 0:
                        self.chunk_pos = pos
                        return None
                    if next_end == line_start:
                        break
                    line_start = next_end + 2
                del buffer[: line_start + 2]
                body = b"".join(self.chunks)
                self.chunks, self.chunk_pos, self.chunk_total = [], 0, 0
                return body
            if self.chunk_total + size > self.max_body:
                raise HttpProtocolError(f"body exceeds the {self.max_body}-byte limit", 413)
            data_end = line_end + 2 + size
            if len(buffer) < data_end + 2:
                self.chunk_pos = pos
                return None
            if buffer[data_end : data_end + 2] != b"\r\n":
                raise HttpProtocolError("chunk not terminated by CRLF")
            self.chunks.append(bytes(buffer[line_end + 2 : data_end]))
            self.chunk_total += size
            pos = data_end + 2
            if pos > _COMPACT_AFTER:  # drop consumed chunks so the buffer does not grow
                del buffer[:pos]
                pos = 0


_COMPACT_AFTER = 256 * 1024


class RequestFramer(_Framer):
    """Turns the bytes a client sends into `IncomingRequest`s, one at a time.

    `continue_due` turns True when a request with `Expect: 100-continue` is
    waiting for its body: the connection should send `100 Continue` (and reset it).
    """

    __slots__ = ("continue_due",)

    def __init__(self, max_body: int) -> None:
        super().__init__(max_body)
        self.continue_due = False

    def next_request(self) -> IncomingRequest | None:
        """The next complete request, or None until more bytes arrive.

        Raises `HttpProtocolError` (with the status to answer) for garbage or
        oversized messages; the connection must be closed after answering.
        """
        head = self.head
        if head is None:
            head = self._take_head()
            if head is None:
                return None
            self.start_line = request_line(head)  # validated before waiting for a body
            self.head = head
            body = self._take_body(head)
            if body is None:
                self.continue_due = head.expect_continue
                return None
        else:
            body = self._take_body(head)
            if body is None:
                return None
        self.head = None
        method, target, http10 = self.start_line
        request = Request(method, target, head.headers, body)
        return IncomingRequest(request, keep_alive(head, http10), http10, self.head_at)


class ResponseFramer(_Framer):
    """Turns the bytes a server sends into responses, given each request's method."""

    __slots__ = ("until_close",)

    def __init__(self, max_body: int) -> None:
        super().__init__(max_body)
        self.until_close = False

    def next_response(self, method: str) -> tuple[Response, bool] | None:
        """The complete response and whether the connection is reusable, or None.

        Interim 1xx responses are skipped. A body framed by neither Content-Length
        nor chunked encoding completes only at `at_eof()`.
        """
        while True:
            head = self.head
            if head is None:
                head = self._take_head()
                if head is None:
                    return None
                self.head = head
            status, reason, http10 = status_line(head)
            if 100 <= status < 200 and status != 101:
                self.head = None  # interim response: the real one follows
                continue
            break
        if not response_has_body(method, status):
            body: bytes | None = b""
        elif head.chunked or head.content_length is not None:
            body = self._take_body(head)
        else:
            self.until_close = True
            if len(self.buffer) > self.max_body:
                raise HttpProtocolError(f"body exceeds the {self.max_body}-byte limit", 413)
            return None
        if body is None:
            return None
        self.head = None
        return Response(status, head.headers, body, reason), keep_alive(head, http10)

    def at_eof(self) -> Response | None:
        """Complete a read-until-close response when the peer closes; None otherwise."""
        head = self.head
        if head is None or not self.until_close:
            return None
        status, reason, _ = status_line(head)
        body = bytes(self.buffer)
        self.buffer.clear()
        self.head = None
        return Response(status, head.headers, body, reason)

    @property
    def started(self) -> bool:
        """Whether any byte of a response has arrived."""
        return self.head is not None or bool(self.buffer)
