"""RecordingProxy: forwarding, keep-alive, refusal, failures, recording, steps."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvloop

from readiness.chaos._http import read_request, read_response
from readiness.chaos._serialize import serialize_response
from readiness.chaos.messages import Request, Response
from readiness.chaos.proxy import RecordingProxy, parse_listen, parse_target
from readiness.chaos.recorder import Exchange, Recorder
from readiness.chaos.server import HttpServer
from readiness.chaos.steps import Forward, StepContext

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def run(coro: Coroutine[Any, Any, None], timeout: float = 30.0) -> None:
    """Run an async test body with an overall deadline."""
    asyncio.run(asyncio.wait_for(coro, timeout))


async def echo(request: Request) -> Response:
    """A target answering with what it received."""
    payload = {
        "method": request.method,
        "target": request.target,
        "headers": request.headers,
        "body": request.body.decode(),
    }
    headers = [("Content-Type", "application/json"), ("X-Target", "yes")]
    return Response(201, headers, json.dumps(payload).encode())


class Client:
    """One keep-alive client connection speaking raw bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, raw: bytes, method: str = "GET") -> Response:
        """Send raw request bytes and read one response."""
        self.writer.write(raw)
        response, _ = await read_response(self.reader, method=method)
        return response

    async def get(self, target: str, *headers: str) -> Response:
        """A GET with optional extra header lines."""
        lines = "".join(f"{header}\r\n" for header in headers)
        return await self.send(f"GET {target} HTTP/1.1\r\nHost: proxy\r\n{lines}\r\n".encode())

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@asynccontextmanager
async def client(port: int) -> AsyncIterator[Client]:
    """A connected Client, closed afterwards."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    connection = Client(reader, writer)
    try:
        yield connection
    finally:
        await connection.close()


@asynccontextmanager
async def proxied(
    target: str, recorder: Recorder | None = None, **options: Any
) -> AsyncIterator[tuple[RecordingProxy, Recorder]]:
    """A started proxy named "crm" in front of `target`."""
    recorder = Recorder() if recorder is None else recorder
    async with RecordingProxy("crm", target, recorder, **options) as proxy:
        yield proxy, recorder


class RawTarget:
    """A target written at the byte level; counts the connections it accepted."""

    def __init__(self, answer: Callable[[Request, int], Awaitable[bytes | None]]) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[Request] = []
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> RawTarget:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        number = self.connections
        try:
            while (incoming := await read_request(reader)) is not None:
                self.requests.append(incoming.request)
                data = await self.answer(incoming.request, number)
                if data is None:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def ok(request: Request, connection: int) -> bytes:
    """A raw target's plain 200."""
    return serialize_response(Response(200, [], b"ok"))


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_forwards_method_path_query_headers_and_body_both_ways() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            raw = (
                b"PATCH /leads/7?fields=a,b&x=%20 HTTP/1.1\r\nHost: proxy.local\r\n"
                b"Authorization: Bearer t\r\nX-Custom: 1\r\nContent-Length: 9\r\n\r\n"
                b'{"a":"b"}'
            )
            response = await agent.send(raw)
        assert response.status == 201 and response.header("x-target") == "yes"
        seen = json.loads(response.body)
        assert seen["method"] == "PATCH" and seen["target"] == "/leads/7?fields=a,b&x=%20"
        assert seen["body"] == '{"a":"b"}'
        assert ["Host", f"127.0.0.1:{target.port}"] in seen["headers"]
        assert ["Authorization", "Bearer t"] in seen["headers"]
        assert ["X-Custom", "1"] in seen["headers"]
        (exchange,) = recorder.exchanges()
        assert (exchange.method, exchange.path, exchange.status) == (
            "PATCH",
            "/leads/7?fields=a,b&x=%20",
            201,
        )
        assert ("Host", "proxy.local") in exchange.request_headers  # as the agent sent it
        assert exchange.response_body == response.body and exchange.error is None

    run(body())


def test_base_path_is_prefixed_and_host_includes_a_non_default_port() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url + "/api/v2/") as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            response = await agent.get("/leads?q=1")
        assert json.loads(response.body)["target"] == "/api/v2/leads?q=1"
        assert recorder.exchanges()[0].path == "/leads?q=1"

    run(body())


def test_keep_alive_reuses_one_target_connection_for_many_requests() -> None:
    async def answer(request: Request, connection: int) -> bytes:
        return serialize_response(Response(200, [], f"{connection}".encode()))

    async def body() -> None:
        async with (
            RawTarget(answer) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            bodies = {(await agent.get(f"/n/{i}")).body for i in range(50)}
        assert bodies == {b"1"} and target.connections == 1 and len(recorder) == 50

    run(body())


def test_target_that_closes_after_every_response_still_serves_each_request() -> None:
    async def once_then_close(request: Request, connection: int) -> bytes | None:
        return serialize_response(Response(200, [("X-Conn", str(connection))], b"ok"))

    async def body() -> None:
        target = RawTarget(once_then_close)
        original = target._serve

        async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            target.connections += 1
            incoming = await read_request(reader)
            if incoming is not None:
                writer.write(await once_then_close(incoming.request, target.connections))
                await writer.drain()
            writer.close()

        target._serve = serve_one  # type: ignore[method-assign]
        assert original is not None
        async with target, proxied(target.url) as (proxy, recorder), client(proxy.port) as agent:
            conns = [(await agent.get(f"/{i}")).header("x-conn") for i in range(10)]
        assert conns == [str(i) for i in range(1, 11)]
        assert [e.status for e in recorder.exchanges()] == [200] * 10

    run(body())


def test_chunked_and_connection_close_responses_from_the_target() -> None:
    async def answer(request: Request, connection: int) -> bytes:
        if request.target == "/chunked":
            return (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"
            )
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye"

    async def body() -> None:
        async with (
            RawTarget(answer) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            chunked = await agent.get("/chunked")
            first_close = await agent.get("/close")
            second_close = await agent.get("/close")  # the agent's connection survives
        assert chunked.body == b"Wikipedia" and chunked.header("content-length") == "9"
        assert chunked.header("transfer-encoding") is None
        assert first_close.body == second_close.body == b"bye"
        assert recorder.exchanges()[0].response_body == b"Wikipedia"
        assert target.connections == 2

    run(body())


def test_pipelined_requests_are_answered_in_order() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            agent.writer.write(b"".join(b"GET /%d HTTP/1.1\r\n\r\n" % i for i in range(3)))
            targets = []
            for _ in range(3):
                response, _ = await read_response(agent.reader, method="GET")
                targets.append(json.loads(response.body)["target"])
        assert targets == ["/0", "/1", "/2"] and len(recorder) == 3

    run(body())


def test_head_and_expect_continue_through_the_proxy() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url) as (proxy, _),
            client(proxy.port) as agent,
        ):
            head = await agent.send(b"HEAD /h HTTP/1.1\r\n\r\n", "HEAD")
            assert head.body == b"" and int(head.header("content-length") or 0) > 0
            agent.writer.write(
                b"POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
            )
            interim = await agent.reader.readuntil(b"\r\n\r\n")
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            response = await agent.send(b"ok", "POST")
            assert json.loads(response.body)["body"] == "ok"

    run(body())


@pytest.mark.parametrize(
    "raw",
    [
        b"GET http://evil.example/steal HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n",
    ],
)
def test_absolute_form_and_connect_are_refused_and_recorded(raw: bytes) -> None:
    async def body() -> None:
        async with (
            RawTarget(ok) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            response = await agent.send(raw)
            assert (await agent.get("/fine")).status == 200  # connection still usable
        assert response.status == 400
        assert "forwards only to" in json.loads(response.body)["error"]
        refused = recorder.exchanges()[0]
        assert refused.status == 400 and refused.error and "refused" in refused.error
        assert [r.target for r in target.requests] == ["/fine"]

    run(body())


def test_unreachable_target_answers_502_and_is_recorded() -> None:
    async def body() -> None:
        async with (
            proxied(f"http://127.0.0.1:{free_port()}/base") as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            response = await agent.get("/x")
            again = await agent.get("/y")
        assert response.status == again.status == 502
        assert json.loads(response.body) == {"error": "target refused the connection"}
        exchange = recorder.exchanges()[0]
        assert exchange.status == 502 and exchange.error == "target refused the connection"

    run(body())


def test_agent_giving_up_on_a_silent_target_is_recorded_without_status() -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def silent(request: Request, connection: int) -> bytes | None:
        arrived.set()
        await release.wait()
        return None

    async def body() -> None:
        async with RawTarget(silent) as target, proxied(target.url) as (proxy, recorder):
            async with client(proxy.port) as agent:
                agent.writer.write(b"POST /slow HTTP/1.1\r\nContent-Length: 1\r\n\r\nx")
                await asyncio.wait_for(arrived.wait(), 5)
            (exchange,) = await recorder.wait_for(lambda e: True, timeout=5)
            release.set()
        assert exchange.status is None and exchange.response_digest is None
        assert exchange.error == "the agent closed the connection before the target answered"

    run(body())


def test_closing_the_proxy_records_a_request_the_target_never_answered() -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def silent(request: Request, connection: int) -> bytes | None:
        arrived.set()
        await release.wait()
        return None

    async def body() -> None:
        async with (
            RawTarget(silent) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            agent.writer.write(b"GET /slow HTTP/1.1\r\n\r\n")
            await asyncio.wait_for(arrived.wait(), 5)
            await proxy.close()
            release.set()
        (exchange,) = recorder.exchanges()
        assert exchange.status is None and exchange.error in (
            "the proxy closed before the target answered",
            "the agent closed the connection before the target answered",
        )

    run(body())


def test_target_sending_garbage_or_too_much_answers_502() -> None:
    async def answer(request: Request, connection: int) -> bytes:
        if request.target == "/garbage":
            return b"NOT HTTP\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000

    async def body() -> None:
        async with (
            RawTarget(answer) as target,
            proxied(target.url, max_body=1000) as (proxy, rec),
            client(proxy.port) as agent,
        ):
            garbage = await agent.get("/garbage")
            huge = await agent.get("/huge")
        assert garbage.status == huge.status == 502
        assert "invalid response" in json.loads(garbage.body)["error"]
        assert "exceeds the 1000-byte limit" in json.loads(huge.body)["error"]
        assert [e.status for e in rec.exchanges()] == [502, 502]

    run(body())


def test_oversize_request_header_and_body_are_rejected_before_the_target() -> None:
    async def body() -> None:
        async with HttpServer(echo) as target, proxied(target.url, max_body=100) as (proxy, rec):
            async with client(proxy.port) as agent:
                big = await agent.send(b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n")
            async with client(proxy.port) as agent:
                long_head = await agent.get("/", "X-Big: " + "a" * 70_000)
        assert big.status == 413 and long_head.status == 431
        assert "exceeds the 100-byte limit" in json.loads(big.body)["error"]
        assert len(rec) == 0

    run(body())


def test_recording_fields_times_and_correlation_ids() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            await agent.get("/a", "X-Request-ID: req-42")
            await agent.get("/b", f"traceparent: 00-{TRACE_ID}-00f067aa0ba902b7-01")
            await agent.send(b"POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "POST")
        first, second, third = recorder.exchanges()
        assert (first.correlation_id, second.correlation_id, third.correlation_id) == (
            "req-42",
            TRACE_ID,
            None,
        )
        assert third.request_size == 3 and third.request_body == b"abc"
        assert third.request_digest == (
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        assert third.response_size == len(third.response_body) > 0
        assert all(e.upstream == "crm" and e.fault is None for e in (first, second, third))
        times = [t for e in (first, second, third) for t in (e.started_at, e.ended_at)]
        assert times == sorted(times)

    run(body())


def test_jsonl_sink_receives_every_exchange(tmp_path: Path) -> None:
    path = tmp_path / "record.jsonl"

    async def body() -> None:
        with Recorder(path) as recorder:
            async with (
                HttpServer(echo) as target,
                proxied(target.url, recorder) as (proxy, _),
                client(proxy.port) as agent,
            ):
                for i in range(5):
                    await agent.get(f"/{i}", f"X-Request-ID: r{i}")

    run(body())
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["seq"], r["path"], r["correlation_id"]) for r in lines] == [
        (i + 1, f"/{i}", f"r{i}") for i in range(5)
    ]
    assert all(r["status"] == 201 and r["upstream"] == "crm" for r in lines)


def test_concurrent_connections_are_all_recorded_with_unique_seqs() -> None:
    async def body() -> None:
        async with HttpServer(echo) as target, proxied(target.url) as (proxy, recorder):

            async def worker(number: int) -> None:
                async with client(proxy.port) as agent:
                    for i in range(200 // 16 + 1):
                        if i * 16 + number < 200:
                            rid = f"X-Request-ID: {i * 16 + number}"
                            assert (await agent.get("/c", rid)).status == 201

            await asyncio.gather(*(worker(n) for n in range(16)))
        exchanges = recorder.exchanges()
        assert sorted(e.seq for e in exchanges) == list(range(1, 201))
        assert sorted(int(e.correlation_id or -1) for e in exchanges) == list(range(200))

    run(body())


def test_runs_on_uvloop() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            for i in range(20):
                assert (await agent.get(f"/{i}")).status == 201
        assert len(recorder) == 20

    uvloop.run(asyncio.wait_for(body(), 30))


class AnswerItself:
    """Test step: a 503 without forwarding."""

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        ctx.fault = "server_error"
        return Response(503, [("Retry-After", "1")], b'{"error":"busy"}')


class Reset:
    """Test step: reset the agent's connection."""

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        ctx.fault = "reset"
        ctx.abort()


class RewriteBody:
    """Test step: forward, then truncate the body the agent receives."""

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        response = await forward(ctx.request)
        ctx.fault = "truncated_json"
        response.body = response.body[:5]
        return response


class NeverAnswer:
    """Test step: accept and never answer."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        ctx.fault = "timeout"
        self.entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class SlowRaw:
    """Test step: write the response itself, in two slices."""

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        response = await forward(ctx.request)
        ctx.fault = "slow_body"
        wire = ctx.wire(response)
        await ctx.send_raw(wire[:10])
        await asyncio.sleep(0)
        await ctx.send_raw(wire[10:])
        return response


def test_step_answering_itself_does_not_reach_the_target() -> None:
    async def body() -> None:
        async with (
            RawTarget(ok) as target,
            proxied(target.url, steps=[AnswerItself()]) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            response = await agent.get("/x")
            again = await agent.get("/y")  # keep-alive survives
        assert response.status == again.status == 503 and target.requests == []
        assert [(e.status, e.fault) for e in recorder.exchanges()] == [(503, "server_error")] * 2

    run(body())


def test_step_resetting_the_connection_is_recorded_without_status() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url, steps=[Reset()]) as (proxy, recorder),
        ):
            async with client(proxy.port) as agent:
                with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
                    await agent.get("/x")
            (exchange,) = await recorder.wait_for(lambda e: True, timeout=5)
        assert exchange.status is None and exchange.fault == "reset"
        assert exchange.response_digest is None and exchange.error == "connection reset by reset"

    run(body())


def test_step_rewriting_the_body_forwards_and_records_what_the_agent_got() -> None:
    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url, steps=[RewriteBody()]) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            response = await agent.get("/x")
        assert response.status == 201 and response.body == b'{"met'
        (exchange,) = recorder.exchanges()
        assert exchange.response_body == b'{"met' and exchange.fault == "truncated_json"

    run(body())


def test_steps_compose_and_raw_writes_close_the_connection() -> None:
    async def body() -> None:
        async with HttpServer(echo) as target:
            steps = [SlowRaw(), RewriteBody()]
            async with (
                proxied(target.url, steps=steps) as (proxy, recorder),
                client(proxy.port) as agent,
            ):
                response = await agent.get("/x")
                assert await agent.reader.read() == b""  # closed after a raw write
        assert response.body == b'{"met'
        assert recorder.exchanges()[0].fault == "slow_body"

    run(body())


def test_closing_the_proxy_records_a_request_that_never_got_an_answer() -> None:
    async def body() -> None:
        step = NeverAnswer()
        async with (
            HttpServer(echo) as target,
            proxied(target.url, steps=[step]) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            agent.writer.write(b"GET /hang HTTP/1.1\r\n\r\n")
            await asyncio.wait_for(step.entered.wait(), 5)
            await proxy.close()
            assert await agent.reader.read() == b""
        (exchange,) = recorder.exchanges()
        assert exchange.status is None and exchange.fault == "timeout"
        assert exchange.error == "no response before the connection closed"

    run(body())


def test_step_failure_is_a_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
            raise ValueError("bug in a step")

    async def body() -> None:
        async with (
            HttpServer(echo) as target,
            proxied(target.url, steps=[Broken()]) as (proxy, recorder),
            client(proxy.port) as agent,
        ):
            response = await agent.get("/x")
        assert response.status == 500
        assert recorder.exchanges()[0].error == "proxy step failed (ValueError: bug in a step)"

    run(body())
    assert "proxy step failed on GET /x" in caplog.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("http://api.example.com", ("http", "api.example.com", 80, "", "api.example.com")),
        (
            "https://api.example.com/v1/",
            ("https", "api.example.com", 443, "/v1", "api.example.com"),
        ),
        ("http://127.0.0.1:9101/base", ("http", "127.0.0.1", 9101, "/base", "127.0.0.1:9101")),
        ("http://[::1]:8080", ("http", "::1", 8080, "", "[::1]:8080")),
    ],
)
def test_parse_target(target: str, expected: tuple[object, ...]) -> None:
    parsed = parse_target(target)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.base_path, parsed.host_header) == (
        expected
    )


@pytest.mark.parametrize(
    "target",
    ["ftp://x", "api.example.com", "http://", "http://h:99999", "http://u:p@h/", "http://h/?q=1"],
)
def test_parse_target_rejects_with_what_was_expected(target: str) -> None:
    with pytest.raises(ValueError, match=r"invalid target .*expected an http:// or https:// URL"):
        parse_target(target)


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]:8080") == ("::1", 8080)
    for bad in ("8080", "host:", ":80", "h:http", "h:70000"):
        with pytest.raises(ValueError, match=r"expected HOST:PORT like 127.0.0.1:8080"):
            parse_listen(bad)


def test_run_proxy_serves_until_sigterm_and_flushes_the_record(tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from readiness.chaos.messages import Response
        from readiness.chaos.proxy import run_proxy
        from readiness.chaos.server import HttpServer
        import threading

        async def ok(request):
            return Response(200, [], b"ok")

        ready = threading.Event()
        def serve_target():
            async def main():
                async with HttpServer(ok) as server:
                    serve_target.url = server.url
                    ready.set()
                    await asyncio.Event().wait()
            asyncio.run(main())
        threading.Thread(target=serve_target, daemon=True).start()
        ready.wait(10)
        run_proxy(serve_target.url, record={str(record)!r}, name="crm",
                  ready=lambda url: print(url, flush=True))
        print("closed", flush=True)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /one HTTP/1.1\r\nX-Request-ID: r1\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK")
        child.terminate()
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert "closed" in out
    (line,) = record.read_text().splitlines()
    assert json.loads(line)["correlation_id"] == "r1"


def _exchange_fields() -> set[str]:
    """Exchange's public fields (used to keep the JSON shape honest)."""
    return set(Exchange.__dataclass_fields__)


class PassThrough:
    """Test step: forward unchanged (a proxy with steps frames in Python, not llhttp)."""

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        return await forward(ctx.request)


async def split_writes_target(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A target that answers in two writes (head, then body), like uvicorn, and varies."""
    try:
        while (incoming := await read_request(reader)) is not None:
            request = incoming.request
            body = json.dumps([request.method, request.target, request.headers]).encode()
            body += request.body
            if request.target.startswith("/chunked"):
                head = b"HTTP/1.1 200 OK\r\nserver: raw\r\nTransfer-Encoding: chunked\r\n\r\n"
                body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            else:
                head = (
                    b"HTTP/1.1 201 Created\r\nX-Spaced:  a b  \r\nKeep-Alive: timeout=5\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body)
                )
            writer.write(head)
            await writer.drain()
            await asyncio.sleep(0)  # yield: the head leaves before the body
            writer.write(body)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def test_llhttp_and_python_framing_forward_answer_and_record_the_same() -> None:
    requests = [
        b"GET /chunked?q=1 HTTP/1.1\r\nHost: proxy\r\nX-Request-ID: r-1\r\nAccept: */*\r\n\r\n",
        b"POST /p HTTP/1.1\r\nHost: proxy\r\nConnection: keep-alive\r\nX-Pad:  v  \r\n"
        b"traceparent: 00-" + TRACE_ID.encode() + b"-00f067aa0ba902b7-01\r\n"
        b"Content-Length: 3\r\n\r\nabc",
        b"PUT /empty HTTP/1.1\r\nHost: proxy\r\n\r\n",
        b"GET /chunked HTTP/1.1\r\n\r\n",
        b"GET  /double-space HTTP/1.1\r\n\r\n",
    ]

    async def through(url: str, steps: list[Any]) -> tuple[list[Any], list[Any], Recorder]:
        answers = []
        async with proxied(url, steps=steps) as (proxy, recorder):
            async with client(proxy.port) as agent:
                for raw in requests:
                    method = raw.split(b" ", 1)[0].decode()
                    response = await agent.send(raw, method)
                    answers.append((response.status, response.headers, response.body))
            rows = [(type(row[5]), type(row[6])) for row in recorder._rows]
        return answers, rows, recorder

    async def body() -> None:
        server = await asyncio.start_server(split_writes_target, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        wire_answers, wire_rows, wire = await through(url, [])
        python_answers, python_rows, python = await through(url, [PassThrough()])
        server.close()
        await server.wait_closed()
        assert wire_rows == [(bytes, bytes)] * 4  # llhttp framed them, both ways
        assert python_rows == [(tuple, tuple)] * 4
        assert wire_answers == python_answers  # the same bytes reached the target, and back
        assert wire_answers[4][0] == 400  # llhttp's leniency (two spaces) does not leak
        method, target, headers = json.loads(wire_answers[1][2][:-3])
        assert (method, target) == ("POST", "/p") and headers[0] == ["Host", f"127.0.0.1:{port}"]
        assert ["Connection", "keep-alive"] not in headers and ["X-Pad", "v"] in headers
        for ours, theirs in zip(wire.exchanges(), python.exchanges(), strict=True):
            mine = {**ours.to_json(), "started_at": 0, "ended_at": 0}
            assert mine == {**theirs.to_json(), "started_at": 0, "ended_at": 0}
        first, second = wire.exchanges()[:2]
        assert (first.correlation_id, second.correlation_id) == ("r-1", TRACE_ID)
        assert ("X-Pad", "v") in second.request_headers and second.request_body == b"abc"
        assert ("X-Spaced", "a b") in second.response_headers
        assert wire_answers[0][1][-1] == ("Content-Length", str(len(wire_answers[0][2])))

    run(body())
