"""`readiness record`: drive the agent as a run does, save each upstream's traffic as a cassette."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from readiness.chaos._http import DEFAULT_MAX_BODY
from readiness.chaos.cassette import Scrubber, recordable, write_cassette
from readiness.chaos.proxy import parse_target
from readiness.chaos.recorder import Recorder
from readiness.config import Config, ReadinessUsageError
from readiness.config.model import UpstreamConfig


class RecordingFailed(Exception):
    """Nothing could be recorded: the agent (or an upstream it needs) did not start."""


@dataclass(frozen=True)
class RecordedUpstream:
    """One upstream's cassette: where, how many interactions, what was scrubbed."""

    name: str
    path: Path | None  # None: the agent sent this upstream nothing recordable
    interactions: int
    skipped: int  # exchanges left out: faulted, unanswered, or the harness's own errors
    scrubbed: Mapping[str, int]


@dataclass(frozen=True)
class Recording:
    upstreams: tuple[RecordedUpstream, ...]
    invocations: int
    failures: tuple[str, ...]  # invocations that were not answered 2xx, and why
    notes: tuple[str, ...] = ()  # e.g. HTTP clients the in-process injector cannot see


def select_upstreams(config: Config, names: Collection[str] | None) -> list[UpstreamConfig]:
    """The upstreams to record: those named, else every one not already a cassette."""
    declared = config.upstreams
    if names:
        unknown = [name for name in names if name not in declared]
        if unknown:
            raise ReadinessUsageError(
                f"--upstream {', '.join(unknown)}: not declared in {config.path}; declared "
                f"upstreams are: {', '.join(declared) or 'none'}")
        replayed = [name for name in names if declared[name].target.startswith("cassette:")]
        if replayed:
            raise ReadinessUsageError(
                f"--upstream {', '.join(replayed)}: its target is already a cassette; set "
                "target to the real URL (or sim:openai) to record it")
        return [declared[name] for name in names]
    chosen = [up for up in declared.values() if not up.target.startswith("cassette:")]
    if not chosen:
        raise ReadinessUsageError(
            f"{config.path} declares no upstream to record (none, or only cassette: targets); "
            "add an [upstreams.NAME] table with the real target URL")
    return chosen


def cassette_origin(upstream: UpstreamConfig) -> str:
    """The base the cassette's URIs start with: the real target, else a reserved host."""
    target = upstream.target
    if target.startswith(("http://", "https://")) and "{port}" not in target:
        parsed = parse_target(target)
        return f"{parsed.scheme}://{parsed.host_header}{parsed.base_path}"
    base = urlsplit(target).path.rstrip("/") if target.startswith("http") else ""
    # a simulator or a harness-started upstream: its port changes per run, so name it
    return f"http://{upstream.name}.readiness.invalid{base}"


def personal_values(record: Mapping[str, Any], config: Config) -> Iterator[str]:
    """The values of an input record's personal fields: e-mail, phone, name, [data] pii/redact."""
    providers = config.scenario.fields
    declared = {name.lower() for name in (*config.data.pii, *config.data.redact)}
    for key, value in record.items():
        if not isinstance(value, str):
            continue
        kind = f"{key} {providers.get(key, '')}".lower()
        if key.lower() in declared or "email" in kind or "phone" in kind or (
                "name" in kind and "company" not in kind and "user" not in kind):
            yield value


async def record_async(config: Config, out_dir: Path, *, upstreams: Collection[str] | None = None,
                       invocations: int = 5) -> Recording:
    """Invoke the agent `invocations` times and write one cassette per upstream to `out_dir`.

    Upstreams come up as in a run (recording proxies, or respx in-process), with no
    fault armed. Cassettes are `out_dir/NAME.yaml`, scrubbed by the default rules,
    the upstream's `scrub` rules, `[data] pii`, and the personal values of the inputs sent.
    """
    from readiness.asgi import AppLoadError
    from readiness.lifecycle import StartError
    from readiness.runner import _bring_up
    from readiness.scenarios.source import ScenarioError

    selected = select_upstreams(config, upstreams)
    recorder = Recorder(body_cap=DEFAULT_MAX_BODY)
    learned: list[str] = []
    failures: list[str] = []
    notes: list[str] = []
    # logs go to a temporary folder: an agent's log is no place for a cassette folder
    with tempfile.TemporaryDirectory(prefix="readiness-record-") as logs:
        async with contextlib.AsyncExitStack() as stack:
            try:
                ctx = await _bring_up(config, Path(logs), recorder, stack, notes)
            except (StartError, AppLoadError) as exc:
                raise RecordingFailed(str(exc)) from None
            if ctx.client.down_reason:
                raise RecordingFailed("; ".join(notes) or ctx.client.down_reason)
            for _ in range(invocations):
                try:
                    payload = ctx.next_inputs(1)[0]
                except ScenarioError as exc:
                    raise ReadinessUsageError(str(exc)) from None
                except IndexError:
                    raise ReadinessUsageError(
                        f"the scenario source ({config.scenario.source}) ran out of records "
                        f"before {invocations} invocations; lower --invocations") from None
                learned.extend(personal_values(payload, config))
                reply = await ctx.invoke(payload)
                if not reply.ok:
                    failures.append(reply.error or f"HTTP {reply.status}: {reply.text[:120]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for upstream in selected:
        exchanges = recorder.exchanges(upstream=upstream.name)
        kept = [exchange for exchange in exchanges if recordable(exchange)]
        scrubber = Scrubber(upstream.scrub, pii=config.data.pii, literals=learned)
        path = out_dir / f"{upstream.name}.yaml"
        written = 0
        if kept:
            written = write_cassette(path, kept, origin=cassette_origin(upstream),
                                     scrubber=scrubber)
        results.append(RecordedUpstream(upstream.name, path if written else None, written,
                                        len(exchanges) - len(kept), dict(scrubber.counts)))
    return Recording(tuple(results), invocations, tuple(failures), tuple(notes))


def record(config: Config, out_dir: Path, *, upstreams: Collection[str] | None = None,
           invocations: int = 5) -> Recording:
    """Synchronous wrapper of `record_async`: runs on uvloop when available."""
    loop_factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(record_async(config, out_dir, upstreams=upstreams,
                                       invocations=invocations))
