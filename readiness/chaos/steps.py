"""The plug-in point for faults: a step wraps the proxy's forwarding of one request.

A step is any async callable `step(ctx, forward) -> Response`. Steps compose like
middleware: the first configured step is outermost, and `forward` calls the next
step or, for the last one, the target. A step may

- answer by itself without forwarding (`return Response(429, ...)`),
- wait, then forward (`await asyncio.sleep(d); return await forward(ctx.request)`),
- forward, then change what the agent receives (a malformed body),
- reset the agent's connection (`ctx.abort()`), before or after forwarding,
- never answer (await something that never completes; when the agent gives up
  or the proxy closes, the step is cancelled and the exchange is recorded with
  `status=None`),
- write raw bytes itself (`await ctx.send_raw(...)`, e.g. a body in slow slices),
  returning the Response it sent, for the record.

Each step that injects something sets `ctx.fault` to the fault's name so the
recorded Exchange says which fault hit. Steps run in a task per request; a
proxy without steps never creates one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn, Protocol

from readiness.chaos._serialize import serialize_response
from readiness.chaos.messages import Request, Response

Forward = Callable[[Request], Awaitable[Response]]


class StepAborted(Exception):
    """Raised by `StepContext.abort()`: the agent's connection was reset on purpose."""


class StepContext:
    """What a step knows about the exchange in flight, and what it may do to it.

    Attributes: `upstream` (the proxy's name), `request` (the request as the agent
    sent it; forward a modified copy rather than mutating it), `fault` (set it to the
    injected fault's name), `error` (why the target could not be reached, set by
    the proxy's forward), `sent_raw` (True once the step wrote bytes itself).
    """

    __slots__ = ("_drain", "_transport", "error", "fault", "request", "sent_raw", "upstream")

    def __init__(
        self,
        upstream: str,
        request: Request,
        transport: asyncio.WriteTransport,
        drain: Callable[[], Awaitable[None]],
    ) -> None:
        self.upstream = upstream
        self.request = request
        self.fault: str | None = None
        self.error: str | None = None
        self.sent_raw = False
        self._transport = transport
        self._drain = drain

    def abort(self) -> NoReturn:
        """Reset the agent's connection now (TCP RST where the OS allows) and stop.

        Raises `StepAborted`, which the proxy turns into an Exchange with no status.
        """
        self._transport.abort()
        raise StepAborted(self.fault or "connection reset by a proxy step")

    async def send_raw(self, data: bytes) -> None:
        """Write bytes straight to the agent; the proxy will not write the response.

        The connection is closed after the exchange, since the proxy cannot know
        whether the step's bytes left the framing intact.
        """
        self.sent_raw = True
        self._transport.write(data)
        await self._drain()

    @staticmethod
    def wire(response: Response) -> bytes:
        """The bytes the proxy would send for `response` (for steps that slice it)."""
        return serialize_response(response, close=True)


class Step(Protocol):
    """One link of the proxy's forwarding chain (a fault, later a schedule of them)."""

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        """Return the response the agent should receive for `ctx.request`."""
        ...


def chain(steps: Sequence[Step], ctx: StepContext, forward: Forward) -> Forward:
    """Compose steps around `forward`, the first step outermost."""
    for step in reversed(steps):
        forward = _bind(step, ctx, forward)
    return forward


def _bind(step: Step, ctx: StepContext, forward: Forward) -> Forward:
    """Close over one step so the chain is a plain `Request -> Response` callable."""

    async def call(request: Request) -> Response:
        ctx.request = request
        return await step(ctx, forward)

    return call
