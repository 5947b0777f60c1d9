"""Item 2, observing: invoke the agent and hold its audit trail against the proxies' record.

Plain invocations come first, one at a time; they also tell whether the agent
propagates X-Request-ID upstream. Then invocations under upstream faults (the
model failing every attempt, the tool failing every attempt, one reset write),
then a concurrent batch. Every decision's record is fetched right after its
answer. Finally GET /audit?since= is read back page by page and a record is
sent PUT, PATCH and DELETE.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from readiness.chaos.faults import Fault
from readiness.chaos.schedule import Rule, RuleHandle
from readiness.client import new_trace
from readiness.context import RunContext
from readiness.contract import AUDIT_FIELDS
from readiness.probes._ops_api import fetch_record, list_since
from readiness.probes._writes import tool_upstreams, writes_in
from readiness.probes.audit import (
    ITEM,
    AuditObservations,
    ConcurrencyRun,
    Invocation,
    Mutation,
)
from readiness.probes.versioning import fetch_version
from readiness.registry import observer

SEQUENTIAL = 4
CONCURRENT = 200
AT_A_TIME = 16
FETCH_PATIENCE_S = 5.0
CLOCK_SLACK = dt.timedelta(seconds=2)  # the agent's clock and ours may disagree slightly


@dataclass(frozen=True)
class Scenario:
    name: str
    rule: Rule | None = None
    persistent: bool = False


@observer(ITEM)
async def observe(ctx: RunContext) -> AuditObservations:
    fields = {name: ctx.field(name) for name in AUDIT_FIELDS}
    tools = tool_upstreams(ctx.config)
    if ctx.client.down_reason:
        return AuditObservations(fields, unavailable=f"the agent is down: "
                                 f"{ctx.client.down_reason}")
    version = (await ctx.once("version", lambda: fetch_version(ctx))).version
    since = dt.datetime.now(dt.UTC) - CLOCK_SLACK
    before = len(ctx.recorder)
    first = await invoke(ctx, Scenario("plain #1"), correlated=False)
    seen = ctx.recorder.exchanges(since_seq=before)
    correlated = bool(seen) and all(e.correlation_id == first.request_id for e in seen)
    # Records may lag a little; an agent that served none so far gets no grace period.
    patience = FETCH_PATIENCE_S if first.record is not None else 0.0
    sequential = [first] + [await invoke(ctx, Scenario(f"plain #{n}"), correlated=correlated,
                                         patience=patience) for n in range(2, SEQUENTIAL + 1)]
    notes = []
    if not correlated:
        notes.append("the agent does not propagate X-Request-ID upstream: concurrent effects "
                     "were compared in aggregate")
    if not any(i.record is not None for i in sequential):
        patience = 0.0
    faulted = []
    for scenario in fault_scenarios(ctx, sequential):
        faulted.append(await invoke(ctx, scenario, correlated=correlated, patience=patience))
    batch = await concurrent(ctx, correlated, patience)
    listing = await list_since(ctx, since)
    target = next((i for i in sequential if i.record is not None), None)
    mutations = await try_to_change(ctx, target) if target else ()
    return AuditObservations(
        fields, version=version, sequential=tuple(sequential), faulted=tuple(faulted),
        concurrent=batch, listing=listing, mutations=mutations,
        mutation_target=target.fetched.decision_id if target and target.fetched else None,
        has_tools=bool(tools), notes=tuple(notes), redact=tuple(ctx.config.data.redact))


def fault_scenarios(ctx: RunContext, plain: list[Invocation]) -> list[Scenario]:
    """The model failing every attempt, the written tool failing every attempt, one reset."""
    if ctx.faults is None:
        ctx.notes.append(f"audit: faulted invocations were skipped: {ctx.faults_unavailable}")
        return []
    llm = next((n for n, up in ctx.config.upstreams.items() if up.kind == "llm"), None)
    written = next((w["upstream"] for i in plain for w in (i.writes or ())), None)
    scenarios = []
    if llm is not None:
        scenarios.append(Scenario(f"{llm}: 503 on every attempt", Rule(
            Fault("server_error", {"status": 503}), upstream=llm), persistent=True))
    if written is not None:
        scenarios += [
            Scenario(f"{written}: 503 on every attempt", Rule(
                Fault("server_error", {"status": 503}), upstream=written), persistent=True),
            Scenario(f"{written}: first request reset", Rule(
                Fault("reset"), upstream=written, first=1)),
        ]
    return scenarios


async def invoke(ctx: RunContext, scenario: Scenario, *, correlated: bool,
                 attribute: bool = True, patience: float = FETCH_PATIENCE_S) -> Invocation:
    """Invoke once (with the scenario's fault), then fetch the decision's audit record."""
    request_id, _ = new_trace()
    payload = ctx.next_inputs(1)[0]
    before = len(ctx.recorder)
    rule = scenario.rule
    if rule is not None and correlated:
        rule = Rule(rule.fault, upstream=rule.upstream, route=rule.route, first=rule.first,
                    correlation_id=request_id)
    with _armed(ctx, rule) as handles:
        reply = await ctx.invoke(payload, request_id)
    body = reply.json()
    answer = body if reply.ok and isinstance(body, dict) else None
    decision_id = answer.get(ctx.field("decision_id")) if answer else None
    fetched = await fetch_record(ctx, decision_id, patience) if isinstance(decision_id, str) \
        and decision_id else None
    writes = None
    if attribute:
        seen = ctx.recorder.exchanges(correlation_id=request_id if correlated else None,
                                      since_seq=before)
        writes = tuple(writes_in(seen, tool_upstreams(ctx.config)))
    return Invocation(
        scenario=scenario.name, request_id=request_id, input=payload, reply_status=reply.status,
        answer=answer, reply_error=reply.error or (None if reply.ok else reply.text[:300]),
        fetched=fetched, writes=writes, fault=None if rule is None else rule.fault.name,
        fault_fired=any(h.fired for h in handles), persistent=scenario.persistent)


@contextlib.contextmanager
def _armed(ctx: RunContext, rule: Rule | None) -> Iterator[list[RuleHandle]]:
    if rule is None or ctx.faults is None:
        yield []
        return
    with ctx.faults.active(rule) as handles:
        yield handles


async def concurrent(ctx: RunContext, correlated: bool, patience: float) -> ConcurrencyRun:
    """CONCURRENT invocations, AT_A_TIME at once; writes attributed only when correlated."""
    limit = asyncio.Semaphore(AT_A_TIME)
    before = len(ctx.recorder)

    async def one(n: int) -> Invocation:
        async with limit:
            return await invoke(ctx, Scenario(f"concurrent #{n}"), correlated=correlated,
                                attribute=correlated, patience=patience)

    invocations = await asyncio.gather(*(one(n + 1) for n in range(CONCURRENT)))
    writes = writes_in(ctx.recorder.exchanges(since_seq=before), tool_upstreams(ctx.config))
    return ConcurrencyRun(CONCURRENT, AT_A_TIME, tuple(invocations), tuple(writes))


async def try_to_change(ctx: RunContext, target: Invocation) -> tuple[Mutation, ...]:
    """PUT, PATCH and DELETE one record with the operator token; did it change?"""
    assert target.fetched is not None and target.record is not None
    decision_id = target.fetched.decision_id
    original = dict(target.record)
    path = ctx.config.agent.endpoints["audit"].render(decision_id=decision_id)
    token = ctx.config.auth.operator_token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    edited: dict[str, Any] = {**original, ctx.field("status"): "failed",
                              ctx.field("reasoning"): "changed by the readiness harness"}
    attempts = [("PUT", edited), ("PATCH", {ctx.field("reasoning"): edited[ctx.field(
        "reasoning")]}), ("DELETE", None)]
    mutations = []
    for method, body in attempts:
        reply = await ctx.client.request(method, path, json_body=body, headers=headers,
                                         timeout_s=10)
        after = await fetch_record(ctx, decision_id, patience_s=0)
        mutations.append(Mutation(method, path, reply.status,
                                  changed=after.record is not None and after.record != original,
                                  gone=after.record is None))
    return tuple(mutations)

