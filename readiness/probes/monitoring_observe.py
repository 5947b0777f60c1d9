"""Item 4, observing: scrape /metrics, then stage an outage and listen at the alert sink.

The outage: every call to one upstream (the LLM if there is one) answers 503 while
four workers keep invoking the agent. Once the first alert has arrived, the failure
goes on until `AFTER_FIRST_ALERT` more invocations have failed, so a per-request
alerter shows itself. Then the fault is lifted and the agent is invoked normally
until a recovery message arrives (or `within_s` passes). Every wait is on an
event (an alert arriving, an invocation finishing), bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from readiness.chaos.faults import Fault
from readiness.chaos.schedule import Rule
from readiness.context import RunContext
from readiness.probes.monitoring import (
    ITEM,
    Family,
    Incident,
    MetricsScrape,
    MonitoringObservations,
    is_recovery,
)
from readiness.registry import observer

WORKERS = 4
AFTER_FIRST_ALERT = 2 * WORKERS
GRACE_S = 5.0  # an alert this much later than within_s is reported late; later still, missing
QUIET_S = 1.0  # alerts from earlier items must stop arriving before the outage starts
RECOVERY_PACE_S = 0.25  # at most four healthy invocations a second while awaiting recovery
_PLACEHOLDERS = {"tbd", "todo", "n/a", "none", "unknown", "tba"}


@observer(ITEM)
async def observe(ctx: RunContext) -> MonitoringObservations:
    owner = ctx.config.owner
    contacts = tuple(c for c in (owner.name, owner.contact, owner.backup, owner.backup_contact,
                                 owner.handle)
                     if c and len(c) > 3 and c.strip().lower() not in _PLACEHOLDERS)
    name = ctx.config.agent.name
    if ctx.client.down_reason:
        return MonitoringObservations(name, contacts=contacts,
                                      unavailable=f"the agent is down: {ctx.client.down_reason}")
    metrics = await scrape(ctx)
    incident = await outage(ctx)
    return MonitoringObservations(name, metrics=metrics, incident=incident, contacts=contacts)


async def scrape(ctx: RunContext) -> MetricsScrape:
    """GET /metrics and parse it with prometheus_client's text parser."""
    from prometheus_client.parser import text_string_to_metric_families

    reply = await ctx.client.call(ctx.config.agent.endpoints["metrics"], timeout_s=15)
    content_type = reply.headers.get("content-type") if reply.headers else None
    excerpt = reply.text[:600]
    if reply.error or not reply.ok:
        return MetricsScrape(reply.status, content_type,
                             problem=reply.error or f"GET /metrics answered HTTP {reply.status}",
                             excerpt=excerpt)
    try:
        families = tuple(
            Family(f.name, f.type, tuple(sorted({k for s in f.samples for k in s.labels})),
                   len(f.samples))
            for f in text_string_to_metric_families(reply.text))
    except Exception as exc:  # the parser raises ValueError and others on malformed text
        return MetricsScrape(reply.status, content_type, problem=f"the parser rejected it: "
                             f"{exc}"[:300], excerpt=excerpt)
    if not families:
        return MetricsScrape(reply.status, content_type, problem="it holds no metric",
                             excerpt=excerpt)
    return MetricsScrape(reply.status, content_type, families, excerpt=excerpt)


def _target_upstream(ctx: RunContext) -> str | None:
    upstreams = ctx.config.upstreams
    return next((n for n, up in upstreams.items() if up.kind == "llm"), next(iter(upstreams),
                                                                                  None))


async def outage(ctx: RunContext) -> Incident:
    """Fail every call to one upstream, invoke, and collect the alerts that arrive."""
    within = ctx.config.alerts.within_s
    upstream = _target_upstream(ctx)
    sink = ctx.alerts
    if upstream is None:
        return Incident("", "server_error", time.time(), within_s=within,
                        problem="no upstream is declared, so none can fail")
    if ctx.faults is None or sink is None:
        return Incident(upstream, "server_error", time.time(), within_s=within,
                        problem=ctx.faults_unavailable or "faults cannot be injected in this run")
    # A healthy invocation closes any incident an earlier item opened; let its alerts land.
    await ctx.invoke()
    await sink.quiet(QUIET_S, timeout=within)
    mark = sink.last_seq
    failed_invocations = 0
    after_first = 0
    alerted = asyncio.Event()
    stop = asyncio.Event()

    def on_alert() -> None:
        if any(not is_recovery(a) for a in sink.alerts(mark)):
            alerted.set()

    async def worker() -> None:
        nonlocal failed_invocations, after_first
        while not stop.is_set():
            # canary personal data: item 6 looks for it in the alerts this outage brings
            await ctx.invoke(ctx.canary_input())
            failed_invocations += 1
            on_alert()
            if alerted.is_set():
                after_first += 1
                if after_first >= AFTER_FIRST_ALERT:
                    stop.set()

    rule = Rule(Fault("server_error", {"status": 503}), upstream=upstream)
    started = time.time()
    with ctx.faults.active(rule):
        workers = [asyncio.ensure_future(worker()) for _ in range(WORKERS)]
        try:
            with contextlib.suppress(TimeoutError):  # no alert at all: the probes say so
                await sink.wait_for(lambda a: not is_recovery(a), timeout=within + GRACE_S,
                                    since_seq=mark)
                alerted.set()
                await stop.wait()
        finally:
            stop.set()
            await asyncio.gather(*workers)
    ended = time.time()
    recovery_wait = await await_recovery(ctx, mark, within) if alerted.is_set() else 0.0
    return Incident(upstream, "server_error 503 on every call", started, ended, within,
                    failed_invocations, after_first, tuple(sink.alerts(mark)), recovery_wait)


async def await_recovery(ctx: RunContext, mark: int, within: float) -> float:
    """Invoke normally until a recovery message arrives; returns how long it took (or waited)."""
    sink = ctx.alerts
    assert sink is not None
    started = time.monotonic()
    recovered = asyncio.ensure_future(sink.wait_for(is_recovery, timeout=within, since_seq=mark))
    try:
        while not recovered.done():
            await ctx.invoke()
            await asyncio.wait({recovered}, timeout=RECOVERY_PACE_S)
        recovered.exception()  # a timeout is an answer too: no recovery message
    finally:
        recovered.cancel()
    return round(time.monotonic() - started, 2)
