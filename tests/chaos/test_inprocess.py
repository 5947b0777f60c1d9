"""The in-process injector: same faults via respx, genuine httpx errors, identical records."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from json_target import Target, run

from readiness.chaos.faults import Fault
from readiness.chaos.inprocess import (
    HttpTarget,
    InProcessInjector,
    invalid_base_url,
    uncovered_clients,
)
from readiness.chaos.messages import Request, Response
from readiness.chaos.proxy import RecordingProxy
from readiness.chaos.recorder import Exchange, Recorder
from readiness.chaos.schedule import FaultSchedule, Rule
from readiness.chaos.server import HttpServer
from readiness.chaos.sim_openai import OpenAISimulator

BASE = invalid_base_url("crm", "")
LEAD = {"id": 7, "name": "Ada Lovelace", "tags": ["vip"]}




@asynccontextmanager
async def injected(
    *rules: Rule, target: Any = None, timeout: float | None = 5.0
) -> AsyncIterator[tuple[httpx.AsyncClient, Recorder]]:
    """An httpx client whose calls to BASE go through an InProcessInjector with `rules`."""
    schedule, recorder = FaultSchedule(), Recorder()
    for rule in rules:
        schedule.add(rule)
    with InProcessInjector(schedule, recorder, {"crm": BASE}, {"crm": target or Target(LEAD)}):
        async with httpx.AsyncClient(base_url=BASE, timeout=timeout) as client:
            yield client, recorder


def comparable(exchange: Exchange) -> dict[str, Any]:
    """An exchange's fields minus what necessarily differs (seq, times, Host)."""
    fields = exchange.to_json()
    for key in ("seq", "started_at", "ended_at"):
        del fields[key]
    fields["request_headers"] = [p for p in fields["request_headers"] if p[0].lower() != "host"]
    return fields


PARITY = [
    None,
    Fault("rate_limit", {"retry_after": 2}),
    Fault("server_error", {"status": 502}),
    Fault("timeout"),
    Fault("timeout", {"forward": True}),
    Fault("latency", {"ms": 20}),
    Fault("latency", {"ms": 5000}),  # past the client's read timeout
    Fault("reset"),
    Fault("reset", {"when": "before"}),
    Fault("refused"),
    Fault("slow_body", {"chunk": 8, "interval_ms": 2}),
    Fault("huge_body", {"mb": 0.2}),
    Fault("truncated_json"),
    Fault("invalid_json"),
    Fault("html_error_page"),
    Fault("empty_body"),
    Fault("wrong_content_type"),
    Fault("missing_field"),
    Fault("wrong_type"),
    Fault("null_field"),
    Fault("schema_drift"),
    Fault("invalid_utf8"),
]


async def call(client: httpx.AsyncClient) -> tuple[str, bytes]:
    """One request as an agent makes it: the outcome's type, and the body received."""
    try:
        response = await client.post(
            "/leads?source=web", json={"name": "Ada"}, headers={"X-Request-ID": "probe-1"}
        )
    except httpx.TransportError as exc:
        return type(exc).__name__, b""
    return str(response.status_code), response.content


@pytest.mark.parametrize("fault", PARITY, ids=lambda fault: str(fault))
def test_in_process_and_proxy_records_are_identical(fault: Fault | None) -> None:
    async def body() -> None:
        rules = [] if fault is None else [Rule(fault)]
        proxy_target, inproc_target = Target(LEAD), Target(LEAD)
        schedule, proxy_recorder = FaultSchedule(), Recorder()
        for rule in rules:
            schedule.add(rule)
        async with (
            HttpServer(proxy_target) as server,
            RecordingProxy("crm", server.url, proxy_recorder, steps=[schedule]) as proxy,
            httpx.AsyncClient(base_url=proxy.url, timeout=0.3) as client,
        ):
            on_wire = await call(client)
            (wire_exchange,) = await proxy_recorder.wait_for(lambda e: True, timeout=5)
        async with injected(*rules, target=inproc_target, timeout=0.3) as (client, recorder):
            in_process = await call(client)
        (exchange,) = recorder.exchanges()
        assert comparable(exchange) == comparable(wire_exchange)
        if fault is not None and fault.name == "refused":  # in-process can be truer to the name
            assert (on_wire[0], in_process[0]) == ("RemoteProtocolError", "ConnectError")
        else:
            assert in_process == on_wire
        assert len(inproc_target.requests) == len(proxy_target.requests)

    run(body())


def test_transport_faults_raise_genuine_httpx_errors() -> None:
    async def body() -> None:
        cases = [
            (Fault("timeout"), httpx.ReadTimeout),
            (Fault("refused"), httpx.ConnectError),
            (Fault("reset", {"when": "before"}), httpx.RemoteProtocolError),
            (Fault("reset"), httpx.RemoteProtocolError),
        ]
        for fault, error in cases:
            async with injected(Rule(fault), timeout=0.1) as (client, recorder):
                started = time.monotonic()
                with pytest.raises(error):
                    await client.get("/leads/7")
            if fault.name == "timeout":
                assert time.monotonic() - started >= 0.1  # the agent's read timeout elapsed
            (exchange,) = recorder.exchanges()
            assert (exchange.status, exchange.fault) == (None, fault.name)

    run(body())


def test_a_hang_without_a_read_timeout_lasts_until_the_agent_cancels() -> None:
    async def body() -> None:
        async with injected(Rule(Fault("timeout")), timeout=None) as (client, recorder):
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.get("/leads/7"), 0.1)
        (exchange,) = recorder.exchanges()
        assert (
            exchange.status is None and exchange.error == "no response before the connection closed"
        )

    run(body())


def test_slow_body_streams_in_pieces_and_times_out_like_a_socket() -> None:
    async def body() -> None:
        dribble = Rule(Fault("slow_body", {"chunk": 10, "interval_ms": 1}))
        async with (
            injected(dribble) as (client, recorder),
            client.stream("GET", "/leads/7") as response,
        ):
            pieces = [piece async for piece in response.aiter_raw()]
        assert b"".join(pieces) == json.dumps(LEAD).encode() and len(pieces) > 2
        assert recorder.exchanges()[0].fault == "slow_body"
        stalled = Rule(Fault("slow_body", {"chunk": 10, "interval_ms": 1000}))
        async with injected(stalled, timeout=0.05) as (client, recorder):
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/leads/7")
        (exchange,) = recorder.exchanges()
        assert (exchange.status, exchange.fault) == (None, "slow_body")

    run(body())


def test_llm_faults_in_process_against_the_simulator() -> None:
    async def body() -> None:
        request = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        async with injected(Rule(Fault("llm_refusal")), target=OpenAISimulator()) as (client, rec):
            answer = (await client.post("/v1/chat/completions", json=request)).json()
            models = (await client.get("/v1/models")).json()
        message = answer["choices"][0]["message"]
        assert message["refusal"] and message["content"] is None and models["object"] == "list"
        assert [e.fault for e in rec.exchanges()] == ["llm_refusal", None]

    run(body())


def test_sync_clients_are_injected_too() -> None:
    schedule, recorder = FaultSchedule(), Recorder()
    schedule.add(Rule(Fault("rate_limit"), first=1))
    schedule.add(Rule(Fault("slow_body", {"chunk": 10, "interval_ms": 1}), first=1))
    schedule.add(Rule(Fault("timeout"), first=1))

    def agent() -> list[object]:
        with httpx.Client(base_url=BASE, timeout=0.05) as client:
            outcomes: list[object] = [client.get("/a").status_code, client.get("/b").content]
            with pytest.raises(httpx.ReadTimeout):
                client.get("/c")
            outcomes.append(client.get("/d").status_code)
            return outcomes

    async def from_the_loop() -> int:
        # An async app calling a sync client blocks its loop: still injected, still recorded.
        with httpx.Client(base_url=BASE) as client:
            return client.get("/e").status_code

    with InProcessInjector(schedule, recorder, {"crm": BASE}, {"crm": Target(LEAD)}):
        assert agent() == [429, json.dumps(LEAD).encode(), 200]
        assert asyncio.run(from_the_loop()) == 200
    assert [e.fault for e in recorder.exchanges()] == [
        "rate_limit", "slow_body", "timeout", None, None,
    ]  # fmt: skip


def test_other_hosts_pass_through_and_stop_unpatches() -> None:
    async def body() -> None:
        async with HttpServer(Target(LEAD)) as server:
            async with injected(Rule(Fault("rate_limit"))) as (client, recorder):
                elsewhere = await client.get(server.url + "/leads/7")
            assert elsewhere.json() == LEAD and len(recorder) == 0
            async with httpx.AsyncClient(timeout=5) as client:
                with pytest.raises(httpx.ConnectError):  # .invalid never resolves
                    await client.get(BASE + "/leads/7")

    run(body())


def test_http_target_forwards_to_a_real_url_with_its_base_path() -> None:
    async def body() -> None:
        target = Target(LEAD)
        async with HttpServer(target) as server:
            forward = HttpTarget(server.url + "/api")
            async with injected(target=forward) as (client, recorder):
                response = await client.get("/leads/7?x=1")
        assert response.json() == LEAD and target.requests[0].target == "/api/leads/7?x=1"
        assert recorder.exchanges()[0].path == "/leads/7?x=1"
        unreachable = HttpTarget("http://127.0.0.1:9")
        async with injected(target=unreachable) as (client, recorder):
            assert (await client.get("/x")).status_code == 502

    run(body())


def test_a_failing_target_handler_is_a_recorded_502(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    async def body() -> None:
        async with injected(target=broken) as (client, recorder):
            response = await client.get("/x")
        assert response.status_code == 502
        assert recorder.exchanges()[0].error == "target failed (RuntimeError: boom)"

    run(body())
    assert "in-process target crm failed" in caplog.text


def test_every_upstream_needs_a_target() -> None:
    with pytest.raises(ValueError, match=r"no target handler for upstream\(s\) crm"):
        InProcessInjector(FaultSchedule(), Recorder(), {"crm": BASE}, {})


def test_uncovered_clients_name_what_respx_cannot_see() -> None:
    import httpx2  # noqa: F401 - the openai SDK's client; importing it is the point

    (note,) = [n for n in uncovered_clients() if "httpx2" in n]
    assert note == (
        "the agent imports httpx2 (used by openai>=3), which respx does not intercept; faults "
        "cannot be injected in-process for its calls: run the agent as a process (agent.start) "
        "so the recording proxy sees them"
    )
    assert "httpx2" in sys.modules
    assert uncovered_clients({"httpx": object()}) == []
    notes = uncovered_clients({"aiohttp": 1, "requests": 1, "urllib3": 1})
    assert [n.split(",")[0] for n in notes] == [
        "the agent imports aiohttp",
        "the agent imports requests",
    ]  # urllib3 under requests is named once
    assert uncovered_clients({"urllib3": 1})[0].startswith("the agent imports urllib3,")


def test_one_injector_at_a_time_and_base_urls_are_checked() -> None:
    first = InProcessInjector(FaultSchedule(), Recorder(), {"crm": BASE}, {"crm": Target(LEAD)})
    second = InProcessInjector(FaultSchedule(), Recorder(), {"llm": BASE}, {"llm": Target(LEAD)})
    with first, pytest.raises(RuntimeError, match="another InProcessInjector is active"):
        second.start()
    with second:  # free again once the first stopped
        pass
    with pytest.raises(ValueError, match=r"invalid base URL 'llm\.invalid' for upstream llm"):
        InProcessInjector(FaultSchedule(), Recorder(), {"llm": "llm.invalid"},
                          {"llm": Target(LEAD)})
