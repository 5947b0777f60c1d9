"""Hold upstream requests at the proxy until released: in-flight work on demand.

A probe that must act *while* the agent is waiting on an upstream (flip the kill
switch mid-invocation) holds the requests of one route, waits until the agent's
requests have arrived, acts, then releases them; no timing guesswork:

```python
with schedule.holding(upstream="llm", route="POST /v1/chat/*") as hold:
    tasks = [start_invocation() for _ in range(4)]
    await hold.arrived(4, timeout=30)     # four invocations are now in flight
    await flip_the_switch()
    hold.release()                        # their upstream requests go on
```

Held requests are then forwarded unchanged (or faulted, if a rule fires). A hold
belongs to the event loop that created it, which is the loop of the proxies and
the in-process injector.
"""

from __future__ import annotations

import asyncio

from readiness.chaos.schedule import RouteMatcher, parse_route

__all__ = ["Hold"]


class Hold:
    """Requests matching `upstream` and `route` wait until `release()`."""

    def __init__(self, upstream: str | None = None, route: str | None = None) -> None:
        self.upstream = upstream
        self.route = route
        self._matcher: RouteMatcher | None = parse_route(route) if route else None
        self._released = asyncio.Event()
        self._arrival = asyncio.Event()
        self.held = 0
        """How many requests have reached the hold (released ones included)."""

    def matches(self, upstream: str, method: str, path: str) -> bool:
        if self.upstream is not None and upstream != self.upstream:
            return False
        return self._matcher is None or self._matcher(method, path)

    async def wait(self) -> None:
        """Called by the proxy for a matching request: count it, then wait for release."""
        self.held += 1
        self._arrival.set()
        await self._released.wait()

    async def arrived(self, count: int, timeout: float) -> int:
        """Wait until `count` requests are held; raises TimeoutError naming how many came."""
        try:
            async with asyncio.timeout(timeout):
                while self.held < count:
                    self._arrival.clear()
                    await self._arrival.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{self.held} of {count} expected upstream requests arrived within {timeout:g} s"
            ) from None
        return self.held

    def release(self) -> None:
        """Let every held request (and any later one) through."""
        self._released.set()

    @property
    def released(self) -> bool:
        return self._released.is_set()
