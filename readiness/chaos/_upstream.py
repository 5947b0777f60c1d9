"""The proxy's side towards the target: one kept-alive connection per agent connection."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from readiness.chaos._framing import ResponseFramer
from readiness.chaos._http import HttpProtocolError
from readiness.chaos._serialize import serialize_request
from readiness.chaos._wire import WireResponse, WireResponseFramer
from readiness.chaos.messages import Request, Response

if TYPE_CHECKING:
    from readiness.chaos._relay import Relay

logger = logging.getLogger("readiness.chaos.proxy")
_ABANDONED = "the request to the target was abandoned: the agent or the proxy closed first"


class UpstreamError(Exception):
    """The target could not give a usable response; `status` is what the agent gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Done = Callable[[Response | WireResponse | None, UpstreamError | None], None]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class UpstreamConnection(asyncio.Protocol):
    """One TCP (or TLS) connection to the target, carrying one request at a time."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.relay = relay = upstream.relay
        self.framer = (WireResponseFramer if relay.wire else ResponseFramer)(relay.max_body)
        self.transport: asyncio.Transport | None = None
        self.usable = False
        self.done: Done | None = None
        self.method = "GET"
        self.data = b""
        self.reused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.usable = True
        self.relay.opened(self.transport)

    def start(self, data: bytes, method: str, done: Done, *, reused: bool) -> None:
        """Send one serialized request; `done` gets the response or the error."""
        assert self.transport is not None
        self.done, self.method, self.data, self.reused = done, method, data, reused
        framer = self.framer
        if type(framer) is WireResponseFramer:
            framer.head_request = method == "HEAD"
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self.done is None:  # bytes nobody asked for: the connection cannot be trusted
            self._retire()
            return
        framer = self.framer
        try:
            framer.feed(data)
            wire = framer.next_wire() if type(framer) is WireResponseFramer else None
            result = None if wire is not None else framer.next_response(self.method)
        except HttpProtocolError as exc:
            self._retire()
            self._finish(None, UpstreamError(502, f"target sent an invalid response: {exc}"))
            return
        except Exception:  # a framing bug must not kill the event loop's callback
            logger.exception("proxy could not frame a response")
            self._retire()
            self._finish(
                None, UpstreamError(502, "target sent a response the proxy could not read")
            )
            return
        if wire is not None:
            self._finish(wire, None)  # llhttp framed it: reusable, nothing left over
        elif result is not None:
            response, reusable = result
            if not reusable or framer.buffer:
                self._retire()
            self._finish(response, None)

    def eof_received(self) -> bool:
        if self.done is not None:
            response = self.framer.at_eof()
            if response is not None:  # a body delimited by the close
                self.usable = False
                self._finish(response, None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        if self.transport is not None:
            self.relay.closed(self.transport)
        if self.done is None:
            return
        if self.upstream.closed or self.relay.closing:  # the agent left, or the proxy closes
            self._finish(None, UpstreamError(502, _ABANDONED))
        elif not self.framer.started and self.reused:
            # The target had dropped the idle keep-alive connection before reading
            # this request: it never saw it, so sending it on a fresh one is safe.
            done, self.done = self.done, None
            self.upstream.open_then_send(self.data, self.method, done)
        elif not self.framer.started:
            self._finish(None, UpstreamError(502, "target closed the connection without answering"))
        else:
            message = "target closed the connection in the middle of its response"
            self._finish(None, UpstreamError(502, message))

    def _retire(self) -> None:
        """Close this connection; the next request opens a new one."""
        self.usable = False
        if self.transport is not None:
            self.transport.close()

    def _finish(
        self, response: Response | WireResponse | None, error: UpstreamError | None
    ) -> None:
        """Hand the outcome over; last, because `done` may start the next request here."""
        done, self.done = self.done, None
        if done is not None:
            done(response, error)


class Upstream:
    """The one target connection behind one agent connection, opened lazily, kept alive."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.connection: UpstreamConnection | None = None
        self.opening: asyncio.Task[None] | None = None
        self.closed = False

    def send(self, request: Request, done: Done, kept: bytes | None = None) -> None:
        """Forward `request` to the target; `done(response, error)` is called once.

        With `kept` (the end-to-end header lines of a request framed by `_wire`),
        they are forwarded as they are, after the rewritten request line and Host.
        """
        relay = self.relay
        if kept is None:
            data = serialize_request(
                request, host=relay.host_header, target=relay.base_path + request.target
            )
        else:
            body = request.body
            length = b""
            if body or request.method in _BODY_METHODS:
                length = b"Content-Length: %d\r\n" % len(body)
            data = b"%s %s%s HTTP/1.1\r\n%s%s%s\r\n%s" % (
                request.method.encode(),
                relay.wire_base,
                request.target.encode("latin-1"),
                relay.wire_host,
                kept,
                length,
                body,
            )
        connection = self.connection
        if connection is not None and connection.usable:
            connection.start(data, request.method, done, reused=True)
        else:
            self.open_then_send(data, request.method, done)

    def open_then_send(self, data: bytes, method: str, done: Done) -> None:
        """Open a fresh connection (in a task: connecting is a coroutine), then send."""
        self.connection = None
        self.opening = self.relay.spawn(self._open_then_send(data, method, done))

    async def _open_then_send(self, data: bytes, method: str, done: Done) -> None:
        try:
            connection = await self._connect()
        except UpstreamError as exc:
            done(None, exc)
            return
        except asyncio.CancelledError:
            done(None, UpstreamError(502, _ABANDONED))  # so the exchange is still recorded
            raise
        finally:
            self.opening = None
        if self.closed:
            connection._retire()
            done(None, UpstreamError(502, _ABANDONED))
            return
        self.connection = connection
        connection.start(data, method, done, reused=False)

    async def _connect(self) -> UpstreamConnection:
        """Open a connection to the target, mapping failures to `UpstreamError`."""
        relay, loop = self.relay, asyncio.get_running_loop()
        try:
            async with asyncio.timeout(relay.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: UpstreamConnection(self),
                    relay.host,
                    relay.port,
                    ssl=relay.ssl,
                    server_hostname=relay.host if relay.ssl else None,
                )
        except TimeoutError:
            message = f"target did not accept the connection within {relay.connect_timeout} s"
            raise UpstreamError(504, message) from None
        except ConnectionRefusedError:
            raise UpstreamError(502, "target refused the connection") from None
        except socket.gaierror as exc:
            raise UpstreamError(502, f"target host {relay.host!r} did not resolve: {exc}") from None
        except ssl.SSLError as exc:
            raise UpstreamError(502, f"TLS handshake with the target failed: {exc}") from None
        except OSError as exc:
            raise UpstreamError(502, f"could not connect to the target: {exc}") from None
        return connection

    def close(self) -> None:
        """Close the target connection (or stop opening one)."""
        self.closed = True
        if self.opening is not None:
            self.opening.cancel()
        if self.connection is not None:
            self.connection._retire()
