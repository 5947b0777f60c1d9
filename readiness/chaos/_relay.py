"""The proxy's agent side as an asyncio Protocol, and the settings its connections share.

Callbacks instead of streams: with no steps configured a request costs no
future, no task and no coroutine switch, only parsing (llhttp, see `_wire`), two
writes and a record. Steps, which are coroutines by design, run in a task per
request, on messages framed in Python (they get and return full `Request` and
`Response` objects).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

from readiness.chaos._framing import RequestFramer
from readiness.chaos._http import HttpProtocolError, IncomingRequest
from readiness.chaos._serialize import error_response, serialize_response
from readiness.chaos._upstream import Upstream, UpstreamError
from readiness.chaos._wire import Fields, WireRequestFramer, WireResponse
from readiness.chaos.messages import Headers, Request, Response
from readiness.chaos.recorder import Recorder
from readiness.chaos.steps import Step, StepAborted, StepContext, chain

logger = logging.getLogger("readiness.chaos.proxy")


@dataclass(eq=False)
class Relay:
    """What every connection of one proxy shares: settings, recorder, live sockets."""

    name: str
    host: str
    port: int
    host_header: str
    base_path: str
    ssl: ssl.SSLContext | None
    recorder: Recorder
    steps: tuple[Step, ...]
    connect_timeout: float
    max_body: int
    refusal: str
    transports: set[asyncio.Transport] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    drained: asyncio.Event | None = None  # set once closing and nothing is left open
    wire: bool = field(init=False)  # frame with llhttp (`_wire`): only without steps
    wire_base: bytes = field(init=False)
    wire_host: bytes = field(init=False)  # the rewritten Host line

    def __post_init__(self) -> None:
        try:
            self.wire_base = self.base_path.encode("latin-1")
            self.wire_host = f"Host: {self.host_header}\r\n".encode("latin-1")
            self.wire = not self.steps
        except UnicodeEncodeError:  # serialize_request's UTF-8 fallback handles these
            self.wire_base, self.wire_host, self.wire = b"", b"", False

    @property
    def closing(self) -> bool:
        """Whether the proxy's close() has begun."""
        return self.drained is not None

    def opened(self, transport: asyncio.Transport) -> None:
        """Track a socket so close() can wait for it."""
        self.transports.add(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Request/response traffic must not wait for a delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def closed(self, transport: asyncio.Transport) -> None:
        """Untrack a socket; wakes close() when it was the last thing open."""
        self.transports.discard(transport)
        self._check_drained()

    def closed_all(self) -> None:
        """Check whether everything is closed already (called once by close())."""
        self._check_drained()

    def _check_drained(self, _task: object = None) -> None:
        """Set `drained` when closing and no socket or step task remains."""
        if self.drained is not None and not self.transports and not self.tasks:
            self.drained.set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a step chain in a tracked task."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(self._check_drained)
        return task


class Downstream(asyncio.Protocol):
    """One agent connection: frame requests, forward (through steps), answer, record."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.framer = (WireRequestFramer if relay.wire else RequestFramer)(relay.max_body)
        self.upstream = Upstream(relay)
        self.incoming: IncomingRequest | None = None  # forwarded, not yet answered (no steps)
        self.answer = self._target_answered  # bound once, not per request
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a request is in flight: later bytes wait in the framer
        self.ending = False  # we closed (or aborted) the connection
        self.lost = False
        self.write_paused = False
        self.read_paused = False
        self.drain_waiters: list[asyncio.Future[None]] = []
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.relay.opened(self.transport)

    def data_received(self, data: bytes) -> None:
        self.framer.feed(data)
        if not (self.busy or self.write_paused):
            self._next()
        elif self.framer.pending > _PAUSE_READING_ABOVE and self.transport is not None:
            self.read_paused = True  # pipelined bytes pile up: stop reading until idle
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        # Like nginx, take a FIN from the agent as the agent giving up (a timeout),
        # not as a half-close awaiting the answer: close, and record the abandonment.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = self.ending = True
        self.upstream.close()
        if self.task is not None:
            self.task.cancel()
        self._wake_drain()
        if self.transport is not None:
            self.relay.closed(self.transport)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_drain()
        if not self.busy:
            self._next()

    async def drain(self) -> None:
        """Wait until the agent has read enough of what we wrote (for steps)."""
        while self.write_paused and not self.lost:
            waiter = asyncio.get_running_loop().create_future()
            self.drain_waiters.append(waiter)
            await waiter

    def _wake_drain(self) -> None:
        """Release coroutines waiting in drain()."""
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _next(self) -> None:
        """Start the next complete request in the buffer, if any (handles pipelining)."""
        relay, transport = self.relay, self.transport
        assert transport is not None
        while not (self.busy or self.ending or self.write_paused):
            try:
                incoming = self.framer.next_request()
            except HttpProtocolError as exc:
                self._refuse(exc.status, str(exc))
                return
            except Exception:  # a framing bug must not kill the event loop's callback
                logger.exception("proxy could not frame a request")
                self._refuse(400, "malformed request")
                return
            if incoming is None:
                if self.framer.continue_due:  # the client waits for this before its body
                    self.framer.continue_due = False
                    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                if self.read_paused:
                    self.read_paused = False
                    transport.resume_reading()
                return
            request = incoming.request
            if request.target[:1] != "/":
                self._answer(incoming, error_response(400, relay.refusal), None, relay.refusal)
                continue
            self.busy = True
            if relay.steps:
                self.task = relay.spawn(self._through_steps(incoming))
            else:
                self.incoming = incoming
                kept = None if incoming.fields is None else incoming.kept
                self.upstream.send(request, self.answer, kept)

    def _target_answered(
        self, response: Response | WireResponse | None, error: UpstreamError | None
    ) -> None:
        """The no-steps continuation: answer the request in flight once the target has."""
        incoming = self.incoming
        assert incoming is not None
        self.incoming = None
        self.busy = False
        if response is None and (self.lost or self.relay.closing):
            message = (
                "the agent closed the connection before the target answered"
                if self.lost
                else "the proxy closed before the target answered"
            )
            self._record_unanswered(incoming, None, message)
        elif error is not None or response is None:
            message = str(error)
            status = error.status if error is not None else 502
            self._answer(incoming, error_response(status, message), None, message)
        else:
            self._answer(incoming, response, None, None)
        self._next()

    def _answer(
        self,
        incoming: IncomingRequest,
        response: Response | WireResponse,
        fault: str | None,
        error: str | None,
        sent_raw: bool = False,
    ) -> None:
        """Write the response (unless a step did), record the exchange, maybe close."""
        request = incoming.request
        close = not incoming.keep_alive or sent_raw
        if self.lost:
            error = error or "the agent closed the connection before the response"
        elif sent_raw or self.transport is None:
            pass
        elif isinstance(response, WireResponse):  # its fields are ready: add the framing
            connection = _CLOSE if close else _KEEP_ALIVE if incoming.http10 else b""
            body = response.body
            status, reason, kept = response.status, response.reason, response.kept
            data = _WIRE_RESPONSE % (status, reason, kept, len(body), connection, body)
            self.transport.write(data)
        else:
            self.transport.write(
                serialize_response(
                    response,
                    close=close,
                    http10=incoming.http10,
                    head_request=request.method == "HEAD",
                )
            )
        if isinstance(response, WireResponse):
            response_headers: Headers | Fields = response.fields
        else:
            response_headers = response.headers
        self.relay.recorder.record(
            upstream=self.relay.name,
            method=request.method,
            path=request.target,
            status=response.status,
            request_headers=request.headers if incoming.fields is None else incoming.fields,
            response_headers=response_headers,
            request_body=request.body,
            response_body=response.body,
            started_at=incoming.received_at,
            ended_at=time.time(),
            fault=fault,
            error=error,
        )
        if close:
            self._end()

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request we cannot read, then close: the framing is lost."""
        assert self.transport is not None
        self.transport.write(serialize_response(error_response(status, message), close=True))
        self._end()

    def _end(self) -> None:
        """Close our side after pending writes are flushed."""
        self.ending = True
        if self.transport is not None:
            self.transport.close()

    async def _through_steps(self, incoming: IncomingRequest) -> None:
        """Run the step chain for one request, then answer and move on."""
        relay = self.relay
        assert self.transport is not None
        ctx = StepContext(relay.name, incoming.request, self.transport, self.drain)
        upstream = self.upstream

        async def forward(request: Request) -> Response:
            future: asyncio.Future[tuple[Response | WireResponse | None, UpstreamError | None]]
            future = asyncio.get_running_loop().create_future()

            def done(response: Response | WireResponse | None, error: UpstreamError | None) -> None:
                if not future.done():
                    future.set_result((response, error))

            upstream.send(request, done)
            response, error = await future
            if error is not None or response is None:
                ctx.error = str(error)
                return error_response(error.status if error else 502, ctx.error)
            assert isinstance(response, Response)  # `_wire` is off when there are steps
            return response

        try:
            response = await chain(relay.steps, ctx, forward)(incoming.request)
        except StepAborted:
            self.ending = True
            reason = ctx.error or f"connection reset by {ctx.fault or 'a proxy step'}"
            self._record_unanswered(incoming, ctx.fault, reason)
            return
        except asyncio.CancelledError:
            reason = ctx.error or "no response before the connection closed"
            self._record_unanswered(incoming, ctx.fault, reason)
            raise
        except Exception as exc:
            logger.exception(
                "proxy step failed on %s %s", incoming.request.method, incoming.request.target
            )
            ctx.error = f"proxy step failed ({type(exc).__name__}: {exc})"
            response = error_response(500, ctx.error)
        finally:
            self.task = None
        self.busy = False
        self._answer(incoming, response, ctx.fault, ctx.error, ctx.sent_raw)
        self._next()

    def _record_unanswered(self, incoming: IncomingRequest, fault: str | None, error: str) -> None:
        """Record an exchange that ended without the agent getting a response."""
        request = incoming.request
        self.relay.recorder.record(
            upstream=self.relay.name,
            method=request.method,
            path=request.target,
            status=None,
            request_headers=request.headers if incoming.fields is None else incoming.fields,
            response_headers=[],
            request_body=request.body,
            response_body=None,
            started_at=incoming.received_at,
            ended_at=time.time(),
            fault=fault,
            error=error,
        )


_PAUSE_READING_ABOVE = 256 * 1024
_CLOSE = b"Connection: close\r\n"
_KEEP_ALIVE = b"Connection: keep-alive\r\n"
_WIRE_RESPONSE = b"HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\n%s\r\n%s"
