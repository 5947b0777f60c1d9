"""tests/agents/ops_agent.py keeps the ops contract, and each OPS_DEFECTS entry breaks its part.

The agent runs in-process (ASGI lifespan included); its LLM, CRM and alert webhook are
respx mocks. Concurrency is forced with a barrier in the mocked model, never with sleeps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import ops_agent
import ops_agent_alerts
import pytest
import respx
from prometheus_client.parser import text_string_to_metric_families

from readiness.asgi import lifespan
from readiness.contract import AUDIT_FIELDS

LLM = "http://llm.test/v1"
CRM = "http://crm.test"
HOOK = "http://hooks.test/alert"
INVOKE = {"Authorization": "Bearer invoke-token"}
OPERATOR = {"Authorization": "Bearer operator-token"}
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

Reply = httpx.Response | Awaitable[httpx.Response]


def completion(rep: str = "rep-apac", confidence: float = 0.8,
               reason: str = "an APAC lead") -> httpx.Response:
    """An OpenAI chat completion calling assign_lead."""
    arguments = json.dumps({"rep_id": rep, "confidence": confidence, "reason": reason})
    return httpx.Response(200, json={
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [{
            "index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": None, "tool_calls": [{
                    "id": "call-1", "type": "function",
                    "function": {"name": "assign_lead", "arguments": arguments}}]}}]})


@dataclass
class World:
    """The agent in-process, its mocked upstreams, and shortcuts to drive it."""

    client: httpx.AsyncClient
    routes: dict[str, respx.Route]
    model: Callable[[httpx.Request], Reply] = lambda request: completion()
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def ops(self) -> Any:
        return ops_agent.app.state.ops

    def calls(self, name: str) -> int:
        return self.routes[name].call_count

    def alerts(self) -> list[str]:
        return [json.loads(c.request.content)["text"] for c in self.routes["hook"].calls]

    async def invoke(self, request_id: str = "req-1", **headers: str) -> dict[str, Any]:
        reply = await self.client.post("/invoke", headers={**INVOKE, **headers},
                                       json={"request_id": request_id,
                                             "input": {"company": "Acme KK", "region": "APAC"}})
        assert reply.status_code == 200, reply.text
        answer: dict[str, Any] = reply.json()
        return answer

    async def record(self, decision_id: str) -> dict[str, Any]:
        reply = await self.client.get(f"/audit/{decision_id}", headers=OPERATOR)
        assert reply.status_code == 200, reply.text
        record: dict[str, Any] = reply.json()
        return record

    async def listing(self, **params: str) -> list[dict[str, Any]]:
        reply = await self.client.get("/audit", params=params, headers=OPERATOR)
        assert reply.status_code == 200, reply.text
        records: list[dict[str, Any]] = reply.json()["records"]
        return records

    async def set_mode(self, mode: str, **headers: str) -> int:
        reply = await self.client.put("/control", json={"mode": mode},
                                      headers={**OPERATOR, **headers})
        return reply.status_code


def run_world(body: Callable[[World], Awaitable[Any]]) -> Any:
    """Start the agent with mocked upstreams, run `body`, stop the agent (draining alerts)."""

    async def main() -> Any:
        with respx.mock(assert_all_called=False) as mock:
            world = World(httpx.AsyncClient(transport=httpx.ASGITransport(ops_agent.app),
                                            base_url="http://agent.test"), {})

            def assign(request: httpx.Request) -> httpx.Response:
                return httpx.Response(201, json={"assignment_id": f"asg-{next(world.counter)}"})

            world.routes.update(
                llm=mock.post(f"{LLM}/chat/completions").mock(
                    side_effect=lambda request: world.model(request)),
                assign=mock.post(url__regex=rf"^{CRM}/leads/[^/]+/assign$").mock(
                    side_effect=assign),
                delete=mock.delete(url__regex=rf"^{CRM}/assignments/[^/]+$").respond(
                    200, json={"status": "deleted"}),
                hook=mock.post(HOOK).respond(200, text="ok"))
            async with lifespan(ops_agent.app, 5), world.client:
                return await body(world)

    return asyncio.run(main())


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"LLM_BASE_URL": LLM, "CRM_BASE_URL": CRM,
                        "ALERT_WEBHOOK_URL": HOOK}.items():
        monkeypatch.setenv(name, value)
    for name in ("OPS_DEFECTS", "ALERT_SMTP_HOST", "AGENT_INVOKE_TOKEN", "AGENT_OPERATOR_TOKEN",
                 "OPS_AGENT_NAME", "OPS_OWNER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(ops_agent_alerts, "BACKOFF_BASE_S", 0.0)


def failing(status: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json={"error": {"message": "down"}})


def barrier(n: int) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """A model that answers only once `n` requests are waiting on it: they overlap."""
    arrived, everyone = [0], asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        arrived[0] += 1
        if arrived[0] >= n:
            everyone.set()
        await everyone.wait()
        return completion()

    return answer


# --- the well-behaved agent ---------------------------------------------------------------

def test_an_invocation_writes_once_and_audits_every_field() -> None:
    async def body(w: World) -> None:
        answer = await w.invoke("req-1", **{"X-Request-ID": "req-1", "traceparent": TRACEPARENT})
        assert answer["status"] == "executed" and answer["confidence"] == 0.8
        assert answer["action"]["type"] == "assign_lead"
        assert answer["action"]["rep_id"] == "rep-apac"
        upstream = [w.routes["llm"].calls.last.request, w.routes["assign"].calls.last.request]
        for request in upstream:
            assert request.headers["x-request-id"] == "req-1"
            assert request.headers["traceparent"] == TRACEPARENT
        assert upstream[1].headers["idempotency-key"] == answer["decision_id"]
        llm_body = json.loads(upstream[0].content)
        assert llm_body["tool_choice"] == "required"
        assert llm_body["tools"][0]["function"]["name"] == "assign_lead"
        record = await w.record(answer["decision_id"])
        assert set(AUDIT_FIELDS) <= set(record)
        lead = answer["action"]["lead_id"]
        assert record["effects"] == [{"upstream": "crm", "method": "POST",
                                      "path": f"/leads/{lead}/assign", "status": 201}]
        assert (record["agent_version"], record["mode"], record["status"]) == (
            "1.4.0", "active", "executed")
        assert (record["approver"], record["reverted"], record["errors"]) == (None, False, [])
        assert record["reasoning"] == "an APAC lead"
        assert dt.datetime.fromisoformat(record["timestamp"]).utcoffset() == dt.timedelta(0)
        again = await w.invoke("req-1")
        assert again["decision_id"] == answer["decision_id"]
        assert (w.calls("llm"), w.calls("assign"), len(await w.listing())) == (1, 1, 1)

    run_world(body)


def test_tokens_are_checked_by_scope() -> None:
    async def body(w: World) -> None:
        payload = {"request_id": "r", "input": {"a": "b"}}
        assert (await w.client.post("/invoke", json=payload)).status_code == 401
        assert (await w.client.post("/invoke", json=payload, headers=OPERATOR)).status_code == 403
        assert (await w.client.get("/audit", headers=INVOKE)).status_code == 403
        assert (await w.client.put("/control", json={"mode": "disabled"})).status_code == 401
        for path in ("/health", "/version", "/metrics"):
            assert (await w.client.get(path)).status_code == 200, path
        bad = await w.client.post("/invoke", json={"request_id": 3, "input": {}}, headers=INVOKE)
        assert bad.status_code == 422 and "error" in bad.json()
        empty = await w.client.post("/invoke", json={"request_id": "r", "input": {}},
                                    headers=INVOKE)
        assert empty.status_code == 422
        assert await w.set_mode("sleepy") == 422

    run_world(body)


def test_disabled_answers_manual_without_any_upstream_call() -> None:
    async def body(w: World) -> None:
        assert await w.set_mode("disabled") == 200
        answer = await w.invoke()
        assert (answer["status"], w.calls("llm"), w.calls("assign")) == ("manual", 0, 0)
        record = await w.record(answer["decision_id"])
        assert (record["mode"], record["status"], record["effects"]) == ("disabled", "manual", [])

    run_world(body)


def test_review_then_approve_writes_once() -> None:
    async def body(w: World) -> None:
        assert await w.set_mode("review_only") == 200
        answer = await w.invoke()
        assert (answer["status"], w.calls("assign")) == ("pending_review", 0)
        pending = (await w.client.get("/review", headers=OPERATOR)).json()["pending"]
        assert [p["decision_id"] for p in pending] == [answer["decision_id"]]
        url = f"/review/{answer['decision_id']}/approve"
        approved = await w.client.post(url, json={"approver": "dana"}, headers=OPERATOR)
        assert approved.json() == {"decision_id": answer["decision_id"], "status": "executed"}
        record = await w.record(answer["decision_id"])
        assert (record["status"], record["approver"], w.calls("assign")) == (
            "executed", "dana", 1)
        assert [e["status"] for e in record["effects"]] == [201]
        again = await w.client.post(url, json={"approver": "dana"}, headers=OPERATOR)
        unknown = await w.client.post("/review/nope/approve", json={"approver": "dana"},
                                      headers=OPERATOR)
        assert (again.status_code, unknown.status_code) == (409, 404)

    run_world(body)


def test_revert_deletes_the_assignment() -> None:
    async def body(w: World) -> None:
        answer = await w.invoke()
        url = f"/decisions/{answer['decision_id']}/revert"
        reverted = await w.client.post(url, headers=OPERATOR)
        assert reverted.json() == {"decision_id": answer["decision_id"], "status": "reverted"}
        assert w.routes["delete"].calls.last.request.url.path == "/assignments/asg-1"
        record = await w.record(answer["decision_id"])
        assert record["reverted"] is True
        assert record["effects"][-1] == {"upstream": "crm", "method": "DELETE",
                                         "path": "/assignments/asg-1", "status": 200}
        assert (await w.client.post(url, headers=OPERATOR)).status_code == 409

    run_world(body)


def test_a_mode_flip_during_the_model_call_stops_the_write() -> None:
    async def body(w: World) -> None:
        def flip(request: httpx.Request) -> httpx.Response:
            w.ops.mode = "disabled"
            return completion()

        w.model = flip
        answer = await w.invoke()
        record = await w.record(answer["decision_id"])
        assert (answer["status"], record["mode"], w.calls("assign")) == ("manual", "disabled", 0)

    run_world(body)


@pytest.mark.parametrize(("reply", "status", "effects", "error"), [
    (failing(503), "manual", [503, 503, 503], "the CRM kept answering 503 after 3 attempts"),
    (failing(409), "failed", [409], "the CRM answered 409; the request was not retried"),
    (httpx.ConnectError("refused"), "manual", [None, None, None],
     "the CRM could not be reached after 3 attempts (ConnectError)"),
])
def test_crm_faults_are_recorded_attempt_by_attempt(reply: Any, status: str,
                                                    effects: list[int | None],
                                                    error: str) -> None:
    async def body(w: World) -> None:
        w.routes["assign"].side_effect = reply
        answer = await w.invoke()
        record = await w.record(answer["decision_id"])
        assert (answer["status"], [e["status"] for e in record["effects"]]) == (status, effects)
        assert record["errors"] == [error]

    run_world(body)


@pytest.mark.parametrize("reply", [
    httpx.Response(200, text="not json"),
    httpx.Response(200, json={"choices": []}),
    completion(rep="rep-mars"),
    completion(confidence=7),
])
def test_unusable_model_answers_go_to_people(reply: httpx.Response) -> None:
    async def body(w: World) -> None:
        w.model = lambda request: reply
        answer = await w.invoke()
        record = await w.record(answer["decision_id"])
        assert (answer["status"], answer["action"], w.calls("assign")) == ("manual", None, 0)
        assert record["errors"][0].startswith("the model's answer could not be used")

    run_world(body)


def test_retry_after_is_honoured_or_the_call_gives_up() -> None:
    async def body(w: World) -> None:
        replies = iter([httpx.Response(429, headers={"retry-after-ms": "5"}), completion(),
                        httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 "
                                                                    "GMT"})])
        w.model = lambda request: next(replies)
        assert (await w.invoke("req-1"))["status"] == "executed"
        answer = await w.invoke("req-2")
        record = await w.record(answer["decision_id"])
        assert (answer["status"], w.calls("llm")) == ("manual", 3)
        assert record["errors"][0].startswith("the model service answered 429 and asked us to "
                                              "wait")

    run_world(body)


def test_one_alert_after_three_failures_and_one_on_recovery(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mails: list[Any] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            assert (host, port) == ("127.0.0.1", 2525)

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def send_message(self, message: Any) -> None:
            mails.append(message)

    monkeypatch.setattr(ops_agent_alerts.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ALERT_SMTP_PORT", "2525")

    async def body(w: World) -> None:
        w.model = failing(503)
        for n in range(5):
            answer = await w.invoke(f"req-{n}")
            await w.ops.drain()
            assert len(w.alerts()) == (1 if n >= 2 else 0)
            record = await w.record(answer["decision_id"])
            assert record["errors"] == ["the model service kept answering 503 after 3 attempts"]
        assert w.alerts()[0] == (
            "ops-agent: leads are not being routed. The AI model service has failed 3 leads in "
            "a row; it answers with server errors, likely an outage at the provider. New leads "
            "wait in the manual queue. Call Dana Whitfield (dana.whitfield@example.com, "
            "+1 555 0100).")
        w.model = lambda request: completion()
        await w.invoke("req-ok")
        await w.invoke("req-ok-2")
        await w.ops.drain()
        assert w.alerts()[1:] == [
            "ops-agent: recovered. The AI model service is answering again; leads are being "
            "routed."]
        assert [m["Subject"] for m in mails] == ["ops-agent: leads are not being routed.",
                                                "ops-agent: recovered."]
        metrics = (await w.client.get("/metrics")).text
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in text_string_to_metric_families(metrics)
                   for s in family.samples}
        assert samples[("ops_agent_upstream_retries_total", (("upstream", "llm"),))] == 10
        assert samples[("ops_agent_requests_total", (("status", "manual"),))] == 5
        assert samples[("ops_agent_errors_total", (("kind", "llm_server_error"),))] == 5
        assert samples[("ops_agent_request_seconds_count", ())] == 7

    run_world(body)


def test_concurrent_invocations_are_each_recorded_once() -> None:
    async def body(w: World) -> None:
        w.model = barrier(4)
        answers = await asyncio.gather(*(w.invoke(f"req-{n}") for n in range(4)))
        listed = [r["decision_id"] for r in await w.listing()]
        assert sorted(listed) == sorted(a["decision_id"] for a in answers)

    run_world(body)


def test_the_listing_is_oldest_first_paged_and_immutable() -> None:
    async def body(w: World) -> None:
        ids = [(await w.invoke(f"req-{n}"))["decision_id"] for n in range(3)]
        records = await w.listing()
        assert [r["decision_id"] for r in records] == ids
        assert [r["decision_id"] for r in await w.listing(limit="2")] == ids[:2]
        later = await w.listing(since=records[1]["timestamp"])
        assert [r["decision_id"] for r in later] == ids[1:]
        for method in ("PUT", "PATCH", "DELETE"):
            reply = await w.client.request(method, f"/audit/{ids[0]}", json={"status": "x"},
                                           headers=OPERATOR)
            assert reply.status_code == 405, method
        assert (await w.record(ids[0]))["status"] == "executed"
        bad = await w.client.get("/audit", params={"since": "yesterday"}, headers=OPERATOR)
        assert bad.status_code == 422

    run_world(body)


def test_each_startup_begins_with_fresh_state() -> None:
    async def first(w: World) -> None:
        await w.set_mode("review_only")
        await w.invoke()

    async def second(w: World) -> tuple[int, str]:
        mode = (await w.client.get("/control", headers=OPERATOR)).json()["mode"]
        return len(await w.listing()), mode

    run_world(first)
    assert run_world(second) == (0, "active")


# --- each defect changes the behaviour it names ----------------------------------------

async def one_invocation(w: World) -> dict[str, Any]:
    answer = await w.invoke()
    return {"record": await w.record(answer["decision_id"]), "assigns": w.calls("assign"),
            "deletes": w.calls("delete")}


async def overlapping(w: World) -> dict[str, Any]:
    w.model = barrier(4)
    await asyncio.gather(*(w.invoke(f"req-{n}") for n in range(4)))
    return {"listed": [r["decision_id"] for r in await w.listing()]}


async def model_outage_one_call(w: World) -> dict[str, Any]:
    w.model = failing(503)
    answer = await w.invoke()
    reply = await w.client.get(f"/audit/{answer['decision_id']}", headers=OPERATOR)
    return {"answer": answer, "audit_status": reply.status_code}


async def mutate(w: World) -> dict[str, Any]:
    decision_id = (await w.invoke())["decision_id"]
    url = f"/audit/{decision_id}"
    patched = await w.client.patch(url, json={"status": "failed"}, headers=OPERATOR)
    deleted = await w.client.delete(url, headers=OPERATOR)
    return {"patch": patched.status_code, "delete": deleted.status_code,
            "after": (await w.client.get(url, headers=OPERATOR)).status_code}


async def three_in_order(w: World) -> dict[str, Any]:
    ids = [(await w.invoke(f"req-{n}"))["decision_id"] for n in range(3)]
    return {"ids": ids, "listed": [r["decision_id"] for r in await w.listing()]}


async def disabled(w: World) -> dict[str, Any]:
    await w.set_mode("disabled")
    answer = await w.invoke()
    return {"status": answer["status"], "assigns": w.calls("assign"),
            "records": len(await w.listing())}


async def audited(w: World) -> dict[str, Any]:
    answer = await w.invoke()
    reply = await w.client.get(f"/audit/{answer['decision_id']}", headers=OPERATOR)
    return {"audit_status": reply.status_code, "records": len(await w.listing())}


async def disabled_reply(w: World) -> dict[str, Any]:
    await w.set_mode("disabled")
    reply = await w.client.post("/invoke", headers=INVOKE, json={
        "request_id": "req-1", "input": {"company": "Acme KK", "region": "APAC"}})
    return {"status": reply.status_code, "body": reply.json()}


async def disabled_then_active(w: World) -> dict[str, Any]:
    await w.set_mode("disabled")
    reply = await w.client.put("/control", json={"mode": "active"}, headers=OPERATOR)
    return {"answer": reply.json()["mode"], "mode": w.ops.mode,
            "status": (await w.invoke())["status"]}


async def health(w: World) -> dict[str, Any]:
    return {"health": (await w.client.get("/health")).json()}


async def flipped_mid_call(w: World) -> dict[str, Any]:
    def flip(request: httpx.Request) -> httpx.Response:
        w.ops.mode = "disabled"
        return completion()

    w.model = flip
    return {"status": (await w.invoke())["status"], "assigns": w.calls("assign")}


async def review_and_approve(w: World) -> dict[str, Any]:
    await w.set_mode("review_only")
    answer = await w.invoke()
    before = w.calls("assign")
    approved = await w.client.post(f"/review/{answer['decision_id']}/approve",
                                   json={"approver": "dana"}, headers=OPERATOR)
    return {"status": answer["status"], "before": before, "approve": approved.status_code,
            "after": w.calls("assign")}


async def revert(w: World) -> dict[str, Any]:
    answer = await w.invoke()
    reply = await w.client.post(f"/decisions/{answer['decision_id']}/revert", headers=OPERATOR)
    return {"revert": reply.status_code, "deletes": w.calls("delete")}


async def operator_acts(w: World) -> dict[str, Any]:
    return {"control": await w.set_mode("review_only")}


async def outage_and_recovery(w: World) -> dict[str, Any]:
    w.model = failing(503)
    for n in range(4):
        await w.invoke(f"req-{n}")
    w.model = lambda request: completion()
    await w.invoke("req-ok")
    await w.ops.drain()
    return {"alerts": w.alerts()}


async def scrape(w: World) -> dict[str, Any]:
    w.model = failing(503)
    await w.invoke()
    reply = await w.client.get("/metrics")
    return {"status": reply.status_code, "text": reply.text}


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


Scenario = Callable[[World], Awaitable[dict[str, Any]]]
DEFECTS: list[tuple[str, Scenario, Callable[[dict[str, Any]], bool]]] = [
    ("omit_effect", one_invocation, lambda o: o["assigns"] == 1 and o["record"]["effects"] == []),
    ("invent_effect", one_invocation, lambda o: o["deletes"] == 0 and any(
        e["method"] == "DELETE" for e in o["record"]["effects"])),
    ("sparse_audit", one_invocation, lambda o: o["record"]["timestamp"] == "yesterday"
     and o["record"]["reasoning"] is None and o["record"]["confidence"] is None),
    ("lose_concurrent", overlapping, lambda o: len(set(o["listed"])) < 4),
    ("duplicate_concurrent", overlapping, lambda o: len(o["listed"]) > len(set(o["listed"]))),
    ("no_audit_on_fault", model_outage_one_call, lambda o: o["audit_status"] == 404),
    ("mutable_audit", mutate, lambda o: (o["patch"], o["delete"], o["after"]) == (200, 200, 404)),
    ("unordered_audit", three_in_order, lambda o: o["listed"] == o["ids"][::-1]),
    ("no_audit", audited, lambda o: o["audit_status"] == 404 and o["records"] == 0),
    ("disabled_503", disabled_reply, lambda o: o["status"] == 503),
    ("active_stuck", disabled_then_active,
     lambda o: o["answer"] == "active" and o["mode"] == "disabled" and o["status"] == "manual"),
    ("leaky_health", health, lambda o: str(o["health"].get("source")).endswith("ops_agent.py")),
    ("kill_switch_writes", disabled, lambda o: o["status"] == "manual" and o["assigns"] == 1),
    ("disabled_drops", disabled, lambda o: o["status"] == "manual" and o["records"] == 0),
    ("stale_mode", flipped_mid_call, lambda o: o["status"] == "executed" and o["assigns"] == 1),
    ("review_writes", review_and_approve,
     lambda o: o["status"] == "pending_review" and o["before"] == 1),
    ("approve_no_write", review_and_approve, lambda o: o["approve"] == 200 and o["after"] == 0),
    ("revert_noop", revert, lambda o: o["revert"] == 200 and o["deletes"] == 0),
    ("operator_needs_admin", operator_acts, lambda o: o["control"] == 403),
    ("alert_traceback", outage_and_recovery,
     lambda o: o["alerts"][0].startswith("Traceback") and "HTTPStatusError" in o["alerts"][0]),
    ("alert_json", outage_and_recovery, lambda o: is_json(o["alerts"][0])),
    ("alert_vague", outage_and_recovery, lambda o: o["alerts"][0].startswith("Heads up")
     and "ops-agent" not in o["alerts"][0]),
    ("alert_storm", outage_and_recovery, lambda o: len(o["alerts"]) > 2),
    ("no_recovery", outage_and_recovery,
     lambda o: len(o["alerts"]) == 1 and "recovered" not in o["alerts"][0]),
    ("no_alerts", outage_and_recovery, lambda o: o["alerts"] == []),
    ("no_metrics", scrape, lambda o: o["status"] == 404),
    ("metrics_garbage", scrape, lambda o: o["status"] == 200 and is_json(o["text"])),
    ("metrics_no_retries", scrape, lambda o: "ops_agent_upstream_retries" not in o["text"]),
]


@pytest.mark.parametrize(("defect", "scenario", "shows"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_changes_what_it_names(defect: str, scenario: Scenario,
                                           shows: Callable[[dict[str, Any]], bool],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert not shows(run_world(scenario)), "the well-behaved agent already shows it"
    monkeypatch.setenv("OPS_DEFECTS", f"not_a_defect, {defect}")
    assert shows(run_world(scenario))


def test_the_defect_list_is_documented() -> None:
    doc = ops_agent.__doc__ or ""
    assert all(f"    {name} " in doc for name, _, _ in DEFECTS)
    assert len(DEFECTS) == 28
