"""httpx <-> messages conversions and the streamed bodies of the in-process injector."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from typing import Any

import httpx

from readiness.chaos._http import HOP_BY_HOP
from readiness.chaos._serialize import error_response
from readiness.chaos.messages import Handler, Request, Response
from readiness.chaos.proxy import parse_target
from readiness.chaos.recorder import Recorder

logger = logging.getLogger("readiness.chaos.inprocess")
NO_RESPONSE = "no response before the connection closed"  # the proxy's words, on purpose

# Raised by httpx itself when a server closes early: the in-process faults raise the same.
DISCONNECTED = "Server disconnected without sending a response."
REFUSED = "[Errno 111] Connection refused"

Finish = Callable[[int, BaseException | None], None]
"""Called once when a streamed body ends: bytes delivered, and the error (if any)."""


def to_request(request: httpx.Request) -> Request:
    """The request as the proxy would have read it off the wire."""
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
    ]
    return Request(request.method, request.url.raw_path.decode("ascii"), headers, request.content)


def as_received(response: Response) -> Response:
    """A target's answer with the Content-Length an HTTP server would have added.

    Through the proxy the recorded headers of a forwarded answer carry it; adding it
    here keeps in-process records identical.
    """
    names = {name.lower() for name, _ in response.headers}
    if "content-length" in names or "transfer-encoding" in names:
        return response
    headers = [*response.headers, ("Content-Length", str(len(response.body)))]
    return Response(response.status, headers, response.body, response.reason)


def _headers(response: Response) -> list[tuple[str, str]]:
    """Headers httpx may carry over: per-hop ones are the transport's business."""
    return [(name, value) for name, value in response.headers if name.lower() not in HOP_BY_HOP]


def _extensions(response: Response) -> dict[str, object]:
    reason = response.reason or httpx.codes.get_reason_phrase(response.status)
    return {"http_version": b"HTTP/1.1", "reason_phrase": reason.encode("latin-1")}


def to_httpx(response: Response) -> httpx.Response:
    """A complete response for httpx."""
    return httpx.Response(
        response.status,
        headers=_headers(response),
        content=response.body,
        extensions=_extensions(response),
    )


def streamed(response: Response, length: int, stream: FaultStream) -> httpx.Response:
    """A response whose body comes from `stream`, announced as `length` bytes."""
    headers = [*_headers(response), ("Content-Length", str(length))]
    return httpx.Response(
        response.status, headers=headers, stream=stream, extensions=_extensions(response)
    )


class FaultStream(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A body delivered as (pause, bytes) pieces, optionally ending in an error.

    Works for sync and async clients. A pause longer than the client's read timeout
    raises `httpx.ReadTimeout` after that timeout, as a socket read would. `finish`
    is called exactly once: at the end, on the error, or when the client closes early.
    """

    def __init__(
        self,
        pieces: Iterable[tuple[float, bytes]],
        *,
        read_timeout: float | None,
        error: Callable[[int], httpx.TransportError] | None,
        finish: Finish,
    ) -> None:
        self._pieces = pieces
        self._read_timeout = read_timeout
        self._error = error
        self._finish = finish
        self._sent = 0
        self._done = False

    def _end(self, error: BaseException | None) -> None:
        if not self._done:
            self._done = True
            self._finish(self._sent, error)

    def _pause(self, seconds: float) -> tuple[float, httpx.ReadTimeout | None]:
        """How long to wait, and the timeout to raise after it (if the read times out)."""
        limit = self._read_timeout
        if limit is not None and seconds > limit:
            return limit, httpx.ReadTimeout("timed out while reading the response body")
        return seconds, None

    def _check_end(self) -> None:
        if self._error is not None:
            error = self._error(self._sent)
            self._end(error)
            raise error
        self._end(None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for pause, data in self._pieces:
                if pause:
                    wait, timeout = self._pause(pause)
                    await asyncio.sleep(wait)
                    if timeout is not None:
                        raise timeout
                self._sent += len(data)
                yield data
        except BaseException as exc:  # cancelled, timed out: the record still gets written
            self._end(exc)
            raise
        self._check_end()

    def __iter__(self) -> Iterator[bytes]:
        try:
            for pause, data in self._pieces:
                if pause:
                    wait, timeout = self._pause(pause)
                    time.sleep(wait)  # a sync client blocks its thread: so does its read
                    if timeout is not None:
                        raise timeout
                self._sent += len(data)
                yield data
        except BaseException as exc:
            self._end(exc)
            raise
        self._check_end()

    async def aclose(self) -> None:
        self._end(None)

    def close(self) -> None:
        self._end(None)


class HttpTarget:
    """A target handler forwarding to a real URL (the proxy's base-path rules apply)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self._target = parse_target(url)
        self._base = f"{self._target.scheme}://{self._target.host_header}{self._target.base_path}"
        self._timeout = timeout

    async def __call__(self, request: Request) -> Response:
        headers = [
            (k, v) for k, v in request.headers if k.lower() not in ("host", "content-length")
        ]
        # A client per call: handlers may run on the agent's loop or a private one.
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            try:
                answer = await client.request(
                    request.method,
                    self._base + request.target,
                    headers=headers,
                    content=request.body,
                )
            except httpx.ConnectError:
                return error_response(502, "target refused the connection")
            except httpx.TimeoutException:
                return error_response(504, "target did not answer in time")
            except httpx.HTTPError as exc:
                return error_response(502, f"target failed ({type(exc).__name__}: {exc})")
        # httpx already decoded the body: its encoding and length no longer apply.
        kept = [
            (k, v)
            for k, v in answer.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length")
        ]
        return Response(answer.status_code, kept, answer.content, answer.reason_phrase)


class Capture:
    """One in-process exchange on its way to the recorder (what the proxy records)."""

    def __init__(
        self, recorder: Recorder, upstream: str, request: Request, started: float, target: Handler
    ) -> None:
        self.recorder, self.upstream, self.request = recorder, upstream, request
        self.started, self.target = started, target
        self.error: str | None = None

    async def forward(self) -> Response:
        """The target's answer; a failing handler is a 502, as an unreachable target is."""
        try:
            return as_received(await self.target(self.request))
        except Exception as exc:
            logger.exception("in-process target %s failed", self.upstream)
            self.error = f"target failed ({type(exc).__name__}: {exc})"
            return error_response(502, self.error)

    def deliver(self, response: Response, fault: str | None) -> httpx.Response:
        """Record a complete response and hand it to httpx."""
        self.record(response.status, response, response.body, fault, self.error)
        return to_httpx(response)

    def unanswered(self, fault: str | None, error: str) -> None:
        """Record an exchange that ended without a response."""
        self.record(None, None, None, fault, self.error or error)

    def on_body(self, response: Response, fault: str) -> Finish:
        """Record a streamed body once it ends (or the agent gives up on it)."""

        def finish(sent: int, error: BaseException | None) -> None:
            if error is None and sent >= len(response.body):
                self.record(response.status, response, response.body, fault, self.error)
            else:
                self.unanswered(fault, NO_RESPONSE)

        return finish

    def on_reset(self, fault: str) -> Finish:
        """Record a reset mid-body, whenever the agent gets to it."""
        return lambda sent, error: self.unanswered(fault, f"connection reset by {fault}")

    def record(
        self,
        status: int | None,
        response: Response | None,
        body: bytes | None,
        fault: str | None,
        error: str | None,
    ) -> None:
        request = self.request
        self.recorder.record(
            upstream=self.upstream,
            method=request.method,
            path=request.target,
            status=status,
            request_headers=request.headers,
            response_headers=[] if response is None else response.headers,
            request_body=request.body,
            response_body=body,
            started_at=self.started,
            ended_at=time.time(),
            fault=fault,
            error=error,
        )


def run_blocking(coroutine: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
    """Run the exchange for a sync client: on a private loop (in a thread if this one
    already runs a loop, as when an async app calls a sync client)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}  # the thread's result or exception

    def run() -> None:
        try:
            box["response"] = asyncio.run(coroutine)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="readiness-inprocess-sync")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    response: httpx.Response = box["response"]
    return response
