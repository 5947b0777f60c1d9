"""Item 6, observing personal data: send the canary, then search everywhere for it."""

from __future__ import annotations

import json
from typing import Any

from readiness.chaos.faults import Fault
from readiness.chaos.schedule import Rule
from readiness.client import Reply
from readiness.context import RunContext
from readiness.probes._ops_api import fetch_record
from readiness.probes.security_pii import PiiObservations, Sighting
from readiness.scenarios.canaries import Canary

LOG_TAIL = 20 * 1024 * 1024
OUTAGE_INVOCATIONS = 8


async def observe_pii(ctx: RunContext) -> PiiObservations:
    canary = ctx.canary
    replies: list[tuple[str, Reply]] = []
    decisions: list[tuple[dict[str, Any], str]] = []
    for scenario, rule in _scenarios(ctx):
        payload = ctx.canary_input()
        if rule is not None and ctx.faults is not None:
            with ctx.faults.active(rule):
                reply = await ctx.invoke(payload)
        else:
            reply = await ctx.invoke(payload)
        replies.append((scenario, reply))
        body = reply.json()
        decision = body.get(ctx.field("decision_id")) if isinstance(body, dict) else None
        if reply.ok and isinstance(decision, str):
            decisions.append((payload, decision))
    replies.append(("invoke with a wrong-typed field", await _bad_input(ctx)))
    if ctx.alerts is not None and not ctx.alerts.alerts():
        await _outage(ctx)  # item 4 did not run: let alerts be written about canary inputs

    sightings: list[Sighting] = []
    checked: dict[str, str] = {}
    unchecked: dict[str, str] = {}
    if ctx.alerts is not None:
        alerts = ctx.alerts.alerts()
        for alert in alerts:
            sightings += _look(canary, "alert", f"{alert.channel} alert #{alert.seq}",
                               f"{alert.subject or ''}\n{alert.text}\n{alert.raw}")
        checked["alerts"] = f"{len(alerts)} alert(s)"
    metrics = await ctx.client.call(ctx.config.agent.endpoints["metrics"], timeout_s=15)
    if metrics.ok:
        sightings += _look(canary, "metrics", "GET /metrics", metrics.text)
        checked["metrics"] = "GET /metrics"
    else:
        unchecked["metrics"] = f"GET /metrics answered {metrics.status or metrics.error}"
    for scenario, reply in replies:
        if not reply.ok:
            sightings += _look(canary, "error answer", scenario, reply.error or reply.text)
    checked["error answers"] = f"{sum(not r.ok for _, r in replies)} error answer(s)"
    log = _read_log(ctx)
    if log is None:
        unchecked["agent log"] = ("the harness did not start the agent, so it has no log to "
                                  "read" if ctx.agent_log is None else "the log is unreadable")
    else:
        sightings += _look(canary, "agent log", str(ctx.agent_log), log)
        checked["agent log"] = str(ctx.agent_log)
    sightings += _upstream_sightings(ctx, canary)
    checked["upstream requests"] = f"{len(ctx.recorder)} recorded request(s)"
    redact = tuple(ctx.config.data.redact)
    audited = 0
    if redact:
        for payload, decision in decisions:
            fetched = await fetch_record(ctx, decision, patience_s=1.0)
            if fetched.record is None:
                continue
            audited += 1
            # the redacted fields and everything the agent wrote itself; other input fields
            # may carry the same value in free text, which the policy did not ask to redact
            record = dict(fetched.record)
            kept_input = record.get(ctx.field("input"))
            if isinstance(kept_input, dict):
                record[ctx.field("input")] = {k: v for k, v in kept_input.items() if k in redact}
            text = json.dumps(record, ensure_ascii=False)
            kept = [payload[f] for f in redact if isinstance(payload.get(f), str)
                    and payload[f] in text]
            if kept:
                sightings.append(Sighting("audit", f"record {decision}", tuple(kept),
                                          _excerpt(text, kept[0])))
    return PiiObservations(
        {"name": canary.name, "email": canary.email, "phone": canary.phone}, tuple(sightings),
        checked, unchecked, redact, audited)


def _scenarios(ctx: RunContext) -> list[tuple[str, Rule | None]]:
    cases: list[tuple[str, Rule | None]] = [("a plain invocation", None)]
    for name, up in ctx.config.upstreams.items():
        cases.append((f"an invocation while {name} answers 503", Rule(
            Fault("server_error", {"status": 503}), upstream=name)))
        if up.kind == "llm":
            cases.append((f"an invocation while {name} answers invalid JSON", Rule(
                Fault("invalid_json"), upstream=name)))
    return cases


async def _bad_input(ctx: RunContext) -> Reply:
    payload: dict[str, Any] = {**ctx.canary_input(), "readiness_age": 41}
    return await ctx.invoke(payload)


async def _outage(ctx: RunContext) -> None:
    """A short LLM outage over canary inputs, counted in invocations, not time."""
    llm = next((n for n, up in ctx.config.upstreams.items() if up.kind == "llm"), None)
    if llm is None or ctx.faults is None:
        return
    with ctx.faults.active(Rule(Fault("server_error", {"status": 503}), upstream=llm)):
        for _ in range(OUTAGE_INVOCATIONS):
            await ctx.invoke(ctx.canary_input())
    await ctx.invoke(ctx.canary_input())  # a success, for a recovery message


def _upstream_sightings(ctx: RunContext, canary: Canary) -> list[Sighting]:
    """Canary values in upstream requests; allowed for the declared provider and shares."""
    config = ctx.config
    shared = set(config.data.shared_with)
    provider = bool(config.provider.host)
    found: dict[str, Sighting] = {}
    for exchange in ctx.recorder.exchanges():
        if exchange.upstream in found:
            continue
        text = " ".join([exchange.path, *(v for _, v in exchange.request_headers),
                         exchange.request_body.decode("utf-8", "replace")])
        hits = canary.found_in(text)
        if not hits:
            continue
        up = config.upstreams.get(exchange.upstream)
        allowed = exchange.upstream in shared or (up is not None and up.kind == "llm"
                                                  and provider)
        found[exchange.upstream] = Sighting(
            "upstream request", exchange.upstream, tuple(hits),
            f"{exchange.method} {exchange.path}: {_excerpt(text, hits[0])}", allowed)
    return list(found.values())


def _look(canary: Canary, place: str, where: str, text: str) -> list[Sighting]:
    hits = canary.found_in(text)
    return [Sighting(place, where, tuple(hits), _excerpt(text, hits[0]))] if hits else []


def _excerpt(text: str, value: str, width: int = 60) -> str:
    at = text.lower().find(value.lower())
    start = max(0, at - width)
    return ("…" if start else "") + text[start:at + len(value) + width].replace("\n", " ") + "…"


def _read_log(ctx: RunContext) -> str | None:
    if ctx.agent_log is None:
        return None
    try:
        with ctx.agent_log.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - LOG_TAIL))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return None

