"""In-process agents: import an ASGI app and run its lifespan, so httpx can drive it."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

ASGIApp = Any


class AppLoadError(Exception):
    """The configured agent.app could not be imported."""


def import_app(spec: str, root: Path) -> ASGIApp:
    """Import "package.module:attr" with the config's folder on sys.path."""
    module_name, _, attr = spec.partition(":")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AppLoadError(f"agent.app {spec!r}: importing {module_name!r} from {root} failed: "
                           f"{type(exc).__name__}: {exc}") from None
    app: Any = module
    for part in attr.split("."):
        if not hasattr(app, part):
            raise AppLoadError(f"agent.app {spec!r}: {module_name} has no attribute {attr!r}")
        app = getattr(app, part)
    if not callable(app):
        raise AppLoadError(f"agent.app {spec!r} is not an ASGI callable")
    return app


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp, timeout_s: float) -> AsyncIterator[None]:
    """Run the ASGI lifespan protocol around the block (httpx's ASGITransport does not)."""
    receive_queue: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    started: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def receive() -> MutableMapping[str, Any]:
        return await receive_queue.get()

    async def send(message: MutableMapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete" and not started.done():
            started.set_result(None)
        elif kind == "lifespan.startup.failed" and not started.done():
            started.set_result(str(message.get("message", "startup failed")))
        elif kind.startswith("lifespan.shutdown") and not stopped.done():
            stopped.set_result(None)

    async def main() -> None:
        try:
            await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                      receive, send)
        except Exception:
            pass  # apps without lifespan support raise here; that is allowed by the spec
        finally:
            if not started.done():
                started.set_result(None)
            if not stopped.done():
                stopped.set_result(None)

    task = asyncio.create_task(main())
    await receive_queue.put({"type": "lifespan.startup"})
    failure = await asyncio.wait_for(started, timeout_s)
    if failure:
        raise AppLoadError(f"the agent app's startup failed: {failure}")
    try:
        yield
    finally:
        await receive_queue.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopped, 10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
