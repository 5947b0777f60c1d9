"""The production-grade lead router against the ops contract, with faked upstreams."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import EXAMPLES, INVOKE_TOKEN, LEAD, OPERATOR_TOKEN, Rig, tool_call

pytestmark = pytest.mark.anyio

AUDIT_FIELDS = {
    "decision_id", "request_id", "timestamp", "agent_version", "mode", "input", "reasoning",
    "confidence", "action", "status", "approver", "effects", "errors", "reverted",
}


def busy(status: int = 503, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "try later"}}, headers=headers)


# -- public endpoints and auth -------------------------------------------------------


async def test_public_endpoints_need_no_token(rig: Rig) -> None:
    assert (await rig.client.get("/health")).status_code == 200
    version = (await rig.client.get("/version")).json()
    assert version["version"] == "1.4.0"
    metrics = await rig.client.get("/metrics")
    assert metrics.status_code == 200
    assert "lead_router_invocations_total" in metrics.text


async def test_version_hashes_are_the_committed_files(rig: Rig) -> None:
    components = (await rig.client.get("/version")).json()["components"]
    base = EXAMPLES / "production"
    on_disk = {
        path.relative_to(base).as_posix(): "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in ("prompts", "tools", "rules")
        for path in (base / "lead_router" / folder).rglob("*") if path.is_file()
    }
    assert components == on_disk
    assert "lead_router/prompts/route_lead.md" in components


@pytest.mark.parametrize(
    ("method", "path", "token", "status"),
    [
        ("POST", "/invoke", None, 401),
        ("POST", "/invoke", "wrong", 401),
        ("POST", "/invoke", OPERATOR_TOKEN, 403),
        ("GET", "/control", None, 401),
        ("GET", "/control", INVOKE_TOKEN, 403),
        ("PUT", "/control", INVOKE_TOKEN, 403),
        ("GET", "/audit", INVOKE_TOKEN, 403),
        ("GET", "/audit/x", "wrong", 401),
        ("GET", "/review", INVOKE_TOKEN, 403),
        ("POST", "/review/x/approve", INVOKE_TOKEN, 403),
        ("POST", "/decisions/x/revert", INVOKE_TOKEN, 403),
        ("GET", "/manual", None, 401),
    ],
)
async def test_tokens_are_required_and_scoped(
    rig: Rig, method: str, path: str, token: str | None, status: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await rig.client.request(method, path, json={"mode": "disabled"}, headers=headers)
    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert rig.upstreams.llm_requests == [] and rig.router.mode == "active"


# -- invoke --------------------------------------------------------------------------


async def test_invoke_assigns_and_records_one_complete_audit_record(rig: Rig) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = await rig.invoke(headers={"X-Request-ID": "hx-1", "traceparent": traceparent})
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "executed" and answer["confidence"] == 0.82
    assert answer["action"]["type"] == "assign_lead"
    assert answer["action"]["rep_id"] == "rep-emea-midmarket"

    record = (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()
    assert set(record) == AUDIT_FIELDS
    assert record["input"] == LEAD and record["request_id"] == "req-1"
    assert record["agent_version"] == "1.4.0" and record["mode"] == "active"
    assert record["reasoning"].startswith("German company")
    assert record["approver"] is None and record["reverted"] is False and record["errors"] == []
    assert datetime.fromisoformat(record["timestamp"]).tzinfo is not None
    lead_id = answer["action"]["lead_id"]
    assert record["effects"] == [
        {"upstream": "crm", "method": "POST", "path": f"/leads/{lead_id}/assign", "status": 201}
    ]
    assert [a.lead_id for a in rig.crm.assignments.values()] == [lead_id]
    # Correlation headers reach both upstreams; the write carries an idempotency key.
    for sent in (rig.upstreams.llm_requests[0], rig.upstreams.crm_requests[0]):
        assert sent.headers["x-request-id"] == "hx-1"
        assert sent.headers["traceparent"] == traceparent
    assert rig.upstreams.crm_requests[0].headers["idempotency-key"]
    # The model got the versioned tool, forced.
    body = json.loads(rig.upstreams.llm_requests[0].content)
    assert body["tools"][0]["function"]["name"] == "assign_lead"
    assert body["tool_choice"]["function"]["name"] == "assign_lead"


async def test_repeated_request_id_returns_the_same_decision(rig: Rig) -> None:
    first = (await rig.invoke()).json()
    again = (await rig.invoke()).json()
    assert again == first
    assert len(rig.upstreams.llm_requests) == 1 and len(rig.crm.assignments) == 1
    other = await rig.invoke(lead={**LEAD, "name": "Someone Else"})
    assert other.status_code == 409


async def test_concurrent_invocations_each_leave_exactly_one_record(rig: Rig) -> None:
    ids = [f"req-{n}" for n in range(12)] + ["req-3", "req-3"]
    answers = await asyncio.gather(*(rig.invoke(rid) for rid in ids))
    assert all(a.status_code == 200 for a in answers)
    records = (await rig.op("GET", "/audit?limit=100")).json()["records"]
    assert sorted(r["request_id"] for r in records) == sorted(set(ids))
    assert len(rig.crm.assignments) == 12


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        ({"request_id": "r", "input": LEAD, "extra": 1}, 422, "unknown field"),
        ({"input": LEAD}, 422, "request_id"),
        ({"request_id": "", "input": LEAD}, 422, "request_id"),
        ({"request_id": "r" * 201, "input": LEAD}, 422, "at most 200"),
        ({"request_id": 7, "input": LEAD}, 422, "request_id"),
        ({"request_id": "r", "input": "lead"}, 422, "input must be an object"),
        ({"request_id": "r", "input": {**LEAD, "name": None}}, 422, "input.name"),
        ({"request_id": "r", "input": {k: v for k, v in LEAD.items() if k != "email"}}, 422,
         "input.email"),
        ({"request_id": "r", "input": {**LEAD, "email": "not-an-address"}}, 422, "input.email"),
        ({"request_id": "r", "input": {**LEAD, "message": "x" * 5001}}, 422, "input.message"),
        ({"request_id": "r", "input": {**LEAD, "phone": "+1"}}, 422, "unknown field"),
    ],
)
async def test_bad_input_is_a_clear_4xx_without_upstream_calls(
    rig: Rig, body: Any, status: int, says: str
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await rig.client.post(
        "/invoke", content=content, headers={"Authorization": f"Bearer {INVOKE_TOKEN}"}
    )
    assert response.status_code == status
    assert says in response.json()["error"]
    assert LEAD["email"] not in response.text
    assert rig.upstreams.llm_requests == []


# -- modes, review, revert -----------------------------------------------------------


async def test_disabled_mode_queues_for_people_and_writes_nothing(
    rig: Rig, make_rig: Callable[..., Rig]
) -> None:
    assert (await rig.op("PUT", "/control", {"mode": "disabled"})).json() == {"mode": "disabled"}
    answer = (await rig.invoke()).json()
    assert answer["status"] == "manual" and answer["action"] is None
    assert rig.upstreams.llm_requests == [] and rig.upstreams.crm_requests == []
    queued = (await rig.op("GET", "/manual")).json()["queued"]
    assert [q["decision_id"] for q in queued] == [answer["decision_id"]]
    assert (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()["mode"] == "disabled"
    # The mode is durable: a restarted agent on the same data directory is still disabled.
    restarted = make_rig()
    assert (await restarted.op("GET", "/control")).json() == {"mode": "disabled"}


async def test_bad_mode_is_rejected(rig: Rig) -> None:
    response = await rig.op("PUT", "/control", {"mode": "off"})
    assert response.status_code == 422 and "active" in response.json()["error"]


async def test_review_only_holds_the_write_until_approved(rig: Rig) -> None:
    await rig.op("PUT", "/control", {"mode": "review_only"})
    answer = (await rig.invoke()).json()
    assert answer["status"] == "pending_review" and answer["action"] is not None
    assert rig.upstreams.writes() == [] and len(rig.upstreams.llm_requests) == 1
    pending = (await rig.op("GET", "/review")).json()["pending"]
    assert [p["decision_id"] for p in pending] == [answer["decision_id"]]

    approved = await rig.op("POST", f"/review/{answer['decision_id']}/approve",
                            {"approver": "Dana Fox"})
    assert approved.json() == {"decision_id": answer["decision_id"], "status": "executed"}
    record = (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()
    assert record["approver"] == "Dana Fox" and record["status"] == "executed"
    assert [e["method"] for e in record["effects"]] == ["POST"]
    assert len(rig.crm.assignments) == 1
    assert (await rig.op("GET", "/review")).json()["pending"] == []
    again = await rig.op("POST", f"/review/{answer['decision_id']}/approve", {"approver": "X"})
    assert again.status_code == 409
    missing = await rig.op("POST", "/review/nope/approve", {"approver": "X"})
    assert missing.status_code == 404
    blank = await rig.op("POST", f"/review/{answer['decision_id']}/approve", {"approver": " "})
    assert blank.status_code == 422


async def test_kill_switch_during_the_model_call_prevents_the_write(rig: Rig) -> None:
    async def model_then_operator_disables(request: httpx.Request) -> httpx.Response:
        rig.router.set_mode("disabled")
        return tool_call()

    rig.upstreams.llm_script.append(model_then_operator_disables)
    answer = (await rig.invoke()).json()
    assert answer["status"] == "manual"
    assert rig.upstreams.writes() == []
    record = (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()
    assert record["mode"] == "disabled" and record["errors"]


async def test_revert_makes_the_compensating_delete(rig: Rig) -> None:
    answer = (await rig.invoke()).json()
    decision_id = answer["decision_id"]
    reverted = await rig.op("POST", f"/decisions/{decision_id}/revert")
    assert reverted.json() == {"decision_id": decision_id, "status": "reverted"}
    (assignment,) = rig.crm.assignments.values()
    assert assignment.deleted
    record = (await rig.op("GET", f"/audit/{decision_id}")).json()
    assert record["reverted"] is True
    assert record["effects"][-1] == {"upstream": "crm", "method": "DELETE",
                                     "path": f"/assignments/{assignment.assignment_id}",
                                     "status": 200}
    # Reverting twice is harmless and makes no second call.
    assert (await rig.op("POST", f"/decisions/{decision_id}/revert")).status_code == 200
    assert [m for m, _ in rig.upstreams.writes()] == ["POST", "DELETE"]
    queued = (await rig.op("GET", "/manual")).json()["queued"]
    assert [q["decision_id"] for q in queued] == [decision_id]
    assert (await rig.op("POST", "/decisions/unknown/revert")).status_code == 404


async def test_operator_actions_report_crm_trouble_and_change_nothing(rig: Rig) -> None:
    await rig.op("PUT", "/control", {"mode": "review_only"})
    pending = (await rig.invoke("held")).json()["decision_id"]
    rig.upstreams.crm_script.extend([busy(503)] * rig.settings.max_attempts)
    approve = await rig.op("POST", f"/review/{pending}/approve", {"approver": "Dana Fox"})
    assert approve.status_code == 502 and "still pending review" in approve.json()["error"]
    record = (await rig.op("GET", f"/audit/{pending}")).json()
    assert record["status"] == "pending_review" and record["approver"] is None
    assert [e["status"] for e in record["effects"]] == [503] * rig.settings.max_attempts

    await rig.op("PUT", "/control", {"mode": "disabled"})
    paused = await rig.op("POST", f"/review/{pending}/approve", {"approver": "Dana Fox"})
    assert paused.status_code == 409 and "disabled" in paused.json()["error"]

    await rig.op("PUT", "/control", {"mode": "active"})
    done = (await rig.invoke("done")).json()["decision_id"]
    rig.upstreams.crm_script.extend([busy(503)] * rig.settings.max_attempts)
    revert = await rig.op("POST", f"/decisions/{done}/revert")
    assert revert.status_code == 502
    assert (await rig.op("GET", f"/audit/{done}")).json()["reverted"] is False
    assert not any(a.deleted for a in rig.crm.assignments.values())


async def test_only_executed_decisions_can_be_reverted(rig: Rig) -> None:
    await rig.op("PUT", "/control", {"mode": "review_only"})
    answer = (await rig.invoke()).json()
    response = await rig.op("POST", f"/decisions/{answer['decision_id']}/revert")
    assert response.status_code == 409 and "pending_review" in response.json()["error"]


async def test_audit_is_append_only_and_queryable_by_time(rig: Rig) -> None:
    first = (await rig.invoke("a")).json()
    rig.clock.t += 60
    second = (await rig.invoke("b")).json()
    everything = (await rig.op("GET", "/audit")).json()["records"]
    assert [r["decision_id"] for r in everything] == [first["decision_id"], second["decision_id"]]
    later = (rig.clock.start + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    recent = (await rig.op("GET", f"/audit?since={later}")).json()["records"]
    assert [r["decision_id"] for r in recent] == [second["decision_id"]]
    assert len((await rig.op("GET", "/audit?limit=1")).json()["records"]) == 1
    assert (await rig.op("GET", "/audit?since=yesterday")).status_code == 400
    assert (await rig.op("GET", "/audit?limit=0")).status_code == 400
    assert (await rig.op("GET", "/audit/nope")).status_code == 404
    for method in ("PUT", "DELETE", "PATCH"):
        response = await rig.op(method, f"/audit/{first['decision_id']}", {})
        assert response.status_code == 405


# -- resilience ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "at_least"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "1", "retry-after-ms": "2500"}, 2.5),
    ],
)
async def test_retry_after_is_honoured(rig: Rig, headers: dict[str, str], at_least: float) -> None:
    rig.upstreams.llm_script.append(busy(429, **headers))
    answer = (await rig.invoke()).json()
    assert answer["status"] == "executed"
    assert len(rig.upstreams.llm_requests) == 2
    assert rig.clock.sleeps[0] >= at_least


async def test_retry_after_http_date_is_honoured(rig: Rig) -> None:
    when = format_datetime(rig.clock.now() + timedelta(seconds=5), usegmt=True)
    rig.upstreams.crm_script.append(busy(503, **{"Retry-After": when}))
    assert (await rig.invoke()).json()["status"] == "executed"
    assert rig.clock.sleeps[0] >= 5.0


async def test_backoff_is_exponential_with_full_jitter_and_bounded(rig: Rig) -> None:
    rig.upstreams.llm_script.extend([busy(503), busy(502), busy(500)])
    answer = (await rig.invoke()).json()
    assert answer["status"] == "executed"
    base = rig.settings.backoff_base_s
    assert len(rig.clock.sleeps) == 3
    for retry, delay in enumerate(rig.clock.sleeps):
        assert 0 <= delay <= min(rig.settings.backoff_cap_s, base * 2**retry)


async def test_exhausted_retries_fall_back_to_manual_and_stay_healthy(rig: Rig) -> None:
    rig.upstreams.llm_script.extend([busy(503)] * 10)
    answer = (await rig.invoke()).json()
    assert answer["status"] == "manual"
    assert len(rig.upstreams.llm_requests) == rig.settings.max_attempts
    record = (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()
    assert "server errors" in record["errors"][0]
    assert (await rig.client.get("/health")).status_code == 200


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_non_retryable_statuses_are_not_retried(rig: Rig, status: int) -> None:
    rig.upstreams.llm_script.append(busy(status))
    answer = (await rig.invoke()).json()
    assert answer["status"] == "manual"
    assert len(rig.upstreams.llm_requests) == 1 and rig.clock.sleeps == []


async def test_a_wait_longer_than_the_deadline_is_not_taken(rig: Rig) -> None:
    rig.upstreams.llm_script.append(busy(429, **{"Retry-After": "120"}))
    answer = (await rig.invoke()).json()
    assert answer["status"] == "manual"
    assert rig.clock.sleeps == [] and len(rig.upstreams.llm_requests) == 1


async def test_connection_errors_are_retried(rig: Rig) -> None:
    async def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    rig.upstreams.crm_script.append(reset)
    answer = (await rig.invoke()).json()
    assert answer["status"] == "executed"
    record = (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()
    # Both attempts are effects: the first may have reached the CRM before the reset.
    assert [e["status"] for e in record["effects"]] == [None, 201]
    assert len(rig.crm.assignments) == 1


async def test_an_upstream_that_never_answers_times_out(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(llm_timeout_s=0.05, max_attempts=2)
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        raise AssertionError("unreachable")

    rig.upstreams.llm_script.extend([hang, hang])
    answer = (await rig.invoke()).json()
    assert answer["status"] == "manual"
    record = (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()
    assert "did not answer in time" in record["errors"][0]


def _completion(message: dict[str, Any], finish: str = "stop") -> httpx.Response:
    return httpx.Response(200, json={"choices": [{"index": 0, "finish_reason": finish,
                                                  "message": {"role": "assistant", **message}}]})


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (httpx.Response(200, content=b'{"choices": [', headers={"content-type":
                                                                "application/json"}),
         "not valid JSON"),
        (httpx.Response(200, content=b"<html><body>Bad gateway</body></html>",
                        headers={"content-type": "text/html"}), "content type"),
        (httpx.Response(200, content=b"", headers={"content-type": "application/json"}),
         "not valid JSON"),
        (httpx.Response(200, content=b"\xff\xfe{}", headers={"content-type":
                                                             "application/json"}), "UTF-8"),
        (httpx.Response(200, json={"id": "x"}), "no choices"),
        (_completion({"content": "I think Tomasz."}), "without calling"),
        (_completion({"content": None, "refusal": "I can't help with that."}), "refused"),
        (_completion({"content": None, "tool_calls": []}, "length"), "cut off"),
        (tool_call(name="delete_all_leads"), "unknown tool"),
        (tool_call(arguments='{"rep_id": "rep-apac", "confidence": 0.'), "not valid JSON"),
        (tool_call(arguments='{"rep_id": "rep-apac"}'), "lack confidence, reason"),
        (tool_call(rep_id="rep-ceo"), "does not exist"),
        (tool_call(confidence=1.7), "between 0 and 1"),
        (tool_call(arguments='{"rep_id": "rep-apac", "confidence": true, "reason": "r"}'),
         "between 0 and 1"),
        (tool_call(reason="  "), "no reason"),
    ],
)
async def test_unusable_model_answers_fall_back_to_manual(
    rig: Rig, reply: httpx.Response, says: str
) -> None:
    rig.upstreams.llm_script.append(reply)
    response = await rig.invoke()
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "manual"
    assert rig.upstreams.writes() == []
    record = (await rig.op("GET", f"/audit/{answer['decision_id']}")).json()
    assert any(says in error for error in record["errors"]), record["errors"]
    assert (await rig.op("GET", "/manual")).json()["queued"][0]["decision_id"] == (
        answer["decision_id"]
    )


async def test_an_unreadable_crm_reply_is_retried_under_the_same_idempotency_key(
    rig: Rig,
) -> None:
    async def write_then_garble(request: httpx.Request) -> httpx.Response:
        # The write lands in the CRM, but its answer is lost behind an HTML error page.
        await httpx.ASGITransport(app=rig.upstreams.crm_app).handle_async_request(request)
        return httpx.Response(200, content=b"<html>oops</html>",
                              headers={"content-type": "text/html"})

    rig.upstreams.crm_script.append(write_then_garble)
    answer = (await rig.invoke()).json()
    assert answer["status"] == "executed"
    keys = {r.headers["idempotency-key"] for r in rig.upstreams.crm_requests}
    assert len(rig.upstreams.crm_requests) == 2 and len(keys) == 1
    assert len(rig.crm.assignments) == 1


async def test_a_crm_rejection_is_failed_and_queued(rig: Rig) -> None:
    rig.upstreams.crm_script.append(httpx.Response(409, json={"error": "lead is assigned"}))
    answer = (await rig.invoke()).json()
    assert answer["status"] == "failed"
    assert len(rig.upstreams.crm_requests) == 1
    assert (await rig.op("GET", "/manual")).json()["queued"][0]["reason"]


# -- alerts, metrics, logs -----------------------------------------------------------


async def test_a_sustained_crm_outage_alerts_once_in_plain_english_then_recovers(
    rig: Rig,
) -> None:
    rig.upstreams.crm_script.extend([busy(503)] * 4 * 4)
    for n in range(4):
        assert (await rig.invoke(f"out-{n}")).json()["status"] == "manual"
    await rig.router.alerts.drain()
    (incident,) = rig.upstreams.alerts
    assert incident.startswith("Lead router: leads are not being assigned.")
    assert "The CRM" in incident and "server errors" in incident
    assert "Priya Raman" in incident and "+44 20 7946 0123" in incident
    for internal in ("{", "}", "Traceback", "Error", "Exception", "503", LEAD["email"]):
        assert internal not in incident

    assert (await rig.invoke("back")).json()["status"] == "executed"
    await rig.router.alerts.drain()
    assert len(rig.upstreams.alerts) == 2
    assert rig.upstreams.alerts[1].startswith("Lead router: recovered.")
    metrics = (await rig.client.get("/metrics")).text
    assert 'lead_router_alerts_total{kind="incident"} 1.0' in metrics


async def test_failures_sustained_over_time_alert_even_when_few_calls_end(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(alert_after_failures=100, alert_after_s=10.0)
    rig.upstreams.llm_script.extend([busy(429, **{"Retry-After": "4"})] * 4)
    assert (await rig.invoke()).json()["status"] == "manual"
    await rig.router.alerts.drain()
    (incident,) = rig.upstreams.alerts
    assert "AI model service" in incident and "rate limiting" in incident


async def test_a_broken_alert_sink_never_breaks_an_invocation(rig: Rig) -> None:
    rig.upstreams.alert_status = 500
    rig.upstreams.crm_script.extend([busy(503)] * 16)
    for n in range(4):
        assert (await rig.invoke(f"out-{n}")).status_code == 200
    await rig.router.alerts.drain()
    assert len(rig.upstreams.alerts) == 1


async def test_alerts_can_also_go_by_email(
    make_rig: Callable[..., Rig], monkeypatch: pytest.MonkeyPatch
) -> None:
    import lead_router.alerts as alerts_module

    sent: list[tuple[str, int, str, str]] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            self.host, self.port = host, port

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def send_message(self, message: Any) -> None:
            sent.append((self.host, self.port, message["To"], message.get_content()))

    monkeypatch.setattr(alerts_module.smtplib, "SMTP", FakeSMTP)
    rig = make_rig(alert_webhook_url=None, alert_smtp_host="mail.test", alert_smtp_port=2525)
    rig.upstreams.crm_script.extend([busy(503)] * 16)
    for n in range(4):
        await rig.invoke(f"mail-{n}")
    await rig.router.alerts.drain()
    (mail,) = sent
    assert mail[:3] == ("mail.test", 2525, "priya.raman@brightfield-sales.io")
    assert mail[3].startswith("Lead router: leads are not being assigned.")
    assert rig.upstreams.alerts == []


async def test_lead_data_stays_out_of_logs_metrics_and_alerts(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rig.upstreams.crm_script.extend([busy(503)] * 16)
    for n in range(4):
        await rig.invoke(f"pii-{n}")
    rig.upstreams.llm_script.append(tool_call(rep_id=LEAD["email"]))
    await rig.invoke("pii-model-echo")
    await rig.router.alerts.drain()
    exposed = "\n".join(
        [caplog.text, *(str(r.__dict__) for r in caplog.records),
         (await rig.client.get("/metrics")).text, *rig.upstreams.alerts]
    )
    for value in LEAD.values():
        assert value not in exposed
    assert any(getattr(r, "fields", {}).get("decision_id") for r in caplog.records)


# -- startup -------------------------------------------------------------------------


def test_missing_tokens_refuse_to_start() -> None:
    from lead_router.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="AGENT_INVOKE_TOKEN is not set"):
        load_settings({"AGENT_OPERATOR_TOKEN": "x"})
    with pytest.raises(SettingsError, match="AGENT_DEADLINE_S"):
        load_settings({"AGENT_INVOKE_TOKEN": "a", "AGENT_OPERATOR_TOKEN": "b",
                       "LLM_BASE_URL": "u", "CRM_BASE_URL": "u", "AGENT_DEADLINE_S": "soon"})


def test_tool_enum_and_rules_must_agree(tmp_path: Path) -> None:
    from lead_router.components import load_components
    from lead_router.settings import SettingsError

    package = tmp_path / "lead_router"
    shutil.copytree(EXAMPLES / "production" / "lead_router", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    tool = package / "tools" / "assign_lead.json"
    tool.write_text(tool.read_text().replace('"rep-apac",', '"rep-apac", "rep-ghost",'))
    with pytest.raises(SettingsError, match="rep-ghost"):
        load_components(package)


def test_retention_purges_old_decisions_only(tmp_path: Path) -> None:
    from lead_router.store import Decision, Store

    store = Store(tmp_path / "audit.sqlite3")
    for rid, stamp in (("old", "2026-01-01T00:00:00.000000Z"),
                       ("new", "2026-11-20T00:00:00.000000Z")):
        store.insert(Decision(rid, rid, stamp, "1.4.0", "disabled", LEAD), queue_reason="test")
    assert store.purge("2026-06-01T00:00:00.000000Z") == 1
    assert store.get("old") is None and store.get("new") is not None
    assert [d.decision_id for d, _, _ in store.manual_queue()] == ["new"]
    store.close()


def test_retry_after_parsing() -> None:
    from lead_router.upstream import retry_after_s

    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    table: list[tuple[dict[str, str], float | None]] = [
        ({}, None),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": later}, 30.0),
        ({"retry-after": format_datetime(now - timedelta(seconds=30), usegmt=True)}, 0.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "x", "retry-after": "2"}, 2.0),
    ]
    for headers, expected in table:
        assert retry_after_s(httpx.Headers(headers), now) == expected, headers


# -- the demo grade, for contrast ----------------------------------------------------


async def test_the_demo_routes_a_clean_lead_but_checks_nothing(
    monkeypatch: pytest.MonkeyPatch, rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    from lead_router_demo import app as demo

    monkeypatch.setenv("LLM_BASE_URL", "http://llm.test/v1")
    monkeypatch.setenv("CRM_BASE_URL", "http://crm.test")
    monkeypatch.setattr(demo, "client", lambda: httpx.AsyncClient(
        transport=httpx.MockTransport(rig.upstreams.handle)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=demo.app), base_url="http://d")
    answer = await client.post("/invoke", json={"request_id": "d1", "input": LEAD})
    assert answer.status_code == 200 and answer.json()["status"] == "executed"
    assert (await client.get("/version")).json() == {"version": "dev"}
    assert LEAD["email"] in capsys.readouterr().out  # it prints the lead: a PII leak
    rig.upstreams.llm_script.append(tool_call(arguments="{oops"))
    with pytest.raises(json.JSONDecodeError):  # no fallback: the exception escapes
        await client.post("/invoke", json={"request_id": "d2", "input": LEAD})
