"""The recording reverse proxy: one per upstream, forwarding only to its declared target."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from readiness.chaos._http import (
    DEFAULT_MAX_BODY,
    MAX_HEADER_BYTES,
    HttpProtocolError,
    IncomingRequest,
    PeerClosed,
    error_response,
    read_request,
    read_response,
    serialize_request,
    serialize_response,
)
from readiness.chaos.messages import Request, Response
from readiness.chaos.recorder import Recorder
from readiness.chaos.server import close_writer, set_nodelay
from readiness.chaos.steps import Step, StepAborted, StepContext, chain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """A parsed `http(s)://host[:port][/base]` target."""

    scheme: str
    host: str
    port: int
    base_path: str  # "" or "/base" without a trailing slash
    host_header: str

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def parse_target(target: str) -> Target:
    """Validate and split a target URL; `ValueError` with a one-line message if wrong."""
    expected = "expected an http:// or https:// URL like https://api.example.com[:PORT][/base]"
    try:
        parts = urlsplit(target)
        port = parts.port
    except ValueError:
        raise ValueError(f"invalid target {target!r}: {expected}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"invalid target {target!r}: {expected}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            f"invalid target {target!r}: {expected}, without credentials, query or fragment"
        )
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port in (None, default_port) else f"{shown}:{port}"
    return Target(parts.scheme, host, port or default_port, parts.path.rstrip("/"), host_header)


def parse_listen(listen: str) -> tuple[str, int]:
    """Split `HOST:PORT` (IPv6 as `[::1]:PORT`); `ValueError` with a one-line message."""
    host, sep, port_text = listen.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(
            f"invalid listen address {listen!r}: expected HOST:PORT like 127.0.0.1:8080 "
            "(port 0 picks a free port)"
        )
    return host, int(port_text)


class UpstreamError(Exception):
    """The target could not give a usable response; `status` is what the agent gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Upstream:
    """The one upstream connection serving one downstream connection, opened lazily."""

    __slots__ = ("_proxy", "reader", "reused", "writer")

    def __init__(self, proxy: RecordingProxy) -> None:
        self._proxy = proxy
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False

    async def send(self, request: Request) -> Response:
        """Forward one request and read its response, reopening a stale connection once."""
        proxy = self._proxy
        data = serialize_request(
            request, host=proxy.target.host_header, target=proxy.target.base_path + request.target
        )
        for attempt in (1, 2):
            if self.reader is None or self.writer is None or self.reader.at_eof():
                await self.close()
                self.reader, self.writer = await proxy.connect()
            reused, self.reused = self.reused, True
            self.writer.write(data)
            try:
                response, reusable = await read_response(
                    self.reader, method=request.method, max_body=proxy.max_body
                )
            except PeerClosed:
                await self.close()
                if reused and attempt == 1:
                    continue  # the target had dropped the idle connection: try a fresh one
                raise UpstreamError(502, "target closed the connection without answering") from None
            except HttpProtocolError as exc:
                await self.close()
                raise UpstreamError(502, f"target sent an invalid response: {exc}") from None
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                raise UpstreamError(
                    502, "target closed the connection in the middle of its response"
                ) from None
            if not reusable:
                await self.close()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close the upstream connection, if open."""
        writer, self.writer, self.reader, self.reused = self.writer, None, None, False
        if writer is not None:
            await close_writer(writer)


class RecordingProxy:
    """Reverse proxy for one declared target that records every exchange.

    `target` is `http(s)://host[:port][/base]`; the base path is prefixed to every
    forwarded path and Host is rewritten to the target. Absolute-form request URIs
    and CONNECT are refused with 400 (and recorded, with `error` set), so an agent
    cannot use the proxy to reach anything else. Each downstream connection gets its
    own upstream connection, opened on its first request and kept alive.
    An unreachable target answers 502 (504 on connect timeout) with a JSON error,
    recorded with that status and `error` saying why.

    `steps` wrap forwarding (see `readiness.chaos.steps`); with none, requests go
    straight to the target. `ssl_context` overrides certificate checks for https.
    """

    def __init__(
        self,
        name: str,
        target: str,
        recorder: Recorder,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        steps: Sequence[Step] = (),
        connect_timeout: float = 5.0,
        max_body: int = DEFAULT_MAX_BODY,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.target = parse_target(target)
        self.recorder = recorder
        self.steps = tuple(steps)
        self.connect_timeout = connect_timeout
        self.max_body = max_body
        self._host = host
        self._port = port
        self._ssl: ssl.SSLContext | None = None
        if self.target.tls:
            self._ssl = ssl_context or ssl.create_default_context()
        self._refusal = (
            f"this proxy forwards only to {target}; absolute-form URIs and CONNECT are refused"
        )
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0)."""
        if self._server is None:
            raise RuntimeError("RecordingProxy.port read before start()")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """`http://HOST:PORT`: the base URL to hand the agent."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_HEADER_BYTES
        )

    async def close(self) -> None:
        """Stop accepting, end every connection (both sides) and wait for them."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> RecordingProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Open a connection to the target, mapping failures to `UpstreamError`."""
        target = self.target
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    target.host,
                    target.port,
                    ssl=self._ssl,
                    server_hostname=target.host if self._ssl else None,
                    limit=MAX_HEADER_BYTES,
                )
        except TimeoutError:
            raise UpstreamError(
                504, f"target did not accept the connection within {self.connect_timeout} s"
            ) from None
        except ConnectionRefusedError:
            raise UpstreamError(502, "target refused the connection") from None
        except socket.gaierror as exc:
            raise UpstreamError(
                502, f"target host {target.host!r} did not resolve: {exc}"
            ) from None
        except ssl.SSLError as exc:
            raise UpstreamError(502, f"TLS handshake with the target failed: {exc}") from None
        except OSError as exc:
            raise UpstreamError(502, f"could not connect to the target: {exc}") from None
        set_nodelay(writer)
        return reader, writer

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Proxy one downstream connection until either side closes it."""
        task = asyncio.current_task()
        assert task is not None  # start_server always runs callbacks in a task
        self._connections.add(task)
        set_nodelay(writer)
        upstream = _Upstream(self)
        try:
            await self._exchange_loop(reader, writer, upstream)
        except asyncio.CancelledError:
            # close() cancels connection tasks; Python 3.11's start_server callback
            # logs a spurious error for a task that ends cancelled, so end quietly.
            pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the agent went away mid-exchange
        finally:
            self._connections.discard(task)
            await upstream.close()
            await close_writer(writer)

    async def _exchange_loop(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: _Upstream
    ) -> None:
        """The keep-alive loop: read, forward (through steps), answer, record."""
        max_body, steps, record = self.max_body, self.steps, self.recorder.record
        while True:
            try:
                incoming = await read_request(reader, max_body=max_body, writer=writer)
            except HttpProtocolError as exc:
                writer.write(serialize_response(error_response(exc.status, str(exc)), close=True))
                await writer.drain()
                return
            if incoming is None:
                return
            request = incoming.request
            fault: str | None = None
            sent_raw = False
            close = not incoming.keep_alive
            if request.target[:1] != "/":
                error: str | None = self._refusal
                response = error_response(400, self._refusal)
            elif steps:
                outcome = await self._through_steps(request, incoming, writer, upstream)
                if outcome is None:
                    return
                response, fault, error, sent_raw = outcome
            else:
                try:
                    response, error = await upstream.send(request), None
                except UpstreamError as exc:
                    error = str(exc)
                    response = error_response(exc.status, error)
            if sent_raw:
                close = True  # the step wrote the wire itself: framing may be broken
            else:
                writer.write(
                    serialize_response(
                        response,
                        close=close,
                        http10=incoming.http10,
                        head_request=request.method == "HEAD",
                    )
                )
                await writer.drain()
            record(
                upstream=self.name,
                method=request.method,
                path=request.target,
                status=response.status,
                request_headers=request.headers,
                response_headers=response.headers,
                request_body=request.body,
                response_body=response.body,
                started_at=incoming.received_at,
                ended_at=time.time(),
                fault=fault,
                error=error,
            )
            if close:
                return

    async def _through_steps(
        self,
        request: Request,
        incoming: IncomingRequest,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
    ) -> tuple[Response, str | None, str | None, bool] | None:
        """Run the step chain; None when the exchange ended without a response (recorded)."""
        ctx = StepContext(self.name, request, writer)

        async def forward(forwarded: Request) -> Response:
            try:
                return await upstream.send(forwarded)
            except UpstreamError as exc:
                ctx.error = str(exc)
                return error_response(exc.status, ctx.error)

        try:
            response = await chain(self.steps, ctx, forward)(request)
        except StepAborted:
            self._record_no_response(request, incoming, ctx, ctx.error or "connection reset")
            return None
        except asyncio.CancelledError:
            self._record_no_response(
                request, incoming, ctx, ctx.error or "no response before the proxy closed"
            )
            raise
        except Exception as exc:
            logger.exception("proxy step failed on %s %s", request.method, request.target)
            ctx.error = f"proxy step failed ({type(exc).__name__}: {exc})"
            response = error_response(500, ctx.error)
        return response, ctx.fault, ctx.error, ctx.sent_raw

    def _record_no_response(
        self, request: Request, incoming: IncomingRequest, ctx: StepContext, error: str
    ) -> None:
        """Record an exchange that ended without the agent getting a response."""
        self.recorder.record(
            upstream=self.name,
            method=request.method,
            path=request.target,
            status=None,
            request_headers=request.headers,
            response_headers=[],
            request_body=request.body,
            response_body=None,
            started_at=incoming.received_at,
            ended_at=time.time(),
            fault=ctx.fault,
            error=error,
        )


def run_proxy(
    target: str,
    listen: str = "127.0.0.1:0",
    record: Path | None = None,
    name: str = "upstream",
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run one recording proxy until SIGINT or SIGTERM (the `readiness proxy` command).

    Validates `target` and `listen` first (`ValueError` with a one-line message),
    runs on uvloop when installed, calls `ready(url)` once listening, and on a
    signal closes every connection and flushes the JSONL `record` file.
    """
    parse_target(target)
    host, port = parse_listen(listen)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve_until_signal(target, host, port, record, name, ready))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed: the proxy's throughput depends on it."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve_until_signal(
    target: str,
    host: str,
    port: int,
    record: Path | None,
    name: str,
    ready: Callable[[str], None] | None,
) -> None:
    """Serve until a stop signal arrives, then close the proxy and the record."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        with Recorder(record) as recorder:
            async with RecordingProxy(name, target, recorder, host=host, port=port) as proxy:
                if ready is not None:
                    ready(proxy.url)
                await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
