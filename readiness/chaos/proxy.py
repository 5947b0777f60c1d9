"""The recording reverse proxy: one per upstream, forwarding only to its declared target."""

from __future__ import annotations

import asyncio
import gc
import signal
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from readiness.chaos._http import DEFAULT_MAX_BODY
from readiness.chaos._listening import Listening
from readiness.chaos._relay import Downstream, Relay
from readiness.chaos._upstream import UpstreamError
from readiness.chaos.recorder import Recorder
from readiness.chaos.steps import Step

__all__ = [
    "RecordingProxy",
    "Target",
    "UpstreamError",
    "parse_listen",
    "parse_target",
    "run_proxy",
    "tune_gc",
]


_CLOSE_GRACE_S = 5.0  # how long close() lets pending writes flush before resetting


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
        """Whether the target speaks HTTPS."""
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


class RecordingProxy(Listening):
    """Reverse proxy for one declared target that records every exchange.

    `target` is `http(s)://host[:port][/base]`; the base path is prefixed to every
    forwarded path and Host is rewritten to the target. Absolute-form request URIs
    and CONNECT are refused with 400 (and recorded, with `error` set), so an agent
    cannot use the proxy to reach anything else. Each agent connection gets its own
    target connection, opened on its first request, kept alive, and reopened when
    the target has dropped it. An unreachable target answers 502 (504 on connect
    timeout) with a JSON error, recorded with that status and `error` saying why.

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
        tls = ssl_context or ssl.create_default_context() if self.target.tls else None
        self._relay = Relay(
            name=name,
            host=self.target.host,
            port=self.target.port,
            host_header=self.target.host_header,
            base_path=self.target.base_path,
            ssl=tls,
            recorder=recorder,
            steps=tuple(steps),
            connect_timeout=connect_timeout,
            max_body=max_body,
            refusal=f"this proxy forwards only to {target}; "
            "absolute-form URIs and CONNECT are refused",
        )
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._bound_port: int | None = None

    async def start(self) -> None:
        """Bind and start accepting connections."""
        loop = asyncio.get_running_loop()
        relay = self._relay
        self._server = await loop.create_server(lambda: Downstream(relay), self._host, self._port)
        self._bound_port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, end every connection (both sides) and wait for them.

        Requests still in flight are recorded with `status=None` and an `error`.
        """
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        relay = self._relay
        relay.drained = asyncio.Event()
        for transport in list(relay.transports):
            transport.close()
        for task in list(relay.tasks):
            task.cancel()
        relay.closed_all()
        try:
            await asyncio.wait_for(relay.drained.wait(), _CLOSE_GRACE_S)
        except TimeoutError:
            # A peer that neither reads nor closes would hold close() forever: reset it.
            for transport in list(relay.transports):
                transport.abort()
            await relay.drained.wait()
        relay.drained = None
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


def run_proxy(
    target: str,
    listen: str = "127.0.0.1:0",
    record: Path | None = None,
    name: str = "upstream",
    ready: Callable[[str], None] | None = None,
    faults: Sequence[str] = (),
) -> None:
    """Run one recording proxy until SIGINT or SIGTERM (the `readiness proxy` command).

    Validates `target`, `listen` and the `faults` specs (see
    `readiness.chaos.fault_spec`) first (`ValueError` with a one-line message),
    runs on uvloop when installed, calls `ready(url)` once listening, and on a
    signal closes every connection and flushes the JSONL `record` file.
    """
    from readiness.chaos.fault_spec import parse_fault_spec
    from readiness.chaos.schedule import FaultSchedule

    parse_target(target)
    host, port = parse_listen(listen)
    rules = [parse_fault_spec(spec) for spec in faults]
    steps: list[Step] = []
    if rules:
        schedule = FaultSchedule()
        for rule in rules:
            schedule.add(rule)
        steps.append(schedule)
    tune_gc()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve_until_signal(target, host, port, record, name, ready, steps))


def tune_gc() -> None:
    """Tune the garbage collector for a process that does nothing but proxy.

    A proxied request allocates a few dozen short-lived objects, so the default
    young-generation threshold (700) runs a collection every ~20 requests; almost
    all of them are freed by reference counting anyway. Freezing the start-up heap
    also keeps full collections cheap. Worth ~15% throughput; process-wide, so only
    for dedicated processes (the CLI, the benchmark), never from library code.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(50_000, gen1, gen2)


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
    steps: Sequence[Step],
) -> None:
    """Serve until a stop signal arrives, then close the proxy and the record."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        # Nobody queries this recorder in memory: keep only a little (the file has all).
        with Recorder(record, max_kept=1000) as recorder:
            async with RecordingProxy(
                name, target, recorder, host=host, port=port, steps=steps
            ) as proxy:
                if ready is not None:
                    ready(proxy.url)
                await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
