"""HttpServer: handler dispatch, keep-alive, errors, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

import pytest

from readiness.chaos._http import read_response
from readiness.chaos.messages import Request, Response
from readiness.chaos.server import HttpServer


def run(coro: Coroutine[Any, Any, None], timeout: float = 20.0) -> None:
    """Run an async test body with an overall deadline."""
    asyncio.run(asyncio.wait_for(coro, timeout))


async def echo(request: Request) -> Response:
    """Answer with what was received, as JSON."""
    payload = {
        "method": request.method,
        "target": request.target,
        "headers": request.headers,
        "body": request.body.decode(),
    }
    return Response(200, [("Content-Type", "application/json")], json.dumps(payload).encode())


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes, method: str = "GET"
) -> tuple[Response, bool]:
    """Send raw request bytes and read one response."""
    writer.write(raw)
    return await read_response(reader, method=method)


def test_serves_handler_and_keeps_the_connection_alive() -> None:
    async def body() -> None:
        async with HttpServer(echo) as server:
            assert server.url == f"http://127.0.0.1:{server.port}"
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            for i in range(20):
                raw = f"POST /x?i={i} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                response, reusable = await exchange(reader, writer, raw.encode())
                assert response.status == 200 and reusable
                payload = json.loads(response.body)
                assert payload["target"] == f"/x?i={i}" and payload["body"] == "hi"
            writer.close()
            await writer.wait_closed()

    run(body())


def test_connection_close_and_http10_end_the_connection() -> None:
    async def body() -> None:
        async with HttpServer(echo) as server:
            for raw in (
                b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
                b"GET / HTTP/1.0\r\n\r\n",
            ):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                response, reusable = await exchange(reader, writer, raw)
                assert response.status == 200 and not reusable
                assert await reader.read() == b""  # the server closed its side
                writer.close()
                await writer.wait_closed()
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            raw = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
            for _ in range(2):
                response, reusable = await exchange(reader, writer, raw)
                assert response.status == 200 and reusable
            writer.close()
            await writer.wait_closed()

    run(body())


def test_handler_exception_is_a_json_500_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Request) -> Response:
        raise KeyError("secret-internal-detail")

    async def body() -> None:
        async with HttpServer(broken) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            response, reusable = await exchange(reader, writer, b"GET /boom HTTP/1.1\r\n\r\n")
            assert response.status == 500 and reusable
            assert json.loads(response.body) == {"error": "internal error (KeyError)"}
            assert b"secret" not in response.body and b"Traceback" not in response.body
            writer.close()
            await writer.wait_closed()

    with caplog.at_level(logging.ERROR, logger="readiness.chaos.server"):
        run(body())
    assert "GET /boom" in caplog.text and "secret-internal-detail" in caplog.text


def test_garbage_gets_a_400_and_the_connection_closes() -> None:
    async def body() -> None:
        async with HttpServer(echo) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            response, reusable = await exchange(reader, writer, b"NOT HTTP AT ALL\r\n\r\n")
            assert response.status == 400 and not reusable
            assert "malformed request line" in json.loads(response.body)["error"]
            writer.close()
            await writer.wait_closed()

    run(body())


def test_oversize_body_and_header_are_rejected_cleanly() -> None:
    async def body() -> None:
        async with HttpServer(echo, max_body=1000) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            raw = b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n"
            response, _ = await exchange(reader, writer, raw)
            assert response.status == 413
            assert "exceeds the 1000-byte limit" in json.loads(response.body)["error"]
            writer.close()
            await writer.wait_closed()
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            raw = b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
            response, _ = await exchange(reader, writer, raw)
            assert response.status == 431
            writer.close()
            await writer.wait_closed()

    run(body())


def test_head_and_expect_continue() -> None:
    async def body() -> None:
        async with HttpServer(echo) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            response, _ = await exchange(reader, writer, b"HEAD / HTTP/1.1\r\n\r\n", "HEAD")
            assert response.status == 200 and response.body == b""
            assert int(response.header("content-length") or 0) > 0
            writer.write(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
            interim = await reader.readuntil(b"\r\n\r\n")
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            response, _ = await exchange(reader, writer, b"abc", "POST")
            assert json.loads(response.body)["body"] == "abc"
            writer.close()
            await writer.wait_closed()

    run(body())


def test_close_ends_idle_connections_and_port_before_start_is_an_error() -> None:
    async def body() -> None:
        server = HttpServer(echo)
        with pytest.raises(RuntimeError, match="before start"):
            _ = server.port
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        await exchange(reader, writer, b"GET / HTTP/1.1\r\n\r\n")
        await server.close()
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
        await server.close()  # idempotent

    run(body())
