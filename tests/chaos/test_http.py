"""HTTP/1.1 wire code: stream readers, incremental framers, serialization."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from readiness.chaos._framing import RequestFramer, ResponseFramer
from readiness.chaos._http import (
    MAX_HEADER_BYTES,
    HttpProtocolError,
    IncomingRequest,
    PeerClosed,
    read_request,
    read_response,
)
from readiness.chaos._serialize import serialize_request, serialize_response
from readiness.chaos._wire import WireRequestFramer, WireResponse, WireResponseFramer, field_pairs
from readiness.chaos.messages import Request, Response


def stream(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    """A StreamReader pre-filled with `data`."""
    reader = asyncio.StreamReader(limit=MAX_HEADER_BYTES)
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


def parse_request(data: bytes, max_body: int = 1 << 20) -> IncomingRequest | None:
    """Read one request from bytes with the stream reader."""

    async def body() -> IncomingRequest | None:
        return await read_request(stream(data), max_body=max_body)

    return asyncio.run(body())


def frame_request(data: bytes, max_body: int = 1 << 20) -> IncomingRequest | None:
    """Read one request from bytes with the incremental framer, fed byte by byte."""
    framer = RequestFramer(max_body)
    for i in range(len(data)):
        framer.buffer += data[i : i + 1]
        incoming = framer.next_request()
        if incoming is not None:
            return incoming
    return None


def parse_response(data: bytes, method: str = "GET") -> tuple[Response, bool]:
    """Read one response from bytes with the stream reader."""

    async def body() -> tuple[Response, bool]:
        return await read_response(stream(data), method=method)

    return asyncio.run(body())


def frame_response(data: bytes, method: str = "GET") -> tuple[Response, bool] | None:
    """Read one response with the framer, byte by byte, completing at EOF if needed."""
    framer = ResponseFramer(1 << 20)
    for i in range(len(data)):
        framer.buffer += data[i : i + 1]
        result = framer.next_response(method)
        if result is not None:
            return result
    response = framer.at_eof()
    return None if response is None else (response, False)


def wire_request(data: bytes, max_body: int = 1 << 20) -> IncomingRequest | None:
    """Read one request with the llhttp framer, fed in one piece; headers from `fields`."""
    framer = WireRequestFramer(max_body)
    framer.feed(data)
    incoming = framer.next_request()
    if incoming is not None and incoming.fields is not None:
        incoming.request.headers = list(field_pairs(incoming.fields))
    return incoming


def wire_response(data: bytes, method: str = "GET") -> tuple[Response, bool] | None:
    """Read one response with the llhttp framer as a Response (headers from `fields`)."""
    framer = WireResponseFramer(1 << 20)
    framer.head_request = method == "HEAD"
    framer.feed(data)
    wire = framer.next_wire()
    if isinstance(wire, WireResponse):
        headers = list(field_pairs(wire.fields))
        return Response(wire.status, headers, wire.body, wire.reason.decode()), True
    result = framer.next_response(method)
    if result is None and (response := framer.at_eof()) is not None:
        return response, False
    return result  # type: ignore[return-value]  # only Response without `next_wire`


Reader = Callable[..., Any]
READERS = [parse_request, frame_request, wire_request]
RESPONSE_READERS = [parse_response, frame_response, wire_response]


@pytest.mark.parametrize("read", READERS)
def test_request_with_content_length_keeps_header_order_and_case(read: Reader) -> None:
    raw = (
        b"POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nX-Thing:  v1 \r\nContent-Length: 5\r\n\r\nhello"
    )
    incoming = read(raw)
    assert incoming is not None
    request = incoming.request
    assert (request.method, request.target, request.body) == ("POST", "/a/b?x=1&y=2", b"hello")
    assert request.headers == [("Host", "h"), ("X-Thing", "v1"), ("Content-Length", "5")]
    assert incoming.keep_alive and not incoming.http10
    assert request.path == "/a/b" and request.query == {"x": ["1"], "y": ["2"]}


@pytest.mark.parametrize("read", READERS)
def test_chunked_request_with_extensions_and_trailers(read: Reader) -> None:
    raw = (
        b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    incoming = read(raw)
    assert incoming is not None and incoming.request.body == b"hello world"


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    ("raw", "keep_alive"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nconnection: Keep-Alive, Close\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", True),
    ],
)
def test_keep_alive_rules(read: Reader, raw: bytes, keep_alive: bool) -> None:
    incoming = read(raw)
    assert incoming is not None and incoming.keep_alive is keep_alive


def test_clean_eof_and_leading_empty_lines() -> None:
    assert parse_request(b"") is None
    assert frame_request(b"") is None
    for read in READERS:
        incoming = read(b"\r\n\r\nGET /after HTTP/1.1\r\n\r\n")
        assert incoming is not None and incoming.request.target == "/after"


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        (b"GARBAGE\r\n\r\n", 400, "malformed request line"),
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400, "malformed request line"),
        (b"G(T / HTTP/1.1\r\n\r\n", 400, "malformed request line"),
        (b"GET / HTTP/2.0\r\n\r\n", 505, "not supported"),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "malformed header line"),
        (b"GET / HTTP/1.1\r\nName : v\r\n\r\n", 400, "malformed header line"),
        (b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, "malformed header line"),
        (b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "invalid Content-Length"),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "conflicting"),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "only chunked"),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "both Content-Length and Transfer-Encoding",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk size"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n", 400, "chunk size"),
        (b"POST / HTTP/1.1\r\nContent-Length: 9999\r\n\r\n", 413, "exceeds the 100-byte"),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"80\r\n" + b"a" * 128,
            413,
            "exceeds the 100-byte",
        ),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n", 431, "exceeds"),
    ],
)
def test_garbage_and_oversize_raise_with_the_status_to_answer(
    read: Reader, raw: bytes, status: int, words: str
) -> None:
    with pytest.raises(HttpProtocolError, match=words) as caught:
        read(raw, 100)
    assert caught.value.status == status


def test_stream_reader_reports_truncated_messages() -> None:
    with pytest.raises(HttpProtocolError, match="middle of a message head"):
        parse_request(b"GET / HTTP/1.1\r\nHost")
    with pytest.raises(HttpProtocolError, match="after 2 of 5 body bytes"):
        parse_request(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")


@pytest.mark.parametrize("read", RESPONSE_READERS)
def test_responses_content_length_chunked_and_until_close(read: Reader) -> None:
    response, reusable = read(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    assert (response.status, response.reason, response.body, reusable) == (
        201,
        "Created",
        b"ok",
        True,
    )
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n"
    )
    response, reusable = read(chunked)
    assert response.body == b"abcd" and reusable
    response, reusable = read(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
    assert response.body == b"until the end" and not reusable
    response, reusable = read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert not reusable
    response, reusable = read(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert not reusable


@pytest.mark.parametrize("read", RESPONSE_READERS)
def test_bodyless_responses_and_interim_1xx(read: Reader) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    response, reusable = read(head, "HEAD")
    assert response.body == b"" and reusable and response.header("content-length") == "10"
    for status in (b"204 No Content", b"304 Not Modified"):
        response, _ = read(b"HTTP/1.1 " + status + b"\r\n\r\n")
        assert response.body == b""
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    response, _ = read(raw)
    assert (response.status, response.body) == (200, b"x")


def test_response_errors() -> None:
    with pytest.raises(PeerClosed):
        parse_response(b"")
    with pytest.raises(HttpProtocolError, match="malformed status line"):
        parse_response(b"HTTP/1.1 OK fine\r\n\r\n")
    with pytest.raises(HttpProtocolError, match="malformed status line"):
        frame_response(b"SMTP 220 hello\r\n\r\n")


def test_serialize_response_frames_and_drops_hop_by_hop_headers() -> None:
    response = Response(
        200,
        [
            ("Content-Type", "text/plain"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "keep-alive"),
            ("Content-Length", "999"),
        ],
        b"body",
    )
    wire = serialize_response(response)
    assert wire == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbody"
    assert b"Connection: close\r\n" in serialize_response(response, close=True)
    assert b"Connection: keep-alive\r\n" in serialize_response(response, http10=True)
    head = serialize_response(response, head_request=True)
    assert head.endswith(b"Content-Length: 999\r\n\r\n")
    no_content = serialize_response(Response(204, [("Content-Length", "0")], b"ignored"))
    assert no_content == b"HTTP/1.1 204 No Content\r\n\r\n"
    custom = serialize_response(Response(299, [], b"", reason="Odd"))
    assert custom.startswith(b"HTTP/1.1 299 Odd\r\n")


def test_serialize_request_rewrites_host_and_target_and_round_trips() -> None:
    request = Request(
        "POST",
        "/x?q=1",
        [("Host", "proxy:1"), ("Expect", "100-continue"), ("Keep-Alive", "5"), ("A", "b")],
        b"data",
    )
    wire = serialize_request(request, host="api.example.com", target="/v1/x?q=1")
    assert wire == (
        b"POST /v1/x?q=1 HTTP/1.1\r\nHost: api.example.com\r\nA: b\r\nContent-Length: 4\r\n\r\ndata"
    )
    incoming = parse_request(wire)
    assert incoming is not None and incoming.request.body == b"data"
    empty_post = serialize_request(Request("POST", "/", [], b""))
    assert b"Content-Length: 0\r\n" in empty_post
    assert b"Content-Length" not in serialize_request(Request("GET", "/", [], b""))


def test_non_latin1_header_values_fall_back_to_utf8() -> None:
    wire = serialize_response(Response(200, [("X-Name", "Zoë €")], b""))
    assert "X-Name: Zoë €".encode() in wire


def test_framer_handles_pipelined_requests_and_chunked_split_anywhere() -> None:
    framer = RequestFramer(1 << 20)
    framer.buffer += b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\nContent-"
    targets = []
    while (incoming := framer.next_request()) is not None:
        targets.append(incoming.request.target)
    assert targets == ["/1", "/2"]
    framer.buffer += b"Length: 1\r\n\r\nz"
    incoming = framer.next_request()
    assert incoming is not None and incoming.request.body == b"z"
    big = b"".join(b"%x\r\n%s\r\n" % (n, b"y" * n) for n in range(1, 300)) + b"0\r\n\r\n"
    response = frame_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + big)
    assert response is not None and response[0].body == b"y" * sum(range(1, 300))


def test_wire_framers_take_common_messages_and_hand_the_rest_over() -> None:
    raw = (
        b"POST /a HTTP/1.1\r\nHost: h\r\nX-A:  v \r\nConnection: keep-alive\r\n"
        b"Content-Length: 2\r\n\r\nok"
    )
    framer = WireRequestFramer(1 << 20)
    framer.feed(raw[:30])
    framer.feed(raw[30:])
    incoming = framer.next_request()
    assert incoming is not None and incoming.fields is not None  # llhttp framed it
    assert field_pairs(incoming.fields) == (
        ("Host", "h"),
        ("X-A", "v"),
        ("Connection", "keep-alive"),
        ("Content-Length", "2"),
    )
    assert incoming.kept == b"X-A: v \r\n" and incoming.request.body == b"ok"
    # Pipelined, then byte by byte: the general framer takes over, same requests.
    framer.feed(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")
    for byte in b"GET /3 HTTP/1.1\r\nX-B: 1\r\n\r\n":
        framer.feed(bytes([byte]))
    targets = []
    while (incoming := framer.next_request()) is not None:
        targets.append((incoming.request.target, incoming.fields, incoming.request.headers))
    assert targets == [("/1", None, []), ("/2", None, []), ("/3", None, [("X-B", "1")])]
    assert framer.next_request() is None
    framer.feed(b"GET /4 HTTP/1.1\r\n\r\n")  # back on llhttp once the buffer is drained
    incoming = framer.next_request()
    assert incoming is not None and incoming.fields == b""

    responses = WireResponseFramer(1 << 20)
    head = b"HTTP/1.1 200 OK\r\nDate: x\r\nTransfer-Encoding: chunked\r\nKeep-Alive: 5\r\n\r\n"
    responses.feed(head)
    assert responses.started and responses.next_wire() is None
    responses.feed(b"3\r\nabc\r\n0\r\n\r\n")
    wire = responses.next_wire()
    assert wire is not None and wire.body == b"abc"
    assert (wire.reason, wire.kept) == (b"OK", b"Date: x\r\n")  # no hop-by-hop fields
    responses.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert responses.next_wire() is None
    result = responses.next_response("GET")
    assert result is not None and result[0].status == 204
