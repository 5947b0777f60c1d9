"""A small HTTP/1.1 server for one async handler: simulators, sinks and test targets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from types import TracebackType

from readiness.chaos._http import (
    DEFAULT_MAX_BODY,
    MAX_HEADER_BYTES,
    HttpProtocolError,
    read_request,
)
from readiness.chaos._listening import Listening
from readiness.chaos._serialize import error_response, serialize_response
from readiness.chaos.messages import Handler, Response

logger = logging.getLogger(__name__)


class HttpServer(Listening):
    """Serve an async `Handler` (Request -> Response) over HTTP/1.1 with keep-alive.

    ```python
    async with HttpServer(handler) as server:   # port 0: a free port
        ...  # point a client at server.url
    ```

    A handler that raises answers 500 with `{"error": "..."}` naming only the
    exception type (no traceback on the wire); the traceback goes to the log.
    Malformed or oversized requests get a 4xx JSON error and the connection closes.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._max_body = max_body
        self._server: asyncio.Server | None = None
        self._bound_port: int | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_HEADER_BYTES
        )
        self._bound_port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, close every open connection and wait for them to finish."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer requests on one connection until either side closes it."""
        task = asyncio.current_task()
        assert task is not None  # start_server always runs callbacks in a task
        self._connections.add(task)
        set_nodelay(writer)
        # CancelledError: close() cancels connection tasks, and Python 3.11's start_server
        # callback logs a spurious error for a task that ends cancelled, so end quietly.
        # ConnectionError, IncompleteReadError: the client went away, nothing to answer.
        try:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError,
                                     asyncio.IncompleteReadError):
                await self._exchange_loop(reader, writer)
        finally:
            self._connections.discard(task)
            await close_writer(writer)

    async def _exchange_loop(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Read, handle, write; the keep-alive loop of one connection."""
        handler = self._handler
        while True:
            try:
                incoming = await read_request(reader, max_body=self._max_body, writer=writer)
            except HttpProtocolError as exc:
                writer.write(serialize_response(error_response(exc.status, str(exc)), close=True))
                await writer.drain()
                return
            if incoming is None:
                return
            request = incoming.request
            try:
                response = await handler(request)
            except Exception as exc:
                logger.exception("handler failed on %s %s", request.method, request.target)
                response = error_response(500, f"internal error ({type(exc).__name__})")
            close = not incoming.keep_alive or _asks_close(response)
            writer.write(
                serialize_response(
                    response,
                    close=close,
                    http10=incoming.http10,
                    head_request=request.method == "HEAD",
                )
            )
            await writer.drain()
            if close:
                return


def _asks_close(response: Response) -> bool:
    """Whether the handler asked to close the connection after this response."""
    value = response.header("connection")
    return value is not None and "close" in value.lower()


async def close_writer(writer: asyncio.StreamWriter) -> None:
    """Close a stream and wait for the transport, so no socket outlives its owner."""
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


def set_nodelay(writer: asyncio.StreamWriter) -> None:
    """Disable Nagle: request/response traffic must not wait for a delayed ACK."""
    sock = writer.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
