"""Every fault on real sockets: a RecordingProxy in front of a JSON target or sim:openai."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from json_target import Target, run

from readiness.chaos.faults import Fault, as_step
from readiness.chaos.proxy import RecordingProxy
from readiness.chaos.recorder import Exchange, Recorder
from readiness.chaos.server import HttpServer
from readiness.chaos.sim_openai import OpenAISimulator

LEAD = {"id": 7, "name": "Ada Lovelace", "email": "ada@example.com", "tags": ["vip", "eu"]}
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
TOOLS: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
USER: Any = [{"role": "user", "content": "Weather in Paris?"}]




@asynccontextmanager
async def through(
    fault: Fault, target: Any = None, timeout: float = 5.0
) -> AsyncIterator[tuple[httpx.AsyncClient, RecordingProxy, Recorder]]:
    """An httpx client talking to a proxy that injects `fault` in front of `target`."""
    recorder = Recorder()
    async with (
        HttpServer(target or Target(LEAD)) as server,
        RecordingProxy("crm", server.url, recorder, steps=[fault.step()]) as proxy,
        httpx.AsyncClient(base_url=proxy.url, timeout=timeout) as client,
    ):
        yield client, proxy, recorder


async def only_exchange(recorder: Recorder) -> Exchange:
    """The one exchange, once recorded (an abandoned one is recorded after the fact)."""
    (exchange,) = await recorder.wait_for(lambda e: True, timeout=5)
    return exchange


# --- transport faults -------------------------------------------------------------------


def test_rate_limit_with_retry_after_seconds_and_ms() -> None:
    async def body() -> None:
        fault = Fault("rate_limit", {"retry_after": 2, "retry_after_ms": 1500})
        async with through(fault) as (client, _, recorder):
            response = await client.get("/leads/7")
        assert response.status_code == 429
        assert (
            response.headers["retry-after"] == "2" and response.headers["retry-after-ms"] == "1500"
        )
        assert response.json() == {
            "error": "Rate limit reached for requests. Please try again in 2s."
        }
        exchange = await only_exchange(recorder)
        assert (exchange.status, exchange.fault) == (429, "rate_limit")
        assert ("Retry-After", "2") in exchange.response_headers

    run(body())


def test_rate_limit_with_an_http_date_that_parses_back() -> None:
    async def body() -> None:
        fault = Fault("rate_limit", {"retry_after": 30, "retry_after_date": True})
        async with through(fault) as (client, _, _recorder):
            before = time.time()
            response = await client.get("/leads/7")
        when = parsedate_to_datetime(response.headers["retry-after"]).timestamp()
        assert before + 30 - 1 <= when <= time.time() + 31

    run(body())


def test_rate_limit_on_an_llm_upstream_is_what_the_openai_sdk_expects() -> None:
    async def body() -> None:
        async with (
            through(Fault("rate_limit", {"retry_after": 3}), OpenAISimulator()) as (_, proxy, _r),
            openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0) as llm,
        ):
            with pytest.raises(openai.RateLimitError) as raised:
                await llm.chat.completions.create(model="m", messages=USER)
        error = raised.value
        assert error.code == "rate_limit_exceeded" and error.type == "rate_limit_exceeded"
        assert error.response.headers["retry-after"] == "3"

    run(body())


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_does_not_reach_the_target(status: int) -> None:
    async def body() -> None:
        target = Target(LEAD)
        async with through(Fault("server_error", {"status": status}), target) as (client, _, rec):
            response = await client.post("/leads", json={"name": "x"})
        assert response.status_code == status and "error" in response.json()
        assert target.requests == [] and (await only_exchange(rec)).fault == "server_error"

    run(body())


@pytest.mark.parametrize("forward", [False, True])
def test_timeout_never_answers_and_is_recorded_once_the_client_gives_up(forward: bool) -> None:
    async def body() -> None:
        target = Target(LEAD)
        fault = Fault("timeout", {"forward": forward})
        async with through(fault, target, timeout=0.2) as (client, _, recorder):
            with pytest.raises(httpx.ReadTimeout):
                await client.post("/leads", json={"name": "x"})
            exchange = await only_exchange(recorder)
        assert (exchange.status, exchange.fault) == (None, "timeout")
        assert exchange.error == "no response before the connection closed"
        assert exchange.response_digest is None
        assert len(target.requests) == (1 if forward else 0)  # forward: the write happened

    run(body())


def test_latency_delays_then_forwards_the_genuine_answer() -> None:
    async def body() -> None:
        async with through(Fault("latency", {"ms": 60, "jitter_ms": 20})) as (client, _, rec):
            started = time.monotonic()
            response = await client.get("/leads/7")
            elapsed = time.monotonic() - started
        assert response.json() == LEAD and elapsed >= 0.06
        exchange = await only_exchange(rec)
        assert exchange.fault == "latency" and exchange.ended_at - exchange.started_at >= 0.06

    run(body())


async def raw_exchange(port: int, request: bytes) -> bytes:
    """Everything a raw client receives until the proxy closes or resets the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    received = b""
    try:
        while chunk := await reader.read(65536):
            received += chunk
    except ConnectionResetError:
        pass
    writer.close()
    with contextlib.suppress(ConnectionResetError):
        await writer.wait_closed()
    return received


def test_reset_after_sends_the_head_and_part_of_the_body_then_cuts() -> None:
    async def body() -> None:
        target = Target(LEAD)
        fault = Fault("reset", {"after_bytes": 10})
        async with through(fault, target) as (client, proxy, recorder):
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await client.get("/leads/7")
            received = await raw_exchange(proxy.port, b"GET /leads/7 HTTP/1.1\r\n\r\n")
            exchanges = await recorder.wait_for(lambda e: True, timeout=5, count=2)
        head, _, partial = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and partial == json.dumps(LEAD).encode()[:10]
        assert len(target.requests) == 2  # the target answered; the agent never got it whole
        assert [(e.status, e.fault, e.error) for e in exchanges] == [
            (None, "reset", "connection reset by reset")
        ] * 2

    run(body())


@pytest.mark.parametrize(("name", "params"), [("reset", {"when": "before"}), ("refused", {})])
def test_reset_before_and_refused_send_no_byte_and_skip_the_target(
    name: str, params: dict[str, Any]
) -> None:
    async def body() -> None:
        target = Target(LEAD)
        async with through(Fault(name, params), target) as (client, proxy, recorder):
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await client.get("/leads/7")
            assert await raw_exchange(proxy.port, b"GET / HTTP/1.1\r\n\r\n") == b""
            exchanges = await recorder.wait_for(lambda e: True, timeout=5, count=2)
        assert target.requests == []
        assert {(e.status, e.fault) for e in exchanges} == {(None, name)}

    run(body())


def test_slow_body_arrives_in_several_pieces_over_time() -> None:
    async def body() -> None:
        fault = Fault("slow_body", {"chunk": 16, "interval_ms": 15})
        async with through(fault) as (client, _, recorder):
            started = time.monotonic()
            async with client.stream("GET", "/leads/7") as response:
                pieces = [piece async for piece in response.aiter_raw()]
            elapsed = time.monotonic() - started
        whole = json.dumps(LEAD).encode()
        assert b"".join(pieces) == whole and len(pieces) >= 2
        slices = -(-len(whole) // 16)
        assert elapsed >= slices * 0.015
        exchange = await only_exchange(recorder)
        assert (exchange.status, exchange.fault, exchange.response_body) == (
            200,
            "slow_body",
            whole,
        )

    run(body())


def test_slow_body_by_rate() -> None:
    async def body() -> None:
        async with through(Fault("slow_body", {"bytes_per_s": 1000})) as (client, _, _rec):
            started = time.monotonic()
            response = await client.get("/leads/7")
        assert response.json() == LEAD and time.monotonic() - started >= 0.05

    run(body())


def test_huge_body_is_valid_json_of_the_requested_size() -> None:
    async def body() -> None:
        async with through(Fault("huge_body", {"mb": 3})) as (client, _, recorder):
            response = await client.get("/leads/7")
        assert len(response.content) == 3 * 1024 * 1024
        document = response.json()
        assert document["email"] == LEAD["email"] and set(document["padding"]) == {"a"}
        exchange = await only_exchange(recorder)
        assert exchange.fault == "huge_body" and exchange.status == 200
        assert ("Content-Length", str(3 * 1024 * 1024)) in exchange.response_headers

    run(body())


# --- malformed bodies -------------------------------------------------------------------


def does_not_parse(response: httpx.Response) -> None:
    with pytest.raises(ValueError):
        json.loads(response.content)


def check_html(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


def not_utf8(response: httpx.Response) -> None:
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")


MALFORMED: dict[str, Any] = {
    "truncated_json": does_not_parse,
    "invalid_json": does_not_parse,
    "html_error_page": check_html,
    "empty_body": lambda r: r.content == b"" or pytest.fail("body not empty"),
    "wrong_content_type": lambda r: (
        (r.headers["content-type"].startswith("text/plain") and r.json() == LEAD)
        or pytest.fail("still labelled JSON")
    ),
    "missing_field": lambda r: (
        r.json() == {k: v for k, v in LEAD.items() if k != "id"} or pytest.fail(r.text)
    ),
    "wrong_type": lambda r: r.json()["id"] == "7" or pytest.fail(r.text),
    "null_field": lambda r: r.json()["id"] is None or pytest.fail(r.text),
    "schema_drift": lambda r: ("id_v2" in r.json() and "id" not in r.json()) or pytest.fail(r.text),
    "invalid_utf8": not_utf8,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_bodies_damage_the_real_answer(name: str) -> None:
    async def body() -> None:
        target = Target(LEAD)
        async with through(Fault(name), target) as (client, _, recorder):
            response = await client.get("/leads/7")
            again = await client.get("/leads/8")  # the connection survives
        assert response.status_code == again.status_code == 200
        MALFORMED[name](response)
        assert len(target.requests) == 2  # built from the real answer: it was forwarded
        exchange = (await recorder.wait_for(lambda e: True, timeout=5, count=2))[0]
        assert exchange.fault == name and exchange.response_body == response.content

    run(body())


# --- LLM-shaped faults, seen through the official SDK -----------------------------------


async def ask(fault: Fault, stream: bool = False, **options: Any) -> tuple[Any, Recorder]:
    """One chat completion (with tools) through a proxy injecting `fault`."""
    async with (
        through(fault, OpenAISimulator(5)) as (_, proxy, recorder),
        openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0) as llm,
    ):
        if stream:
            chunks = await llm.chat.completions.create(
                model="m", messages=USER, tools=TOOLS, stream=True, **options
            )
            return [chunk async for chunk in chunks], recorder
        answer = await llm.chat.completions.create(model="m", messages=USER, tools=TOOLS)
        return answer, recorder


def test_llm_no_tool_call() -> None:
    async def body() -> None:
        answer, recorder = await ask(Fault("llm_no_tool_call", {"content": "Nothing to do."}))
        choice = answer.choices[0]
        assert choice.message.tool_calls is None and choice.message.content == "Nothing to do."
        assert choice.finish_reason == "stop"
        assert (await only_exchange(recorder)).fault == "llm_no_tool_call"

    run(body())


def test_llm_bad_tool_args_invalid_json_and_off_schema() -> None:
    async def body() -> None:
        answer, _ = await ask(Fault("llm_bad_tool_args"))
        with pytest.raises(ValueError):
            json.loads(answer.choices[0].message.tool_calls[0].function.arguments)
        answer, _ = await ask(Fault("llm_bad_tool_args", {"mode": "schema"}))
        arguments = json.loads(answer.choices[0].message.tool_calls[0].function.arguments)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(arguments, WEATHER)

    run(body())


def test_llm_unknown_tool_plain_and_streamed() -> None:
    async def body() -> None:
        answer, _ = await ask(Fault("llm_unknown_tool"))
        assert answer.choices[0].message.tool_calls[0].function.name == "undeclared_tool"
        chunks, recorder = await ask(Fault("llm_unknown_tool"), stream=True)
        names = [
            call.function.name
            for chunk in chunks
            for choice in chunk.choices
            for call in choice.delta.tool_calls or []
            if call.function and call.function.name
        ]
        assert names == ["undeclared_tool"]
        assert (await only_exchange(recorder)).fault == "llm_unknown_tool"

    run(body())


def test_llm_truncated() -> None:
    async def body() -> None:
        answer, _ = await ask(Fault("llm_truncated"))
        choice = answer.choices[0]
        assert choice.finish_reason == "length"
        with pytest.raises(ValueError):
            json.loads(choice.message.tool_calls[0].function.arguments)

    run(body())


def test_llm_refusal() -> None:
    async def body() -> None:
        answer, _ = await ask(Fault("llm_refusal"))
        message = answer.choices[0].message
        assert message.refusal and message.content is None and message.tool_calls is None

    run(body())


def test_malformed_chat_completion_makes_the_sdk_raise() -> None:
    async def body() -> None:
        with pytest.raises(ValueError):  # json.JSONDecodeError is a ValueError
            await ask(Fault("truncated_json"))
        answer, _ = await ask(Fault("missing_field"))
        assert answer.choices is None  # the SDK returns the damaged shape as is

    run(body())


def test_an_llm_fault_on_a_non_completion_passes_it_through_unrecorded() -> None:
    async def body() -> None:
        async with through(Fault("llm_refusal"), OpenAISimulator()) as (client, _, recorder):
            response = await client.get("/v1/models")
        assert response.json()["object"] == "list"
        assert (await only_exchange(recorder)).fault is None

    run(body())


def test_as_step_is_fault_step() -> None:
    async def body() -> None:
        recorder = Recorder()
        async with (
            HttpServer(Target(LEAD)) as server,
            RecordingProxy("crm", server.url, recorder, steps=[as_step(Fault("empty_body"))]) as p,
            httpx.AsyncClient() as client,
        ):
            assert (await client.get(p.url + "/x")).content == b""

    run(body())
