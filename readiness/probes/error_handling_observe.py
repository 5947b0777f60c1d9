"""Item 1, observing: drive the agent through faults injected into its upstream calls.

A baseline invocation finds the first upstream route the agent calls (for an
LLM agent, its chat completion) and whether it propagates the harness's
X-Request-ID. If it does, every trial arms a fault rule for its own correlation
id and the trials run concurrently; otherwise they run one at a time with
unscoped rules. Each trial is one invocation; its attempts are the recorded
exchanges on the faulted route.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from readiness.chaos.catalogue import LLM_FAULTS, MALFORMED_FAULTS
from readiness.chaos.faults import Fault
from readiness.chaos.recorder import Exchange
from readiness.chaos.schedule import FaultSchedule, Rule
from readiness.client import new_trace
from readiness.context import RunContext
from readiness.probes._timeline import attempts
from readiness.probes.error_handling import ITEM, ErrorHandlingObservations, Trial
from readiness.registry import observer
from readiness.scenarios.fuzz import FuzzResult, fuzz_invoke

BACKOFF_TRIALS = 8
CONCURRENT_TRIALS = 8
FUZZ_EXAMPLES = 60
CLIENT_ERROR_STATUSES = (400, 401, 403, 404, 422)


@dataclass(frozen=True)
class Plan:
    """One trial: which group it feeds, the fault, and on how many attempts it fires."""

    group: str
    scenario: str
    fault: Fault
    first: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """The upstream route the faults target."""

    upstream: str
    kind: str
    method: str
    path: str

    def matches(self, exchange: Exchange) -> bool:
        return (exchange.upstream == self.upstream and exchange.method == self.method
                and exchange.path.partition("?")[0] == self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def plan(route: Route) -> list[Plan]:
    """Every trial item 1 runs against `route`."""
    def trial(group: str, scenario: str, name: str, first: int | None = None,
              **params: Any) -> Plan:
        return Plan(group, scenario, Fault(name, params), first, params)

    plans = [
        trial("retry", "429 twice", "rate_limit", 2, retry_after=1),
        trial("retry", "503 twice", "server_error", 2, status=503),
        trial("retry", "500 once", "server_error", 1, status=500),
        trial("retry", "connection reset twice", "reset", 2),
        *(trial("backoff", f"503 three times #{n + 1}", "server_error", 3, status=503)
          for n in range(BACKOFF_TRIALS)),
        trial("retry_after", "429 Retry-After: 1", "rate_limit", 1, retry_after=1),
        trial("retry_after", "429 Retry-After: HTTP-date", "rate_limit", 1, retry_after=2,
              retry_after_date=True),
        trial("retry_after", "429 retry-after-ms: 700", "rate_limit", 1, retry_after=1,
              retry_after_ms=700),
        *(trial("non_retryable", f"{status} once", "client_error", 1, status=status)
          for status in CLIENT_ERROR_STATUSES),
        trial("timeout", "upstream never answers", "timeout"),
        *(trial("malformed", name, name) for name in MALFORMED_FAULTS),
    ]
    if route.kind == "llm":
        plans += [trial("malformed", name, name) for name in LLM_FAULTS]
    return plans


@observer(ITEM)
async def observe(ctx: RunContext) -> ErrorHandlingObservations:
    deadline = ctx.config.agent.deadline_s
    fuzz = await fuzz_inputs(ctx)
    schedule = ctx.faults
    if ctx.client.down_reason:
        return ErrorHandlingObservations(deadline, input_fuzz=fuzz,
                                         unavailable=f"the agent is down: {ctx.client.down_reason}")
    if schedule is None:
        return ErrorHandlingObservations(deadline, input_fuzz=fuzz,
                                         unavailable=ctx.faults_unavailable
                                         or "faults cannot be injected in this run")
    route, correlated, problem = await find_route(ctx)
    if route is None:
        return ErrorHandlingObservations(deadline, input_fuzz=fuzz, unavailable=problem)
    plans = plan(route)
    if correlated:
        limit = asyncio.Semaphore(CONCURRENT_TRIALS)

        async def bounded(item: Plan) -> Trial:
            async with limit:
                return await run_trial(ctx, schedule, route, item, correlated=True)

        trials = list(await asyncio.gather(*(bounded(p) for p in plans)))
    else:
        trials = [await run_trial(ctx, schedule, route, p, correlated=False) for p in plans]
    grouped: dict[str, list[Trial]] = {}
    for item, result in zip(plans, trials, strict=True):
        grouped.setdefault(item.group, []).append(result)
    return ErrorHandlingObservations(
        deadline,
        retry_trials=tuple(grouped.get("retry", ())),
        backoff_trials=tuple(grouped.get("backoff", ())),
        retry_after_trials=tuple(grouped.get("retry_after", ())),
        non_retryable_trials=tuple(grouped.get("non_retryable", ())),
        timeout_trials=tuple(grouped.get("timeout", ())),
        malformed_trials=tuple(grouped.get("malformed", ())),
        input_fuzz=fuzz)


async def find_route(ctx: RunContext) -> tuple[Route | None, bool, str | None]:
    """Invoke once without faults: the first upstream route called, and correlation."""
    before = len(ctx.recorder)
    request_id, _ = new_trace()
    reply = await ctx.invoke(request_id=request_id)
    seen = [e for e in ctx.recorder.exchanges(since_seq=before)]
    if not reply.ok:
        return None, False, (f"a plain invocation failed before any fault was injected (HTTP "
                             f"{reply.status} {reply.error or ''}); fix that first")
    if not seen:
        return None, False, ("the agent made no upstream call through the harness's proxies "
                             "when invoked, so faults could not reach it: give it the proxy URLs "
                             "from the environment variables in [upstreams]")
    first = min(seen, key=lambda e: (e.started_at, e.seq))
    kind = ctx.config.upstreams[first.upstream].kind if first.upstream in \
        ctx.config.upstreams else "tool"
    route = Route(first.upstream, kind, first.method, first.path.partition("?")[0])
    correlated = all(e.correlation_id == request_id for e in seen)
    if not correlated:
        ctx.notes.append("the agent does not propagate X-Request-ID/traceparent upstream, so "
                         "fault trials ran one at a time")
    return route, correlated, None


async def run_trial(ctx: RunContext, schedule: FaultSchedule, route: Route, item: Plan, *,
                    correlated: bool) -> Trial:
    """One invocation with `item`'s fault armed on `route`."""
    request_id, _ = new_trace()
    rule = Rule(item.fault, upstream=route.upstream, route=str(route),
                correlation_id=request_id if correlated else None, first=item.first)
    before = len(ctx.recorder)
    with schedule.active(rule):
        started = time.monotonic()
        reply = await ctx.invoke(request_id=request_id)
        elapsed = time.monotonic() - started
    exchanges = [e for e in ctx.recorder.exchanges(
        correlation_id=request_id if correlated else None, since_seq=before) if route.matches(e)]
    body = reply.json()
    status_field = ctx.field("status")
    decision = body.get(status_field) if isinstance(body, dict) else None
    healthy, audit_errors = None, None
    if item.group == "malformed":
        health = await ctx.client.call(ctx.config.agent.endpoints["health"], timeout_s=5)
        healthy = health.ok
        audit_errors = await _audit_errors(ctx, body)
    return Trial(
        scenario=item.scenario, fault=item.fault.name, attempts=attempts(exchanges),
        params=dict(item.params), route=str(route), reply_status=reply.status,
        reply_body=body if isinstance(body, dict) else None, reply_text=reply.text[:2000],
        reply_error=reply.error, decision_status=decision if isinstance(decision, str) else None,
        elapsed_s=round(elapsed, 3), healthy_after=healthy, audit_errors=audit_errors)


async def _audit_errors(ctx: RunContext, answer: Any) -> tuple[str, ...] | None:
    """The `errors` of the decision's audit record, or None when it cannot be read."""
    decision_id = answer.get(ctx.field("decision_id")) if isinstance(answer, dict) else None
    if not isinstance(decision_id, str) or not decision_id:
        return None
    record = await ctx.client.call(ctx.config.agent.endpoints["audit"], decision_id=decision_id,
                                   timeout_s=10)
    data = record.json()
    errors = data.get(ctx.field("errors")) if isinstance(data, dict) and record.ok else None
    if not isinstance(errors, list):
        return None
    return tuple(str(e) for e in errors)



async def fuzz_inputs(ctx: RunContext, examples: int = FUZZ_EXAMPLES) -> FuzzResult | None:
    """Hypothesis-generated bad invoke bodies, sent from a worker thread."""
    if ctx.client.down_reason:
        return None
    loop = asyncio.get_running_loop()
    endpoint = ctx.config.agent.endpoints["invoke"]
    limit = ctx.config.agent.deadline_s + 5
    stop = threading.Event()

    def send(body: Any) -> Any:
        if stop.is_set():  # the run was cancelled: end the fuzzing thread promptly
            raise RuntimeError("the run was interrupted")
        return asyncio.run_coroutine_threadsafe(
            ctx.client.call(endpoint, json_body=body), loop).result(limit)

    record = ctx.next_inputs(1)[0]
    try:
        return await asyncio.to_thread(fuzz_invoke, send, record, max_examples=examples,
                                       seed=ctx.config.scenario.seed)
    except asyncio.CancelledError:
        stop.set()
        raise


