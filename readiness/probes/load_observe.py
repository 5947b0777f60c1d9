"""Item 7, observing: a Locust campaign with faults armed, then the audit trail read back.

Locust runs in its own processes (`readiness.load.run_campaign`, on a worker
thread here). The `[load] faults` rates become seeded probability rules on every
upstream for the campaign's length. Afterwards every decision the agent
acknowledged is looked up in GET /audit?since= (or one by one if the list
cannot be read).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from readiness.chaos.faults import Fault
from readiness.chaos.schedule import Rule
from readiness.context import RunContext
from readiness.probes._ops_api import fetch_record, list_since
from readiness.probes.load import (
    ITEM,
    AuditCheck,
    Capacity,
    CapacityStep,
    LoadObservations,
    Thresholds,
)
from readiness.registry import observer
from readiness.results import Interrupted

CLOCK_SLACK = dt.timedelta(seconds=2)
MAX_LOOKUPS = 2000  # one-by-one lookups when the list cannot be read
LOOKUPS_AT_ONCE = 16
STEP_FACTORS = (0.25, 0.5, 1, 2, 4)
STEP_MIN_S = 3.0


@observer(ITEM)
async def observe(ctx: RunContext) -> LoadObservations:
    config = ctx.config
    load = config.load
    thresholds = Thresholds(load.p95_ms, load.max_error_rate, config.scenario.volume_per_day,
                            load.peak_factor)
    if ctx.client.down_reason:
        return LoadObservations(thresholds, unavailable=f"the agent is down: "
                                f"{ctx.client.down_reason}")
    if config.agent.app:
        return LoadObservations(thresholds, unavailable=(
            "Locust needs the agent on a socket, and this one runs in-process (agent.app); "
            "give the config a start command or a url for the load item"))
    from readiness.load import CampaignSpec

    invoke = config.agent.endpoints["invoke"]
    spec = CampaignSpec(
        host=ctx.client.base_url, invoke_method=invoke.method, invoke_path=invoke.path,
        token=config.auth.invoke_token, users=load.users, spawn_rate=float(load.users),
        duration_s=load.duration_s, workers=load.workers, out_dir=ctx.out_dir / "load",
        request_timeout_s=config.agent.deadline_s,
        scenario={**dataclasses.asdict(config.scenario), "root": str(config.root)})
    since = dt.datetime.now(dt.UTC) - CLOCK_SLACK
    rules = [Rule(Fault(name), probability=rate, seed=config.scenario.seed + n)
             for n, (name, rate) in enumerate(sorted(load.faults.items())) if rate > 0]
    if rules and ctx.faults is None:
        ctx.notes.append(f"load: faults were not injected: {ctx.faults_unavailable}")
    faults = dict(load.faults)
    with ctx.faults.active(*rules) if ctx.faults and rules else contextlib.nullcontext():
        try:
            result = await _campaign(spec)
        except Interrupted as stop:  # the probes show the figures so far as cut short
            raise Interrupted(LoadObservations(thresholds, campaign=stop.observations,
                                               faults=faults)) from None
        try:
            audit = await check_audit(ctx, result.acknowledged, since)
        except asyncio.CancelledError:  # the campaign ended whole: judge it, audit unchecked
            raise Interrupted(LoadObservations(thresholds, campaign=result,
                                               faults=faults)) from None
        try:
            capacity = await find_capacity(spec, thresholds) if load.capacity else None
        except Interrupted:  # the main campaign ended whole: judge it, without capacity
            raise Interrupted(LoadObservations(thresholds, campaign=result, audit=audit,
                                               faults=faults)) from None
    return LoadObservations(thresholds, campaign=result, audit=audit, faults=faults,
                            capacity=capacity)


async def find_capacity(spec: Any, thresholds: Thresholds) -> Capacity:
    """Step the users up (x1/4 to x4) until a step breaks a threshold; the best rate held."""
    steps: list[CapacityStep] = []
    for factor in STEP_FACTORS:
        users = max(1, round(spec.users * factor))
        if steps and users == steps[-1].users:
            continue
        step = dataclasses.replace(spec, users=users, spawn_rate=float(users),
                                   duration_s=max(STEP_MIN_S, spec.duration_s / 2),
                                   out_dir=spec.out_dir / f"capacity-{users}")
        result = await _campaign(step)
        held = (result.requests > 0 and result.p95_ms is not None
                and result.p95_ms <= thresholds.p95_ms
                and result.error_rate <= thresholds.max_error_rate)
        steps.append(CapacityStep(users, round(result.rps, 1), result.p95_ms,
                                  round(result.error_rate, 4), held))
        if not held:
            break
    best = max((s.rps for s in steps if s.held), default=None)
    return Capacity(tuple(steps), best)


async def _campaign(spec: Any) -> Any:
    """run_campaign on a thread. Ctrl-C stops Locust cleanly (it writes its statistics)
    and raises Interrupted with the partial result, or the cancellation if there is none."""
    from readiness.load import run_campaign

    cancel = threading.Event()
    future = asyncio.ensure_future(asyncio.to_thread(run_campaign, spec, cancel=cancel))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancel.set()  # Locust gets SIGINT, writes its statistics and stops
        with contextlib.suppress(Exception):
            await asyncio.wait({future}, timeout=spec.stop_timeout_s + 30)
        if future.done() and not future.cancelled() and future.exception() is None:
            raise Interrupted(future.result()) from None
        raise


async def check_audit(ctx: RunContext, acknowledged: Path, since: dt.datetime) -> AuditCheck:
    """Is every acknowledged decision in the audit trail?"""
    wanted = _decisions(acknowledged)
    if not wanted:
        return AuditCheck(0, 0, method="nothing was acknowledged")
    listing = await list_since(ctx, since, limit=1000)
    key = ctx.field("decision_id")
    if listing.problem is None:
        listed = {str(r.get(key)) for r in listing.records}
        missing = tuple(d for d in wanted if d not in listed)
        return AuditCheck(len(wanted), len(wanted) - len(missing), missing,
                          f"GET /audit?since= ({listing.pages} pages)")
    sample = wanted[:MAX_LOOKUPS]
    limit = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def found(decision: str) -> bool:
        async with limit:
            return (await fetch_record(ctx, decision, patience_s=1.0)).record is not None

    results = await asyncio.gather(*(found(d) for d in sample))
    missing = tuple(d for d, ok in zip(sample, results, strict=True) if not ok)
    method = (f"GET /audit/{{id}} for {len(sample)} of {len(wanted)} decisions (the list "
              f"failed: {listing.problem})")
    return AuditCheck(len(sample), len(sample) - len(missing), missing, method, listing.problem)


def _decisions(path: Path) -> list[str]:
    """Decision ids from the campaign's acknowledged JSONL, in order, without repeats."""
    seen: dict[str, None] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                with contextlib.suppress(ValueError):
                    decision = json.loads(line).get("decision_id")
                    if isinstance(decision, str) and decision:
                        seen.setdefault(decision)
    except OSError:
        return []
    return list(seen)
