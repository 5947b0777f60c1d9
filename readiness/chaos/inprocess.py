"""The fault catalogue in-process: respx routes in front of an ASGI agent's httpx calls.

For an agent driven in-process (`httpx.ASGITransport`), the harness gives it base
URLs on the reserved `.invalid` domain (`http://llm.readiness.invalid/v1`), which no
resolver answers, so no request can leave the machine by mistake. While started,
`InProcessInjector` intercepts every httpx request to those hosts (sync or async
clients), asks the same `FaultSchedule` as the proxies, and then

- forwards to the upstream's target handler (`Request -> Response`, e.g. an
  `OpenAISimulator`, or `HttpTarget(url)` for a real service) and hands the agent
  the real or damaged answer, or
- raises the genuine httpx exception the transport fault would cause on a socket:
  `ReadTimeout` (timeout, or latency past the client's read timeout: after that
  timeout elapses), `ConnectError` (refused), `RemoteProtocolError` (reset),
  with slow and huge bodies streamed piece by piece;

and records each exchange in the `Recorder` with the same fields, paths and error
texts as the recording proxy, so probes cannot tell which injector ran. Requests
to other hosts pass through untouched.

Limits: only `httpx` is patched (respx patches httpcore). `uncovered_clients()` names
the HTTP clients the agent imported that bypass it, notably `httpx2`, which the
openai SDK 3.x uses.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import respx

from readiness.chaos import _inprocess_io as io
from readiness.chaos._inprocess_io import NO_RESPONSE, Capture, HttpTarget, run_blocking
from readiness.chaos.faults import Delay, Fault, Hang, HugeBody, Refuse, Reset, Slow, outcome
from readiness.chaos.messages import Handler, Response
from readiness.chaos.recorder import Recorder
from readiness.chaos.schedule import FaultSchedule

__all__ = ["HttpTarget", "InProcessInjector", "invalid_base_url", "uncovered_clients"]

_sync_path = threading.local()


def invalid_base_url(upstream: str, path: str = "/v1") -> str:
    """`http://{upstream}.readiness.invalid{path}`: a base URL that cannot leave the machine."""
    return f"http://{upstream}.readiness.invalid{path}"


def _origin(name: str, base_url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an upstream's base URL; `ValueError` if it is not one."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"invalid base URL {base_url!r} for upstream {name}: expected http://HOST[/path], "
            f"e.g. {invalid_base_url(name)}"
        )
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


_active: InProcessInjector | None = None
_active_lock = threading.Lock()


class _Router(respx.MockRouter):
    """respx's router, telling side effects whether the client is sync (no loop to await on)."""

    def resolve(self, request: httpx.Request) -> Any:
        _sync_path.active = True
        try:
            return super().resolve(request)
        finally:
            _sync_path.active = False


class InProcessInjector:
    """Inject the schedule's faults into in-process httpx calls and record them.

    `upstreams` maps each upstream's name to the base URL the agent is given (see
    `invalid_base_url`), `targets` its name to the handler that really answers.
    Use `start()`/`stop()` or `with`. Requests are routed by origin (scheme, host,
    port); their path, as the agent sent it, is recorded and handed to the target.
    """

    def __init__(
        self,
        schedule: FaultSchedule,
        recorder: Recorder,
        upstreams: Mapping[str, str],
        targets: Mapping[str, Handler],
    ) -> None:
        missing = sorted(set(upstreams) - set(targets))
        if missing:
            raise ValueError(
                f"no target handler for upstream(s) {', '.join(missing)}: "
                "pass one in targets for every upstream"
            )
        self.schedule = schedule
        self.recorder = recorder
        self.upstreams = dict(upstreams)
        self._origins = {name: _origin(name, url) for name, url in self.upstreams.items()}
        self._targets = dict(targets)
        self._router: _Router | None = None

    def start(self) -> None:
        """Patch httpx: from now on requests to the upstreams' hosts are intercepted.

        Only one injector can be active at a time: respx routers are tried in turn
        and ours passes every other host through, so a second one would never be asked.
        """
        global _active
        if self._router is not None:
            return
        with _active_lock:
            if _active is not None:
                raise RuntimeError(
                    "another InProcessInjector is active: stop it first (one per process; "
                    "give it every upstream)"
                )
            _active = self
        router = _Router(assert_all_called=False, assert_all_mocked=False)
        for name, (scheme, host, port) in self._origins.items():
            route = router.route(scheme=scheme, host=host, port=port)
            route.side_effect = self._side_effect(name)
        router.route().pass_through()  # everything else is none of our business
        router.start()
        self._router = router

    def stop(self) -> None:
        """Undo the patch."""
        global _active
        router, self._router = self._router, None
        if router is not None:
            router.stop(quiet=True)
            with _active_lock:
                _active = None

    def __enter__(self) -> InProcessInjector:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> InProcessInjector:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _side_effect(self, name: str) -> Any:
        """The respx side effect of one upstream: a coroutine for async clients."""

        def side_effect(request: httpx.Request) -> Any:
            if getattr(_sync_path, "active", False):
                return run_blocking(self._exchange(name, request))
            return self._exchange(name, request)

        return side_effect

    async def _exchange(self, name: str, raw: httpx.Request) -> httpx.Response:
        """One intercepted request: pick, forward, damage or fail, record."""
        started = time.time()
        request = io.to_request(raw)
        read_timeout = (raw.extensions.get("timeout") or {}).get("read")
        await self.schedule.pass_holds(name, request.method, request.target)
        hit = self.schedule.hit(name, request.method, request.target, request.headers)
        exchange = Capture(self.recorder, name, request, started, self._targets[name])
        fault = None if hit is None else hit.fault
        try:
            if hit is None or fault is None:
                return exchange.deliver(await exchange.forward(), None)
            genuine = await exchange.forward() if fault.forwards else None
            result = outcome(fault, request, genuine, rng=hit.rng)
            if isinstance(result, Response):
                return exchange.deliver(result, None if result is genuine else fault.name)
            return await self._transport(exchange, fault, result, raw, read_timeout)
        except httpx.TransportError as exc:
            exchange.unanswered(None if fault is None else fault.name, _reason(fault, exc))
            raise
        except asyncio.CancelledError:
            exchange.unanswered(None if fault is None else fault.name, NO_RESPONSE)
            raise

    async def _transport(
        self,
        exchange: Capture,
        fault: Fault,
        result: object,
        raw: httpx.Request,
        read_timeout: float | None,
    ) -> httpx.Response:
        """Carry out a transport action the way a socket would show it to httpx."""
        if isinstance(result, Delay | Hang):
            seconds = result.seconds if isinstance(result, Delay) else None
            if read_timeout is not None and (seconds is None or seconds > read_timeout):
                await asyncio.sleep(read_timeout)
                raise httpx.ReadTimeout("timed out waiting for the response", request=raw)
            if seconds is None:
                await asyncio.get_running_loop().create_future()  # until the agent cancels
            await asyncio.sleep(seconds or 0)
            return exchange.deliver(await exchange.forward(), fault.name)
        if isinstance(result, Refuse):
            raise httpx.ConnectError(io.REFUSED, request=raw)
        if isinstance(result, Reset) and result.partial is None:
            raise httpx.RemoteProtocolError(io.DISCONNECTED, request=raw)
        if isinstance(result, Reset):
            partial = result.partial
            assert partial is not None  # a reset before any byte was raised above
            total = len(partial.body)

            def cut(sent: int) -> httpx.TransportError:
                return httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    f"(received {sent} bytes, expected {total})",
                    request=raw,
                )

            pieces = [(0.0, partial.body[: result.body_bytes])]
            stream = io.FaultStream(
                pieces, read_timeout=read_timeout, error=cut, finish=exchange.on_reset(fault.name)
            )
            return io.streamed(partial, total, stream)
        if isinstance(result, Slow):
            body = result.response.body
            slices = [
                (result.interval, body[i : i + result.chunk])
                for i in range(0, len(body), result.chunk)
            ]
            stream = io.FaultStream(
                slices,
                read_timeout=read_timeout,
                error=None,
                finish=exchange.on_body(result.response, fault.name),
            )
            return io.streamed(result.response, len(body), stream)
        assert isinstance(result, HugeBody)
        head = result.head()
        stream = io.FaultStream(
            ((0.0, chunk) for chunk in result.chunks()),
            read_timeout=read_timeout,
            error=None,
            finish=exchange.on_body(head, fault.name),
        )
        return io.streamed(head, result.size, stream)


def _reason(fault: Fault | None, exc: httpx.TransportError) -> str:
    """The recorded error, in the proxy's words for the same fault."""
    if isinstance(exc, httpx.TimeoutException) or fault is None:
        return NO_RESPONSE
    return f"connection reset by {fault.name}"


_UNCOVERED = {
    "httpx2": "httpx2 (used by openai>=3)",
    "aiohttp": "aiohttp",
    "requests": "requests",
    "urllib3": "urllib3",
    "pycurl": "pycurl",
}


def uncovered_clients(modules: Mapping[str, object] | None = None) -> list[str]:
    """Plain-English notes on imported HTTP clients the in-process injector cannot see.

    `modules` defaults to `sys.modules`. urllib3 is only named when requests (which
    uses it) is not, to say each thing once.
    """
    loaded = sys.modules if modules is None else modules
    notes = []
    for module, label in _UNCOVERED.items():
        if module not in loaded or (module == "urllib3" and "requests" in loaded):
            continue
        notes.append(
            f"the agent imports {label}, which respx does not intercept; faults cannot be "
            "injected in-process for its calls: run the agent as a process (agent.start) "
            "so the recording proxy sees them"
        )
    return notes
