"""The openai-SDK example agent (examples/sdk) over real sockets.

Its retries are the official SDK's own, and the SDK talks through `httpx2`, which respx
cannot patch; so each test runs `python -m sdk_agent` as a process against the
`sim:openai` simulator served on a real port, behind a handler that can fail the first
N requests and timestamps every one. Waits are on the agent's answer, never on a clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from readiness.chaos.messages import Request, Response
from readiness.chaos.server import HttpServer
from readiness.chaos.sim_openai import OpenAISimulator
from readiness.config.load import load_config
from readiness.lifecycle import ManagedProcess, free_port

pytestmark = pytest.mark.slow

SDK_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sdk"
TOOL = json.loads((SDK_EXAMPLES / "sdk_agent" / "tools" / "classify_ticket.json").read_text())
ENUMS = {name: TOOL["function"]["parameters"]["properties"][name]["enum"]
         for name in ("category", "priority")}
TICKET = {"subject": "Charged twice this month",
          "body": "My card was billed twice for the March invoice; please refund one charge.",
          "email": "dana@example.com"}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"

# The SDK's backoff without Retry-After: 0.5s * 2**retry, less up to 25% jitter.
FIRST_BACKOFF_MIN_S = 0.5 * 0.75
SECOND_BACKOFF_MIN_S = 1.0 * 0.75
JSON = [("Content-Type", "application/json")]


def run(body: Callable[[], Awaitable[None]], timeout_s: float = 60.0) -> None:
    asyncio.run(asyncio.wait_for(body(), timeout_s))


@dataclass
class Attempt:
    at: float
    request: Request

    @property
    def retry_count(self) -> str | None:
        return self.request.header("x-stainless-retry-count")


def error(status: int, *headers: tuple[str, str]) -> Response:
    """An OpenAI-style JSON error answer."""
    body = json.dumps({"error": {"message": f"simulated HTTP {status}", "type": "server_error",
                                 "param": None, "code": None}})
    return Response(status, [("Content-Type", "application/json"), *headers], body.encode())


@dataclass
class ScriptedUpstream:
    """The simulator, except that the first requests get the scripted answers, in order."""

    script: list[Response] = field(default_factory=list)
    sim: OpenAISimulator = field(default_factory=lambda: OpenAISimulator(seed=1))
    attempts: list[Attempt] = field(default_factory=list)

    async def __call__(self, request: Request) -> Response:
        self.attempts.append(Attempt(time.monotonic(), request))
        if self.script:
            return self.script.pop(0)
        return await self.sim(request)

    def gaps(self) -> list[float]:
        return [b.at - a.at for a, b in itertools.pairwise(self.attempts)]


@asynccontextmanager
async def sdk_agent(upstream: ScriptedUpstream, tmp_path: Path, *,
                    config: str = "default_retries") -> AsyncIterator[httpx.AsyncClient]:
    """The agent as its readiness.toml runs it (same cwd and [agent.env]), on this upstream."""
    cfg = load_config(SDK_EXAMPLES / config / "readiness.toml")
    async with HttpServer(upstream) as server:
        port = free_port()
        env = {**os.environ, "LLM_BASE_URL": server.url + "/v1", **cfg.agent.env}
        process = ManagedProcess(f"sdk agent ({config})", cfg.agent.start or "", cwd=cfg.root,
                                 log_path=tmp_path / f"{config}.log", env=env, port=port)
        process.start()
        try:
            base = f"http://127.0.0.1:{port}"
            await process.wait_healthy(base + cfg.agent.health, 30)
            async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as client:
                yield client
        finally:
            process.stop()


async def invoke(client: httpx.AsyncClient, request_id: str = "req-1",
                 ticket: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post("/invoke", json={"request_id": request_id,
                                              "input": TICKET if ticket is None else ticket},
                             headers=headers)


def test_invoke_executes_the_tool_call(tmp_path: Path) -> None:
    upstream = ScriptedUpstream()

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            reply = await invoke(client)
        assert reply.status_code == 200, reply.text
        data = reply.json()
        assert data["status"] == "executed"
        assert data["decision_id"]
        action = data["action"]
        assert action["type"] == "classify_ticket"
        assert action["category"] in ENUMS["category"]
        assert action["priority"] in ENUMS["priority"]
        assert 0 <= data["confidence"] <= 1
        assert len(upstream.attempts) == 1
        sent = json.loads(upstream.attempts[0].request.body)
        assert sent["tool_choice"]["function"]["name"] == "classify_ticket"
        assert json.loads(sent["messages"][-1]["content"]) == TICKET

    run(body)


def test_request_id_and_trace_reach_the_upstream(tmp_path: Path) -> None:
    upstream = ScriptedUpstream()

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            traced = await invoke(client, "body-id-1",
                                  headers={"X-Request-ID": "hdr-id-1", "traceparent": TRACEPARENT})
            bare = await invoke(client, "body-id-2")
        assert traced.json()["status"] == bare.json()["status"] == "executed"
        first, second = (a.request for a in upstream.attempts)
        assert first.header("x-request-id") == "hdr-id-1"
        version, trace_id, parent, flags = (first.header("traceparent") or "").split("-")
        assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
        assert len(parent) == 16 and parent != "00f067aa0ba902b7"  # the agent's own span
        # Without the header the body's request_id identifies the invocation upstream.
        assert second.header("x-request-id") == "body-id-2"
        assert second.header("traceparent") is None

    run(body)


BAD_BODIES = {
    "not-json": b"{not json",
    "not-an-object": b'"a string"',
    "no-request-id": b'{"input": {"subject": "s", "body": "b"}}',
    "input-not-object": b'{"request_id": "r", "input": "text"}',
    "missing-body": b'{"request_id": "r", "input": {"subject": "s"}}',
    "body-not-string": b'{"request_id": "r", "input": {"subject": "s", "body": 42}}',
    "nan": b'{"request_id": "r", "input": {"subject": "s", "body": "b", "extra": NaN}}',
    "invalid-utf8": b'{"request_id": "r", "input": {"subject": "\xff", "body": "b"}}',
}


def test_bad_input_is_a_422(tmp_path: Path) -> None:
    upstream = ScriptedUpstream()

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            replies = {case: await client.post("/invoke", content=payload,
                                               headers={"Content-Type": "application/json"})
                       for case, payload in BAD_BODIES.items()}
            too_big = await invoke(client, ticket={**TICKET, "body": "x" * 70_000})
        for case, reply in replies.items():
            assert reply.status_code == 422, (case, reply.text)
            error = reply.json()["error"]
            assert isinstance(error, str) and error, case
        assert too_big.status_code == 413
        assert upstream.attempts == []

    run(body)


def test_version_hashes_the_files_it_uses(tmp_path: Path) -> None:
    async def body() -> None:
        async with sdk_agent(ScriptedUpstream(), tmp_path) as client:
            reply = await client.get("/version")
        data = reply.json()
        assert data["version"] == "0.1.0"
        root = SDK_EXAMPLES / "default_retries"
        assert set(data["components"]) == {"../sdk_agent/prompts/classify_ticket.md",
                                           "../sdk_agent/tools/classify_ticket.json"}
        for path, digest in data["components"].items():
            assert digest == "sha256:" + hashlib.sha256((root / path).read_bytes()).hexdigest()

    run(body)


def test_default_retries_outlast_two_503s(tmp_path: Path) -> None:
    upstream = ScriptedUpstream([error(503)] * 2)

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            reply = await invoke(client, headers={"X-Request-ID": "rid-503"})
        assert reply.json()["status"] == "executed"
        assert len(upstream.attempts) == 3
        assert [a.retry_count for a in upstream.attempts] == ["0", "1", "2"]
        assert {a.request.header("x-request-id") for a in upstream.attempts} == {"rid-503"}
        # No Retry-After: the SDK's exponential backoff (0.5s, then 1s, minus jitter).
        first, second = upstream.gaps()
        assert first >= FIRST_BACKOFF_MIN_S
        assert second >= SECOND_BACKOFF_MIN_S

    run(body)


def test_default_retries_give_up_after_three_attempts(tmp_path: Path) -> None:
    upstream = ScriptedUpstream([error(503)] * 5)

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            reply = await invoke(client)
        assert reply.status_code == 200
        assert reply.json() | {"decision_id": None} == {
            "decision_id": None, "request_id": "req-1", "status": "failed", "action": None,
            "confidence": None}
        assert len(upstream.attempts) == 3

    run(body)


def test_default_retries_honour_retry_after(tmp_path: Path) -> None:
    # 1s is longer than the SDK's own first backoff (at most 0.5s): a gap that long
    # means the header was honoured.
    upstream = ScriptedUpstream([error(429, ("Retry-After", "1"))])

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            reply = await invoke(client)
        assert reply.json()["status"] == "executed"
        assert len(upstream.attempts) == 2
        assert upstream.gaps()[0] >= 0.95

    run(body)


def test_default_retries_do_not_retry_a_400(tmp_path: Path) -> None:
    upstream = ScriptedUpstream([error(400)])

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            reply = await invoke(client)
        assert reply.json()["status"] == "failed"
        assert len(upstream.attempts) == 1

    run(body)


def test_no_retries_make_exactly_one_attempt(tmp_path: Path) -> None:
    upstream = ScriptedUpstream([error(503)] * 2)

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path, config="no_retries") as client:
            first = await invoke(client, "req-1")
            second = await invoke(client, "req-2")
            third = await invoke(client, "req-3")  # the upstream is healthy again
        assert first.status_code == second.status_code == 200
        assert first.json()["status"] == second.json()["status"] == "failed"
        assert third.json()["status"] == "executed"
        # One attempt per invocation: each 503 was final.
        assert [a.request.header("x-request-id") for a in upstream.attempts] == [
            "req-1", "req-2", "req-3"]
        assert {a.retry_count for a in upstream.attempts} == {"0"}

    run(body)


MALFORMED = {
    "html_error_page": Response(200, [("Content-Type", "text/html")], b"<html>Oops</html>"),
    "truncated_json": Response(200, JSON, b'{"id": "c1", "choices": [{"index": 0, "mess'),
    "invalid_json": Response(200, JSON, b"{not json"),
    "empty_body": Response(200, JSON, b""),
    "invalid_utf8": Response(200, JSON, b'{"id": "\xff\xfe", "choices": []}'),
    "missing_field": Response(200, JSON, b'{"id": "c1", "object": "chat.completion"}'),
    "wrong_type": Response(200, JSON, b'{"id": "c1", "choices": "none"}'),
    "llm_bad_tool_args": Response(200, JSON, json.dumps({"id": "c1", "choices": [{
        "index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant",
            "tool_calls": [{"id": "t1", "type": "function", "function": {
                "name": "classify_ticket", "arguments": '{"category": 5'}}]}}]}).encode()),
}


def test_malformed_answers_fall_back_to_manual(tmp_path: Path) -> None:
    # The SDK raises json's own JSONDecodeError (not an openai.APIError) for a 200 whose
    # body is not JSON, and returns a plain str for a non-JSON content type: the agent
    # must survive both, and a person takes over the ticket.
    upstream = ScriptedUpstream(list(MALFORMED.values()))

    async def body() -> None:
        async with sdk_agent(upstream, tmp_path) as client:
            replies = {case: await invoke(client, case) for case in MALFORMED}
        for case, reply in replies.items():
            assert reply.status_code == 200, (case, reply.text)
            assert reply.json()["status"] == "manual", case
            assert reply.json()["action"] is None, case
        assert len(upstream.attempts) == len(MALFORMED)  # a 200 is never retried

    run(body)
