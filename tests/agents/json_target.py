"""A JSON upstream for fault tests that counts what reached it, and a bounded runner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Mapping
from typing import Any

from readiness.chaos.messages import Request, Response


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run an async test body with an overall deadline."""
    asyncio.run(asyncio.wait_for(coro, 30))


class Target:
    """A JSON target answering `payload` that records the requests reaching it."""

    payload: Mapping[str, Any] = {"id": 7, "name": "Ada Lovelace", "tags": ["vip"]}

    def __init__(self, payload: Mapping[str, Any] | None = None) -> None:
        self.requests: list[Request] = []
        if payload is not None:
            self.payload = payload

    async def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(200, [("Content-Type", "application/json")],
                        json.dumps(self.payload).encode())
