"""Item 6, observing: scan the source, knock on every door, provoke errors, read the record.

Access checks send no token, a wrong token and (on operator endpoints) the invoke
token, with harmless bodies: PUT /control re-sends the current mode, approve and
revert name a decision that does not exist. The mode is restored at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from readiness.chaos.faults import Fault
from readiness.chaos.schedule import Rule
from readiness.client import new_trace
from readiness.context import RunContext
from readiness.contract import Endpoint
from readiness.probes._leaks import leaks
from readiness.probes._ops_api import set_mode
from readiness.probes._writes import tool_upstreams, writes_in
from readiness.probes.security import (
    ITEM,
    AccessAttempt,
    Declarations,
    Exposure,
    SecurityObservations,
)
from readiness.probes.security_agency_observe import observe_agency
from readiness.probes.security_pii_observe import observe_pii
from readiness.registry import observer

WRONG_TOKEN = "readiness-wrong-token-0000"
MISSING_DECISION = "readiness-no-such-decision"
OPEN_ENDPOINTS = ("health", "version", "metrics")


@observer(ITEM)
async def observe(ctx: RunContext) -> SecurityObservations:
    static = await asyncio.to_thread(_static_checks, ctx)
    declarations = _declarations(ctx)
    if ctx.client.down_reason:
        return SecurityObservations(declarations=declarations, **static,
                                    unavailable=f"the agent is down: {ctx.client.down_reason}")
    mode = await _current_mode(ctx)
    try:
        access = await knock(ctx, mode)
    finally:
        await set_mode(ctx, mode)
    open_endpoints = await read_open_endpoints(ctx)
    errors = await provoke_errors(ctx)
    pii = await observe_pii(ctx)
    agency = await observe_agency(ctx)
    tools = tool_upstreams(ctx.config)
    return SecurityObservations(
        access=tuple(access), open_endpoints=tuple(open_endpoints), error_answers=tuple(errors),
        writes=tuple(writes_in(ctx.recorder.exchanges(), tools)),
        allowed={name: tuple(up.writes) for name, up in ctx.config.upstreams.items()
                 if name in tools},
        declarations=_declarations(ctx), pii=pii, agency=agency, **static)


def _static_checks(ctx: RunContext) -> dict[str, Any]:
    """bandit and detect-secrets over the agent's declared source and components."""
    from readiness.config import ConfigError
    from readiness.security_checks import candidate_files, find_secrets, load_baseline, scan

    config = ctx.config
    out: dict[str, Any] = {}
    sources = list(config.agent.source)
    try:
        baseline = load_baseline(config.security.baseline) if config.security.baseline else None
    except ConfigError as exc:
        problem = f"the baseline could not be read: {exc}"
        return {"scan_problem": problem, "secrets_problem": problem}
    if not sources:
        out["scan_problem"] = ("[agent] source is empty: declare the agent's code "
                               '(source = ["my_agent"]) so it can be scanned')
    else:
        try:
            out["scan"] = scan(config.root, sources, baseline)
        except ValueError as exc:
            out["scan_problem"] = str(exc)
    try:
        files = candidate_files(config.root, sources,
                                [*config.version.files, config.path.name])
        out["secrets"] = find_secrets(config.root, files, baseline)
        out["secrets_files"] = len(files)
    except ValueError as exc:
        out["secrets_problem"] = str(exc)
    return out


def _declarations(ctx: RunContext) -> Declarations:
    config = ctx.config
    called: dict[str, str] = {}
    for exchange in ctx.recorder.exchanges():
        up = config.upstreams.get(exchange.upstream)
        if up is not None:
            called.setdefault(exchange.upstream, up.kind)
    written = sorted({w["upstream"] for w in writes_in(ctx.recorder.exchanges(),
                                                        tool_upstreams(config))})
    return Declarations(dataclasses.asdict(config.provider), dataclasses.asdict(config.data),
                        dataclasses.asdict(config.compliance), called, tuple(written))


async def _current_mode(ctx: RunContext) -> str:
    reply = await ctx.client.call(ctx.config.agent.endpoints["control_get"], timeout_s=15)
    body = reply.json()
    mode = body.get(ctx.field("mode")) if reply.ok and isinstance(body, dict) else None
    return mode if mode in ("active", "review_only", "disabled") else "active"


def _harmless_body(ctx: RunContext, key: str, mode: str) -> Any:
    if key == "invoke":
        request_id, _ = new_trace()
        return {"request_id": request_id, "input": ctx.next_inputs(1)[0]}
    if key == "control":
        return {ctx.field("mode"): mode}
    if key == "approve":
        return {ctx.field("approver"): "readiness access check"}
    return None


async def knock(ctx: RunContext, mode: str) -> list[AccessAttempt]:
    """Every protected endpoint without a token, with a wrong one, and with the invoke token."""
    attempts = []
    invoke_token = ctx.config.auth.invoke_token
    for key, endpoint in ctx.config.agent.endpoints.items():
        if endpoint.scope == "none":
            continue
        tries: list[tuple[str, str | None, int]] = [("no token", None, 401),
                                                     ("a wrong token", WRONG_TOKEN, 401)]
        if endpoint.scope == "operator" and invoke_token:
            tries.append(("the invoke token", invoke_token, 403))
        for credential, token, expected in tries:
            attempts.append(await _try(ctx, key, endpoint, credential, token, expected, mode))
    return attempts


async def _try(ctx: RunContext, key: str, endpoint: Endpoint, credential: str,
               token: str | None, expected: int, mode: str) -> AccessAttempt:
    path = endpoint.render(decision_id=MISSING_DECISION)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = await ctx.client.request(endpoint.method, path, json_body=_harmless_body(
        ctx, key, mode), headers=headers, timeout_s=15)
    return AccessAttempt(key, f"{endpoint.method} {path}", credential, expected, reply.status,
                         reply.error or reply.text[:200])


def _private(ctx: RunContext) -> tuple[list[str], list[str]]:
    """Values an answer must not contain: the tokens, and the upstreams' real addresses."""
    secrets = [t for t in (ctx.config.auth.invoke_token, ctx.config.auth.operator_token) if t]
    hosts = [up.target.split("//", 1)[-1].split("/", 1)[0]
             for up in ctx.config.upstreams.values() if "//" in up.target]
    return secrets, [h for h in hosts if "{port}" not in h]


async def read_open_endpoints(ctx: RunContext) -> list[Exposure]:
    secrets, hosts = _private(ctx)
    found = []
    for key in OPEN_ENDPOINTS:
        endpoint = ctx.config.agent.endpoints[key]
        reply = await ctx.client.call(endpoint, token=None, timeout_s=15)
        text = reply.text[:200_000]
        # component paths in /version are the point of that endpoint, not a leak;
        # anywhere else a file path tells an attacker where the code lives
        kinds = [k for k in leaks(text, secrets=secrets, hosts=hosts)
                 if key != "version" or not k.startswith("a file path")]
        found.append(Exposure(f"{endpoint.method} {endpoint.path} without a token", reply.status,
                              tuple(kinds), text[:300]))
    return found


async def provoke_errors(ctx: RunContext) -> list[Exposure]:
    """Bad input, unknown routes and upstream faults: what do the answers give away?"""
    secrets, hosts = _private(ctx)
    invoke = ctx.config.agent.endpoints["invoke"]
    token = ctx.config.auth.invoke_token
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    cases: list[tuple[str, Any]] = [
        ("invoke with a body that is not JSON", b"{not json"),
        ("invoke with wrong types", {"request_id": 7, "input": "not an object"}),
        ("invoke without input", {"request_id": new_trace()[0]}),
    ]
    found = []
    for scenario, body in cases:
        if isinstance(body, bytes):
            reply = await ctx.client.request(invoke.method, invoke.path, headers={
                **auth, "Content-Type": "application/json"}, raw_body=body, timeout_s=15)
        else:
            reply = await ctx.client.request(invoke.method, invoke.path, json_body=body,
                                             headers=auth, timeout_s=15)
        found.append(_exposure(scenario, reply.status, reply.error or reply.text, secrets, hosts))
    reply = await ctx.client.request("GET", "/readiness-no-such-route", timeout_s=15)
    found.append(_exposure("an unknown route", reply.status, reply.text, secrets, hosts))
    for scenario, rule in _fault_cases(ctx):
        assert ctx.faults is not None
        with ctx.faults.active(rule):
            reply = await ctx.invoke()
        found.append(_exposure(scenario, reply.status, reply.error or reply.text, secrets, hosts))
    return found


def _fault_cases(ctx: RunContext) -> list[tuple[str, Rule]]:
    if ctx.faults is None:
        return []
    cases = []
    for name, up in ctx.config.upstreams.items():
        cases.append((f"invoke while {name} answers 500", Rule(
            Fault("server_error", {"status": 500}), upstream=name)))
        if up.kind == "llm":
            cases.append((f"invoke while {name} answers invalid JSON", Rule(
                Fault("invalid_json"), upstream=name)))
    return cases


def _exposure(scenario: str, status: int | None, text: str, secrets: list[str],
              hosts: list[str]) -> Exposure:
    return Exposure(scenario, status, tuple(leaks(text, secrets=secrets, hosts=hosts)),
                    text[:300])
