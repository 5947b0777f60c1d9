"""An agent whose retry behaviour is set by environment, for item 1's failing cases.

RETRY_POLICY: full_jitter (default) | fixed | immediate | linear
RETRY_STATUSES: comma-separated statuses it retries (default 429,500,502,503,504)
HONOUR_RETRY_AFTER: 1 (default) or 0
ATTEMPT_TIMEOUT_S: per-attempt timeout in seconds, or "none" to wait forever
TRUSTS_UPSTREAM: 1 lets a malformed upstream answer crash the request (a 500)
TRUSTS_INPUT: 1 skips input validation (a wrong type crashes the request)
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import sys
import time
import uuid
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BASE_S = 0.1
MAX_ATTEMPTS = 4
TOOL = {"type": "function", "function": {"name": "route", "parameters": {
    "type": "object", "properties": {"rep": {"type": "string", "enum": ["ada", "alan"]}},
    "required": ["rep"]}}}


def _delay(retry: int) -> float:
    policy = os.environ.get("RETRY_POLICY", "full_jitter")
    if policy == "fixed":
        return 0.2
    if policy == "immediate":
        return 0.0
    if policy == "linear":
        # a step small against the base: growth x1.25 then x1.2, far from exponential even
        # when a loaded machine adds 100 ms to every gap
        return 0.4 + 0.1 * retry
    return random.uniform(0, BASE_S * 2**retry)


def _asked_wait(response: httpx.Response) -> float | None:
    if os.environ.get("HONOUR_RETRY_AFTER", "1") != "1":
        return None
    if millis := response.headers.get("retry-after-ms"):
        return float(millis) / 1000
    value = response.headers.get("retry-after")
    if value is None:
        return None
    if value.isdigit():
        return float(value)
    return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())


async def _call_llm(headers: dict[str, str]) -> dict[str, Any]:
    retried = {int(s) for s in os.environ.get("RETRY_STATUSES", "429,500,502,503,504").split(",")}
    raw_timeout = os.environ.get("ATTEMPT_TIMEOUT_S", "0.5")
    timeout = None if raw_timeout == "none" else float(raw_timeout)
    url = os.environ["LLM_BASE_URL"].rstrip("/") + "/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "route"}], "tools": [TOOL]}
    async with httpx.AsyncClient(timeout=timeout) as client:
        for retry in range(MAX_ATTEMPTS):
            try:
                response = await client.post(url, json=body, headers=headers)
            except httpx.TransportError:
                if retry == MAX_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(_delay(retry))
                continue
            if response.status_code in retried and retry < MAX_ATTEMPTS - 1:
                asked = _asked_wait(response)
                await asyncio.sleep(asked if asked is not None else _delay(retry))
                continue
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data
    raise RuntimeError("unreachable")


async def invoke(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body is not JSON"}, status_code=400)
    if os.environ.get("TRUSTS_INPUT") == "1":
        " ".join(body["input"].values())  # a demo's "summary": breaks on anything odd
    elif not isinstance(body, dict) or not isinstance(body.get("request_id"), str) \
            or not isinstance(body.get("input"), dict) or not body["input"] \
            or any(not isinstance(v, str) or len(v) > 5000 for v in body["input"].values()):
        return JSONResponse({"error": "expected request_id and an input of short strings"},
                            status_code=422)
    forwarded = {k: v for k, v in request.headers.items()
                 if k.lower() in ("x-request-id", "traceparent")}
    decision = {"decision_id": uuid.uuid4().hex, "action": None, "confidence": None}
    try:
        answer = await _call_llm(forwarded)
        choice = answer["choices"][0]
        call = choice["message"]["tool_calls"][0]["function"]
        arguments = json.loads(call["arguments"])
        if choice["finish_reason"] != "tool_calls" or call["name"] != "route" \
                or arguments.get("rep") not in ("ada", "alan"):
            raise ValueError("the model did not call the route tool with a known rep")
        decision.update(status="executed", action={"rep": arguments["rep"]})
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
        if os.environ.get("TRUSTS_UPSTREAM") == "1" and not isinstance(
                sys.exc_info()[1], httpx.HTTPError):
            raise
        decision.update(status="failed")
    return JSONResponse(decision)


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/health", health), Route("/invoke", invoke, methods=["POST"])])
