"""Run the readiness suite: bring up upstreams and the agent, observe, judge, score, report."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from readiness.alert_sink import AlertSink
from readiness.asgi import AppLoadError, import_app, lifespan
from readiness.chaos.inprocess import uncovered_clients
from readiness.chaos.recorder import Recorder
from readiness.client import AgentClient
from readiness.config import Config
from readiness.context import RunContext
from readiness.items import BY_KEY, ITEMS
from readiness.lifecycle import ManagedProcess, StartError, free_port
from readiness.registry import Registry, load_probes
from readiness.results import Finding, Interrupted, Outcome, ProbeResult
from readiness.scorecard import build, component_changes, read_previous
from readiness.scoring import ItemResult, evaluate_gate, score_item
from readiness.waivers import WaiverBook, waiver_book


@dataclass(frozen=True)
class RunResult:
    """A finished (or interrupted) run: the scorecard data and the exit code it implies."""

    card: dict[str, Any]
    exit_code: int

    @property
    def ready(self) -> bool:
        return bool(self.card["verdict"] == "ready")


async def run_async(config: Config, out_dir: Path, *, only: Collection[str] | None = None,
                    probe_ids: Collection[str] | None = None,
                    today: dt.date | None = None) -> RunResult:
    """Run the selected items (all nine by default) and return the scorecard.

    Never raises for agent misbehaviour: a dead or hostile agent turns the probes
    it affects into `error`. Cancellation (Ctrl-C) stops early and returns what
    ran, marked incomplete. `today` decides which waivers are in force (and what
    date probes see); a broken waiver file raises ConfigError before anything starts.
    """
    registry = load_probes()
    waivers = waiver_book(config.gate.waivers, {p.id for p in registry.probes()}, today)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous_path = out_dir / "scorecard.json"
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    recorder = Recorder(out_dir / "upstream-traffic.jsonl")
    notes: list[str] = []
    incomplete = False
    results: dict[str, ItemResult] = {}
    selected = [item.key for item in ITEMS if only is None or item.key in only]
    ctx: RunContext | None = None

    async with contextlib.AsyncExitStack() as stack:
        stack.callback(recorder.close)
        try:
            ctx = await _bring_up(config, out_dir, recorder, stack, notes)
            ctx.previous = read_previous(previous_path)
            ctx.previous_path = previous_path if ctx.previous else None
            if today is not None:
                ctx.today = today
            for key in selected:
                try:
                    results[key] = await _run_item(registry, key, ctx, probe_ids, config,
                                                   waivers)
                except _ItemInterrupted as stop:  # keep what the item saw, then stop
                    results[key] = stop.result
                    raise asyncio.CancelledError from None
        except asyncio.CancelledError:
            _uncancel()
            incomplete = True
            notes.append("interrupted before every item ran; this scorecard shows what had run")
        except (StartError, AppLoadError) as exc:
            incomplete = True
            notes.append(f"the run could not start: {exc}")
        agent_version, components = await _agent_identity(ctx) if ctx else (None, {})

    items = [results.get(item.key) or score_item(
        item, (), config.gate.min_score,
        _not_run_reason(item.key, selected, incomplete, bool(registry.probes(item.key))))
        for item in ITEMS]
    gate = evaluate_gate(items, config.gate.required, config.gate.min_score)
    card = build(
        agent_name=config.agent.name, agent_version=agent_version, components=components,
        started=started, finished=dt.datetime.now(dt.UTC), items=items, gate=gate,
        incomplete=incomplete, notes=notes + (ctx.notes if ctx else []),
        run={"config": str(config.path), "only": sorted(only) if only is not None else None,
             "duration_s": round(time.monotonic() - clock, 2)},
        changes=component_changes(ctx.previous if ctx else None,
                                  ctx.previous_path if ctx else None, components),
        data_handling=data_handling(config, recorder), waivers=waivers.report())
    return RunResult(card, 0 if card["verdict"] == "ready" else 1)


def data_handling(config: Config, recorder: Recorder) -> dict[str, Any]:
    """The declarations and the upstream traffic seen: the security reviewer's page."""
    import dataclasses

    calls: dict[str, int] = {}
    writes: dict[str, int] = {}
    for exchange in recorder.exchanges():
        calls[exchange.upstream] = calls.get(exchange.upstream, 0) + 1
        up = config.upstreams.get(exchange.upstream)
        if up is not None and up.kind == "tool" and exchange.method not in ("GET", "HEAD",
                                                                             "OPTIONS"):
            writes[exchange.upstream] = writes.get(exchange.upstream, 0) + 1
    return {
        "provider": dataclasses.asdict(config.provider), "data": dataclasses.asdict(config.data),
        "compliance": dataclasses.asdict(config.compliance),
        "upstreams": [{"name": name, "kind": up.kind, "target": up.target,
                       "calls": calls.get(name, 0), "writes": writes.get(name, 0),
                       "allowed_writes": list(up.writes)}
                      for name, up in config.upstreams.items()],
    }


def _uncancel() -> None:
    """Swallow the cancellation so the run can still stop processes and write its report."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _not_run_reason(key: str, selected: Sequence[str], incomplete: bool, built: bool) -> str:
    if not built:
        return "not assessed: no probes for this item are built yet"
    if key not in selected:
        return ("not assessed: left out of this run (--only, -k, or `readiness load`, "
                "which runs item 7 alone)")
    if incomplete:
        return "not assessed: the run ended before this item"
    return "not assessed: no probe of this item was selected"


class _ItemInterrupted(Exception):
    """Ctrl-C during an item whose observer kept partial observations: its judged result."""

    def __init__(self, result: ItemResult) -> None:
        super().__init__("interrupted")
        self.result = result


async def _run_item(registry: Registry, key: str, ctx: RunContext,
                    probe_ids: Collection[str] | None, config: Config,
                    waivers: WaiverBook) -> ItemResult:
    probes = [p for p in registry.probes(key) if probe_ids is None or p.id in probe_ids]
    item = BY_KEY[key]
    if not probes:
        reason = "not assessed: " + ("no probe of this item was selected" if registry.probes(key)
                                     else "no probes for this item are built yet")
        return score_item(item, (), config.gate.min_score, reason)
    observe = registry.observer_for(key)
    try:
        if observe is None:
            raise RuntimeError(f"item {key!r} has probes but no observer is registered")
        observations = await observe(ctx)
    except Interrupted as stop:
        partial = [p.evaluate(stop.observations) for p in probes]
        raise _ItemInterrupted(score_item(item, partial, config.gate.min_score)) from None
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # an observer bug or a vanished file: the item errors, run goes on
        message = f"gathering observations failed: {type(exc).__name__}: {exc}"
        found: list[ProbeResult] = [p.result(Finding(Outcome.ERROR, message)) for p in probes]
        return score_item(item, found, config.gate.min_score)
    found = [p.evaluate(observations) for p in probes]
    return score_item(item, found, config.gate.min_score, waived=waivers.waive(key, found))


async def _bring_up(config: Config, out_dir: Path, recorder: Recorder,
                    stack: contextlib.AsyncExitStack, notes: list[str]) -> RunContext:
    """Upstreams behind proxies, then the agent; an agent that will not start is noted."""
    from readiness.upstreams import UpstreamSet

    env = dict(os.environ)
    upstreams = UpstreamSet(config, out_dir, recorder, env)
    stack.push_async_callback(upstreams.close)
    stack.callback(lambda: notes.extend(upstreams.cassette_notes()))  # at the end of the run
    env.update(await upstreams.start(in_process=bool(config.agent.app)))
    sink = AlertSink()
    await stack.enter_async_context(sink)
    env.update(sink.env(config.alerts.env))
    env.update(config.agent.env)
    tokens = {"invoke": config.auth.invoke_token, "operator": config.auth.operator_token}
    agent = config.agent
    log_path: Path | None = None
    imported: dict[str, object] = {}
    try:
        if agent.app:
            transport, imported = await _in_process(config, env, stack)
            client = AgentClient("http://agent.local", tokens=tokens, deadline_s=agent.deadline_s,
                                 transport=transport)
        else:
            port = free_port()
            url = (agent.url or "").replace("{port}", str(port))
            client = AgentClient(url, tokens=tokens, deadline_s=agent.deadline_s)
            if agent.start:
                log_path = out_dir / "agent.log"
                process = ManagedProcess("the agent", agent.start, cwd=config.root,
                                         log_path=log_path, env=env, port=port)
                stack.callback(process.stop)
                process.start()
                await process.wait_healthy(url.rstrip("/") + agent.health,
                                           agent.startup_timeout_s)
            else:
                await _wait_reachable(url.rstrip("/") + agent.health, agent.startup_timeout_s)
    except (StartError, AppLoadError) as exc:
        notes.append(f"the agent did not start: {exc}")
        client = AgentClient("http://127.0.0.1:9", tokens=tokens, deadline_s=agent.deadline_s)
        client.down_reason = str(exc).splitlines()[0]
    stack.push_async_callback(client.aclose)
    uncovered = uncovered_clients(imported) if imported else []
    notes.extend(uncovered)
    return RunContext(
        config=config, out_dir=out_dir, client=client, recorder=recorder,
        upstream_env=upstreams.env, agent_log=log_path,
        faults=None if uncovered else upstreams.schedule, alerts=sink,
        faults_unavailable="; ".join(uncovered) or None)


async def _in_process(config: Config, env: dict[str, str],
                      stack: contextlib.AsyncExitStack
                      ) -> tuple[httpx.AsyncBaseTransport, dict[str, object]]:
    """Import agent.app with the upstream variables set, and run its lifespan."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    stack.callback(restore)
    before = set(sys.modules)
    app = import_app(config.agent.app or "", config.root)
    # only what the agent's import brought in: the harness's own imports are not the agent's
    imported: dict[str, object] = {n: sys.modules[n] for n in set(sys.modules) - before}
    await stack.enter_async_context(lifespan(app, config.agent.startup_timeout_s))
    return httpx.ASGITransport(app=app), imported


async def _wait_reachable(url: str, timeout_s: float) -> None:
    """For an agent the harness did not start: wait for its health endpoint."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while True:
            try:
                if (await client.get(url)).is_success:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise StartError(f"the agent at {url} was not healthy within {timeout_s:g}s; "
                                 "is it running? (set agent.start to let the harness start it)")
            await asyncio.sleep(0.2)


async def _agent_identity(ctx: RunContext) -> tuple[str | None, dict[str, str]]:
    """The agent's reported version and components, for the scorecard header."""
    from readiness.probes.versioning import fetch_version

    try:
        info = await ctx.once("version", lambda: fetch_version(ctx))
    except Exception:
        return None, {}
    return info.version, dict(info.components)


def run(config: Config, out_dir: Path, *, only: Collection[str] | None = None,
        probe_ids: Collection[str] | None = None, today: dt.date | None = None) -> RunResult:
    """Synchronous wrapper: runs on uvloop when available."""
    loop_factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(run_async(config, out_dir, only=only, probe_ids=probe_ids,
                                    today=today))
