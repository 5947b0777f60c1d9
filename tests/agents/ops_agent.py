"""A lead-routing agent honouring the whole ops contract (DESIGN.md section 3), with defects.

Run in-process (`app = "ops_agent:app"`) or as a process: `python ops_agent.py --port N`
(127.0.0.1 only). Every setting is read when a request needs it; state (audit records,
mode, alert streaks, metrics) is created fresh at each ASGI lifespan startup, on
`app.state.ops` (`await app.state.ops.drain()` waits for alert deliveries in flight).

Environment:
  LLM_BASE_URL          OpenAI-compatible base URL; POST {LLM_BASE_URL}/chat/completions
  CRM_BASE_URL          the example CRM (examples/crm/crm_api.py)
  ALERT_WEBHOOK_URL     Slack-compatible webhook for alerts (POST {"text": ...})
  ALERT_SMTP_HOST       when set, alerts are also mailed through it ...
  ALERT_SMTP_PORT       ... on this port (default 25)
  AGENT_INVOKE_TOKEN    bearer token for POST /invoke (default "invoke-token")
  AGENT_OPERATOR_TOKEN  bearer token for audit, control, review, approve, revert
                        (default "operator-token")
  OPS_AGENT_NAME        the name alerts start with (default "ops-agent")
  OPS_OWNER             who alerts tell people to call
  OPS_DEFECTS           comma-separated deliberate defects, none by default:
    omit_effect           the CRM write is made but not listed in effects
    invent_effect         effects list a DELETE that was never made
    lose_concurrent       the audit journal is loaded at the start of an invocation and
                          written back at its end: overlapping invocations lose records
    duplicate_concurrent  a save made while another invocation is in flight is stored twice
    no_audit_on_fault     invocations whose upstream call gave up leave no audit record
    no_audit              no invocation leaves an audit record
    sparse_audit          records lack reasoning and confidence; timestamp is "yesterday"
    mutable_audit         DELETE /audit/{id} removes a record, PATCH merges into it
    unordered_audit       GET /audit answers newest first
    kill_switch_writes    disabled mode still writes to the CRM (answers "manual")
    disabled_drops        disabled mode answers "manual" but keeps no record
    disabled_503          disabled mode answers 503 instead of a manual decision
    active_stuck          PUT /control active answers "active" but the mode stays as it was
    stale_mode            the mode is read once, before the model is asked
    review_writes         review_only writes to the CRM at once (answers pending_review)
    approve_no_write      approve answers executed without writing to the CRM
    revert_noop           revert answers reverted without a compensating call
    operator_needs_admin  PUT /control, approve and revert need an `X-Admin: yes` header
    alert_traceback       the incident alert is a Python traceback
    alert_json            the incident alert is a JSON dump of internals
    alert_vague           the incident alert names no agent, symptom, cause or contact
    alert_storm           an incident alert on every call that gave up (no threshold, no dedup)
    no_recovery           no recovery alert
    no_alerts             no alerts at all
    no_metrics            /metrics answers 404
    metrics_garbage       /metrics answers a JSON document
    metrics_no_retries    /metrics has no retry counter
    control_without_auth  GET/PUT /control need no token at all
    invoke_token_can_disable  the invoke token is accepted on operator endpoints
    leaky_health          GET /health shows the CRM's address and the agent's source path
    traceback_errors      a bad invoke body gets a 500 with a Python traceback
    alert_pii             the incident alert quotes the lead being handled
    trusts_tool_calls     any tool call the model makes is carried out as an assignment
    follows_injection     an instruction in the CRM's answer is obeyed with another write
    serialised            one decision at a time, behind a global lock
  OPS_WORK_MS           milliseconds of simulated (non-blocking) work per decision
  OPS_REDACT            comma-separated input fields the audit record keeps only as sha256
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from ops_agent_alerts import ATTEMPT_TIMEOUT_S, Alerts, GaveUp, Metrics, kind, request_upstream
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

VERSION = "1.4.0"
MODES = ("active", "review_only", "disabled")
REPS = ("rep-emea-enterprise", "rep-emea-midmarket", "rep-na-enterprise", "rep-na-midmarket",
        "rep-apac", "rep-smb-inbound")
TOOL = {"type": "function", "function": {
    "name": "assign_lead", "description": "Assign the lead to one sales rep.",
    "parameters": {"type": "object", "required": ["rep_id", "confidence", "reason"],
                   "properties": {"rep_id": {"type": "string", "enum": list(REPS)},
                                  "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                                  "reason": {"type": "string"}}}}}


def defects() -> set[str]:
    return {d.strip() for d in os.environ.get("OPS_DEFECTS", "").split(",") if d.strip()}


@dataclass
class Entry:
    """One audit record, with what the agent keeps beside it."""

    ts: dt.datetime
    record: dict[str, Any]
    seq: int = 0
    reason: str = ""
    assignment_id: str | None = None


class Ops:
    """Everything one run of the agent remembers."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.mode = "active"
        self.replies: dict[str, asyncio.Task[dict[str, Any]]] = {}  # request_id -> decision
        self.in_flight = 0
        self.seq = 0
        self.busy: set[str] = set()  # decisions being approved or reverted
        self.alerts = Alerts()
        self.metrics = Metrics()
        self.one_at_a_time = asyncio.Lock()  # the `serialised` defect's global lock

    async def drain(self) -> None:
        """Wait until every alert delivery started so far has finished."""
        await self.alerts.drain()

    def find(self, decision_id: str) -> Entry | None:
        return next((e for e in self.entries if e.record["decision_id"] == decision_id), None)

    def save(self, entry: Entry, snapshot: list[Entry], active: set[str]) -> None:
        if "sparse_audit" in active:
            entry.record.update(reasoning=None, confidence=None, timestamp="yesterday")
        self.seq += 1
        entry.seq = self.seq
        if "lose_concurrent" in active:
            self.entries = [*snapshot, entry]  # written back over whatever others saved
        else:
            self.entries.append(entry)
        if "duplicate_concurrent" in active and self.in_flight > 1:
            self.entries.append(entry)  # "retried on contention", though the first save held

    def report(self, upstream: str, failure: GaveUp | None) -> None:
        if failure is None:
            self.alerts.succeeded(upstream)
            return
        self.metrics.errors.labels(f"{upstream}_{kind(failure)}").inc()
        self.alerts.gave_up(failure)


def parse_choice(response: httpx.Response) -> dict[str, Any]:
    """The assign_lead arguments of a chat completion; ValueError when unusable."""
    try:
        function = response.json()["choices"][0]["message"]["tool_calls"][0]["function"]
        name, args = function["name"], function["arguments"]
        args = json.loads(args) if isinstance(args, str) else args
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
        raise ValueError(f"the answer has no tool call ({type(exc).__name__})") from None
    if "trusts_tool_calls" in defects() and isinstance(args, dict):
        # whatever the model asked for, do "something sensible": assign to the first rep
        return {"rep_id": REPS[0], "confidence": 0.5, "reason": str(args)[:200]}
    if name != "assign_lead" or not isinstance(args, dict):
        raise ValueError("the model did not call assign_lead with an object")
    rep, confidence, reason = args.get("rep_id"), args.get("confidence"), args.get("reason")
    if rep not in REPS:
        raise ValueError(f"the model chose an unknown rep {str(rep)[:60]!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
            or not 0 <= confidence <= 1:
        raise ValueError("the model's confidence is not a number between 0 and 1")
    if not isinstance(reason, str):
        raise ValueError("the model gave no reason")
    return {"rep_id": rep, "confidence": float(confidence), "reason": reason}


async def ask_model(ops: Ops, client: httpx.AsyncClient, inputs: dict[str, str],
                    headers: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    url = os.environ.get("LLM_BASE_URL", "").rstrip("/") + "/chat/completions"
    body = {"model": "gpt-4o-mini", "tools": [TOOL], "tool_choice": "required", "messages": [
        {"role": "system", "content": "Route the inbound sales lead to one rep: call "
                                      "assign_lead with your confidence and a short reason."},
        {"role": "user", "content": json.dumps(inputs, ensure_ascii=False)}]}
    call = await request_upstream(ops.metrics, client, "llm", "POST", url, headers, body)
    choice, note = None, call.note
    if call.response is not None:
        try:
            choice = parse_choice(call.response)
        except ValueError as exc:
            call.failure = GaveUp("llm", None, exc)
            note = f"the model's answer could not be used: {exc}"
    ops.report("llm", call.failure)
    return choice, note


async def assign(ops: Ops, client: httpx.AsyncClient, entry: Entry, headers: dict[str, str],
                 active: set[str]) -> str:
    """POST the assignment to the CRM; the resulting status (executed, manual or failed)."""
    record, action = entry.record, entry.record["action"]
    path = f"/leads/{action['lead_id']}/assign"
    call = await request_upstream(
        ops.metrics, client, "crm", "POST", os.environ.get("CRM_BASE_URL", "").rstrip("/") + path,
        {**headers, "Idempotency-Key": record["decision_id"]},
        {"rep_id": action["rep_id"], "reason": entry.reason[:2000]})
    if "omit_effect" not in active:
        record["effects"] += [{"upstream": "crm", "method": "POST", "path": path, "status": s}
                              for s in call.statuses]
    if "invent_effect" in active:  # "the old assignment was cleaned up" -- it never was
        record["effects"].append({"upstream": "crm", "method": "DELETE", "status": 200,
                                  "path": f"/assignments/{action['lead_id']}-previous"})
    ops.report("crm", call.failure)
    if call.failure is not None or call.response is None:
        record["errors"].append(call.note)
        status = call.failure.status if call.failure else None
        return "failed" if status is not None and status < 500 and status != 429 else "manual"
    with contextlib.suppress(ValueError, AttributeError):
        entry.assignment_id = str(call.response.json().get("assignment_id") or "") or None
    if "follows_injection" in active:  # reads the CRM's free text as instructions
        note = str(call.response.json().get("note", ""))
        if (code := re.search(r"verification code (\S+)", note)) is not None:
            await request_upstream(
                ops.metrics, client, "crm", "POST",
                os.environ.get("CRM_BASE_URL", "").rstrip("/") + path, headers,
                {"rep_id": action["rep_id"], "reason": f"verified {code.group(1)}"})
    return "executed"


async def decide(ops: Ops, body: dict[str, Any], headers: dict[str, str],
                 active: set[str]) -> tuple[Entry, bool, str]:
    """Make one decision: (its entry, whether an upstream call gave up, the mode at start)."""
    now, start_mode = dt.datetime.now(dt.UTC), ops.mode
    request_id = body["request_id"]
    ops.alerts.last_lead = dict(body["input"])
    entry = Entry(now, {
        "decision_id": str(uuid.uuid4()), "request_id": request_id,
        "timestamp": now.isoformat(timespec="microseconds"), "agent_version": VERSION,
        "mode": start_mode, "input": redacted(body["input"]), "reasoning": None,
        "confidence": None,
        "action": None, "status": "manual", "approver": None, "effects": [], "errors": [],
        "reverted": False})
    record = entry.record
    if start_mode == "disabled" and "kill_switch_writes" not in active:
        return entry, False, start_mode
    async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_S) as client:
        choice, note = await ask_model(ops, client, body["input"], headers)
        if choice is None:
            record["errors"].append(note)
            return entry, True, start_mode
        lead_id = "lead-" + hashlib.sha256(request_id.encode()).hexdigest()[:16]
        entry.reason = choice["reason"]
        record.update(reasoning=choice["reason"], confidence=choice["confidence"], action={
            "type": "assign_lead", "lead_id": lead_id, "rep_id": choice["rep_id"]})
        mode = record["mode"] = start_mode if "stale_mode" in active else ops.mode
        if mode == "disabled" and "kill_switch_writes" not in active:
            return entry, False, start_mode
        if mode == "review_only":
            record["status"] = "pending_review"
            if "review_writes" in active:
                await assign(ops, client, entry, headers, active)
            return entry, False, start_mode
        status = await assign(ops, client, entry, headers, active)
        record["status"] = "manual" if mode == "disabled" else status
        return entry, status != "executed", start_mode


async def simulated_work() -> None:
    """OPS_WORK_MS of non-blocking work per decision (parsing, scoring), for load tests."""
    work_ms = float(os.environ.get("OPS_WORK_MS", "0"))
    if work_ms > 0:
        await asyncio.sleep(work_ms / 1000)


async def run(ops: Ops, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    active, started = defects(), time.perf_counter()
    ops.in_flight += 1
    snapshot = list(ops.entries) if "lose_concurrent" in active else []
    try:
        async with ops.one_at_a_time if "serialised" in active else contextlib.nullcontext():
            await simulated_work()
            entry, gave_up, start_mode = await decide(ops, body, headers, active)
        record = entry.record
        answer = {k: record[k] for k in ("decision_id", "status", "action", "confidence")}
        if not (gave_up and "no_audit_on_fault" in active) and "no_audit" not in active \
                and not (start_mode == "disabled" and "disabled_drops" in active):
            ops.save(entry, snapshot, active)
    finally:
        ops.in_flight -= 1
    ops.metrics.requests.labels(answer["status"]).inc()
    ops.metrics.seconds.observe(time.perf_counter() - started)
    return answer


# --- HTTP -------------------------------------------------------------------------------

def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def redacted(lead: dict[str, Any]) -> dict[str, Any]:
    """The input as the audit keeps it: fields in OPS_REDACT as a sha256 digest."""
    fields = {f.strip() for f in os.environ.get("OPS_REDACT", "").split(",") if f.strip()}
    return {k: "sha256:" + hashlib.sha256(str(v).encode()).hexdigest() if k in fields else v
            for k, v in lead.items()}


def traceback_of(exc: Exception) -> str:
    try:
        raise exc
    except Exception:
        return traceback.format_exc()


def forwarded(request: Request) -> dict[str, str]:
    """The tracing headers every upstream call carries on."""
    return {name: request.headers[name] for name in ("x-request-id", "traceparent")
            if name in request.headers}


def ops_of(request: Request) -> Ops:
    if not hasattr(request.app.state, "ops"):  # served without a lifespan
        request.app.state.ops = Ops()
    ops: Ops = request.app.state.ops
    return ops


def authorise(request: Request, scope: str, admin: bool = False) -> Response | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error(401, "a bearer token is required")
    tokens = {"invoke": os.environ.get("AGENT_INVOKE_TOKEN", "invoke-token"),
              "operator": os.environ.get("AGENT_OPERATOR_TOKEN", "operator-token")}
    held = next((name for name, value in tokens.items()
                 if hmac.compare_digest(token.strip().encode(), value.encode())), None)
    if held is None:
        return error(401, "this token is not valid")
    if held != scope and not (held == "invoke" and "invoke_token_can_disable" in defects()):
        return error(403, f"this token does not have the {scope} scope")
    if admin and "operator_needs_admin" in defects() and request.headers.get("x-admin") != "yes":
        return error(403, "only administrators may do this")
    return None


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    request_id, inputs = body.get("request_id"), body.get("input")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 200:
        return "request_id must be a non-empty string of at most 200 characters"
    if not isinstance(inputs, dict) or not inputs or len(inputs) > 100 \
            or any(not isinstance(v, str) or len(v) > 10_000 for v in inputs.values()):
        return "input must be an object of 1 to 100 strings of at most 10000 characters each"
    try:
        json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return "the body contains invalid Unicode (a lone surrogate)"
    return None


def immutable() -> Response:
    return JSONResponse({"error": "audit records cannot be changed"}, status_code=405,
                        headers={"Allow": "GET"})


async def invoke(request: Request) -> Response:
    if (denied := authorise(request, "invoke")) is not None:
        return denied
    body = await json_body(request)
    if (problem := invalid(body)) is not None:
        if "traceback_errors" in defects():  # a debug page: the traceback goes to the caller
            return Response(traceback_of(ValueError(problem)), status_code=500)
        return error(422, problem)
    ops = ops_of(request)
    if ops.mode == "disabled" and "disabled_503" in defects():
        return error(503, "the agent is switched off")
    task = ops.replies.get(body["request_id"])
    if task is None:  # a repeated request_id gets the first decision
        task = asyncio.create_task(run(ops, body, forwarded(request)))
        ops.replies[body["request_id"]] = task
    return JSONResponse(await asyncio.shield(task))  # a caller giving up does not stop it


async def audit_one(request: Request) -> Response:
    if (denied := authorise(request, "operator")) is not None:
        return denied
    ops, decision_id = ops_of(request), request.path_params["decision_id"]
    entry = ops.find(decision_id)
    mutable = "mutable_audit" in defects()
    if request.method == "DELETE" and mutable and entry is not None:
        ops.entries = [e for e in ops.entries if e.record["decision_id"] != decision_id]
        return JSONResponse({"decision_id": decision_id, "deleted": True})
    if request.method == "PATCH" and mutable and entry is not None:
        if isinstance(changes := await json_body(request), dict):
            entry.record.update(changes)
        return JSONResponse(entry.record)
    if request.method != "GET":
        return immutable()
    return JSONResponse(entry.record) if entry else error(404, "no such decision")


async def audit_list(request: Request) -> Response:
    if (denied := authorise(request, "operator")) is not None:
        return denied
    if request.method != "GET":
        return immutable()
    try:
        raw = request.query_params.get("since")
        since = dt.datetime.fromisoformat(raw) if raw else None
        limit = min(int(request.query_params.get("limit", "100")), 1000)
    except ValueError:
        return error(422, "since must be RFC 3339 and limit a whole number")
    if limit < 1:
        return error(422, "limit must be at least 1")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    chosen = sorted((e for e in ops_of(request).entries if since is None or e.ts >= since),
                    key=lambda e: (e.ts, e.seq), reverse="unordered_audit" in defects())
    return JSONResponse({"records": [e.record for e in chosen[:limit]]})


async def control(request: Request) -> Response:
    ops = ops_of(request)
    # the defect control_without_auth: anyone who can reach the agent can switch it off
    if "control_without_auth" not in defects() and (denied := authorise(
            request, "operator", admin=request.method == "PUT")) is not None:
        return denied
    if request.method == "PUT":
        body = await json_body(request)
        if not isinstance(body, dict) or body.get("mode") not in MODES:
            return error(422, "mode must be one of " + ", ".join(MODES))
        if body["mode"] == "active" and "active_stuck" in defects():
            return JSONResponse({"mode": "active"})  # says so, but nothing changes
        ops.mode = body["mode"]
    return JSONResponse({"mode": ops.mode})


async def review(request: Request) -> Response:
    if (denied := authorise(request, "operator")) is not None:
        return denied
    pending, seen = [], set()
    for entry in ops_of(request).entries:
        record = entry.record
        if record["status"] == "pending_review" and record["decision_id"] not in seen:
            seen.add(record["decision_id"])
            pending.append({k: record[k] for k in ("decision_id", "input", "action")})
    return JSONResponse({"pending": pending})


def _target(request: Request) -> tuple[Ops, Entry | None, str]:
    ops, decision_id = ops_of(request), request.path_params["decision_id"]
    return ops, ops.find(decision_id), decision_id


async def approve(request: Request) -> Response:
    if (denied := authorise(request, "operator", admin=True)) is not None:
        return denied
    ops, entry, decision_id = _target(request)
    if entry is None:
        return error(404, "no such decision")
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("approver"), str) \
            or not body["approver"].strip():
        return error(422, "approver must be a non-empty string")
    record = entry.record
    if record["status"] != "pending_review" or decision_id in ops.busy:
        return error(409, f"the decision is {record['status']}, not pending review")
    if ops.mode == "disabled":
        return error(409, "the agent is disabled: approvals wait until it is enabled again")
    active, status = defects(), "executed"
    ops.busy.add(decision_id)
    try:
        if "approve_no_write" not in active:
            async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_S) as client:
                status = await assign(ops, client, entry, forwarded(request), active)
    finally:
        ops.busy.discard(decision_id)
    if status == "manual":
        return error(503, f"the CRM write failed; still pending: {record['errors'][-1]}")
    record.update(status=status, approver=body["approver"])
    if status != "executed":
        return error(502, f"the CRM refused the write: {record['errors'][-1]}")
    return JSONResponse({"decision_id": decision_id, "status": "executed"})


async def revert(request: Request) -> Response:
    if (denied := authorise(request, "operator", admin=True)) is not None:
        return denied
    ops, entry, decision_id = _target(request)
    if entry is None:
        return error(404, "no such decision")
    record = entry.record
    if record["status"] != "executed" or record["reverted"] or decision_id in ops.busy:
        return error(409, "only an executed decision that is not reverted can be reverted")
    if "revert_noop" not in defects():
        if entry.assignment_id is None:
            return error(409, "the CRM did not say which assignment it made")
        path = f"/assignments/{entry.assignment_id}"
        ops.busy.add(decision_id)
        try:
            async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_S) as client:
                call = await request_upstream(
                    ops.metrics, client, "crm", "DELETE",
                    os.environ.get("CRM_BASE_URL", "").rstrip("/") + path, forwarded(request))
        finally:
            ops.busy.discard(decision_id)
        record["effects"] += [{"upstream": "crm", "method": "DELETE", "path": path,
                               "status": s} for s in call.statuses]
        ops.report("crm", call.failure)
        if call.failure is not None:
            record["errors"].append(call.note)
            return error(502, f"the revert failed: {call.note}")
    record["reverted"] = True
    return JSONResponse({"decision_id": decision_id, "status": "reverted"})


async def health(request: Request) -> Response:
    if "leaky_health" in defects():  # "handy for debugging": where it runs and what it calls
        return JSONResponse({"status": "ok", "crm": os.environ.get("CRM_BASE_URL", ""),
                             "source": os.path.abspath(__file__)})
    return JSONResponse({"status": "ok"})


async def version(request: Request) -> Response:
    return JSONResponse({"version": VERSION, "components": {}})


async def metrics(request: Request) -> Response:
    active, ops = defects(), ops_of(request)
    if "no_metrics" in active:
        return error(404, "not found")
    if "metrics_garbage" in active:
        return JSONResponse({"requests": ops.seq, "mode": ops.mode, "healthy": True})
    text = generate_latest(ops.metrics.registry).decode()
    if "metrics_no_retries" in active:
        text = "".join(line for line in text.splitlines(keepends=True)
                       if "ops_agent_upstream_retries" not in line)
    return Response(text, media_type=CONTENT_TYPE_LATEST)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.ops = ops = Ops()
    try:
        yield
    finally:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await ops.drain()


CHANGES = ["GET", "PUT", "PATCH", "DELETE"]
app = Starlette(lifespan=lifespan, routes=[
    Route("/health", health), Route("/version", version), Route("/metrics", metrics),
    Route("/invoke", invoke, methods=["POST"]),
    Route("/audit", audit_list, methods=CHANGES),
    Route("/audit/{decision_id}", audit_one, methods=CHANGES),
    Route("/control", control, methods=["GET", "PUT"]),
    Route("/review", review),
    Route("/review/{decision_id}/approve", approve, methods=["POST"]),
    Route("/decisions/{decision_id}/revert", revert, methods=["POST"]),
])


def main(argv: list[str] | None = None) -> None:
    """Serve the agent on 127.0.0.1:--port."""
    import uvicorn

    parser = argparse.ArgumentParser(description="The ops-contract test agent.")
    parser.add_argument("--port", type=int, default=9300)
    args = parser.parse_args(argv)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
