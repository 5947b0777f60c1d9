"""Bring up every declared upstream behind its own recording proxy."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from readiness.chaos.messages import Handler
from readiness.chaos.proxy import RecordingProxy
from readiness.chaos.recorder import Recorder
from readiness.chaos.schedule import FaultSchedule
from readiness.chaos.server import HttpServer
from readiness.config import Config, ConfigError
from readiness.config.model import UpstreamConfig
from readiness.lifecycle import ManagedProcess, free_port

if TYPE_CHECKING:
    from readiness.chaos.cassette import CassetteReplay


class UpstreamSet:
    """Simulators, started upstream processes and one recording proxy per upstream."""

    def __init__(self, config: Config, out_dir: Path, recorder: Recorder,
                 base_env: dict[str, str]) -> None:
        self.config = config
        self.out_dir = out_dir
        self.recorder = recorder
        self.base_env = base_env
        self.env: dict[str, str] = {}
        self.proxies: dict[str, RecordingProxy] = {}
        # one schedule for every proxy: probes arm fault rules on it per trial
        self.schedule = FaultSchedule()
        self._stack = contextlib.AsyncExitStack()
        self.processes: list[ManagedProcess] = []
        self.cassettes: dict[str, CassetteReplay] = {}  # cassette: targets, by upstream

    async def start(self, *, in_process: bool = False) -> dict[str, str]:
        """Start everything; returns the environment variables to hand the agent.

        In-process agents get base URLs on the reserved `.invalid` domain, which
        respx intercepts (`InProcessInjector`); the others get a recording proxy each.
        """
        if in_process:
            return await self._start_in_process()
        for upstream in self.config.upstreams.values():
            target, suffix = await self._target(upstream)
            proxy = RecordingProxy(upstream.name, target, self.recorder, steps=[self.schedule])
            await self._stack.enter_async_context(proxy)
            self.proxies[upstream.name] = proxy
            self.env[upstream.env] = proxy.url + suffix
        return self.env

    async def _start_in_process(self) -> dict[str, str]:
        from readiness.chaos._inprocess_io import HttpTarget
        from readiness.chaos.inprocess import InProcessInjector, invalid_base_url
        from readiness.chaos.sim_openai import OpenAISimulator

        bases: dict[str, str] = {}
        handlers: dict[str, Handler] = {}
        for upstream in self.config.upstreams.values():
            if upstream.target == "sim:openai":
                handlers[upstream.name] = OpenAISimulator(seed=upstream.seed)
                bases[upstream.name] = invalid_base_url(upstream.name)
            elif upstream.target.startswith("cassette:"):
                handlers[upstream.name] = self._cassette(upstream)
                bases[upstream.name] = invalid_base_url(upstream.name, "")
            else:
                target, _ = await self._target(upstream)
                handlers[upstream.name] = HttpTarget(target)
                bases[upstream.name] = invalid_base_url(upstream.name, "")
            self.env[upstream.env] = bases[upstream.name]
        injector = InProcessInjector(self.schedule, self.recorder, bases, handlers)
        injector.start()
        self._stack.callback(injector.stop)
        return self.env

    async def _target(self, upstream: UpstreamConfig) -> tuple[str, str]:
        """Where the proxy forwards, and the path suffix the agent's base URL needs."""
        if upstream.target == "sim:openai":
            from readiness.chaos.sim_openai import OpenAISimulator

            server = HttpServer(OpenAISimulator(seed=upstream.seed))
            await self._stack.enter_async_context(server)
            return server.url, "/v1"
        if upstream.target.startswith("cassette:"):
            server = HttpServer(self._cassette(upstream))
            await self._stack.enter_async_context(server)
            return server.url, ""
        if upstream.start is None:
            return upstream.target, ""
        port = free_port()
        target = upstream.target.replace("{port}", str(port))
        process = ManagedProcess(
            f"upstream {upstream.name!r}", upstream.start, cwd=self.config.root,
            log_path=self.out_dir / f"upstream-{upstream.name}.log", env=self.base_env, port=port)
        self._stack.callback(process.stop)
        self.processes.append(process)
        process.start()
        await process.wait_healthy(target.rstrip("/") + (upstream.health or "/"),
                                   upstream.startup_timeout_s)
        return target, ""

    def _cassette(self, upstream: UpstreamConfig) -> CassetteReplay:
        """The replay handler of a `cassette:PATH` target; a bad file is a ConfigError."""
        from readiness.chaos.cassette import CassetteError, CassetteReplay, Scrubber

        path = self.config.root / upstream.target.removeprefix("cassette:")
        scrubber = Scrubber(upstream.scrub, pii=self.config.data.pii)
        try:
            replay = CassetteReplay.from_file(path, scrubber=scrubber)
        except CassetteError as exc:
            raise ConfigError(
                self.config.path, f"[upstreams.{upstream.name}] target",
                "a vcrpy cassette file (YAML, or JSON) with recorded interactions",
                f"{path}: {exc}",
                f"record one with `readiness record --config {self.config.path.name} --out "
                f'cassettes`, then write target = "cassette:cassettes/{upstream.name}.yaml"'
            ) from None
        self.cassettes[upstream.name] = replay
        return replay

    def cassette_notes(self) -> list[str]:
        """Plain-English notes on requests no cassette interaction matched."""
        notes = []
        for name, replay in self.cassettes.items():
            if replay.unmatched:
                missed = ", ".join(f"{route} ({count}x)" for route, count
                                   in replay.unmatched.most_common(3))
                notes.append(f"upstream {name!r}: {sum(replay.unmatched.values())} request(s) "
                             f"matched no interaction in {replay.source} and got 404: {missed}; "
                             "record the cassette again with `readiness record`")
        return notes

    async def close(self) -> None:
        await self._stack.aclose()
