"""An agent whose upstream calls carry every secret and personal value a cassette must not keep.

In-process only (`app = "leaky_agent:app"`). Each invocation lists the models with an
API key in the query, then asks the model at LLM_BASE_URL with a bearer key, an
organisation header, a cookie, the whole input in the prompt, and a body holding a
password, an AWS key id and the customer's e-mail. It answers the ops contract's
invoke shape: `executed` with the rep the model chose.
"""

from __future__ import annotations

import json
import os
import uuid

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "sk-proj-" + "Q" * 12 + "leakyagentkey0123"
AWS_KEY_ID = "AKIA" + "LEAKYAGENT123456"
PASSWORD = "correct horse battery staple"
TOOL = {"type": "function", "function": {"name": "route", "parameters": {
    "type": "object", "properties": {"rep": {"type": "string", "enum": ["ada", "alan"]}},
    "required": ["rep"]}}}


async def invoke(request: Request) -> Response:
    body = await request.json()
    lead = body["input"]
    base = os.environ["LLM_BASE_URL"].rstrip("/")
    headers = {"Authorization": f"Bearer {API_KEY}", "OpenAI-Organization": "org-leaky",
               "Cookie": "session=leaky-session-cookie", "X-Request-ID": body["request_id"]}
    async with httpx.AsyncClient(timeout=5) as client:
        models = await client.get(f"{base}/models", params={"api_key": API_KEY})
        answer = await client.post(f"{base}/chat/completions", headers=headers, json={
            "model": "m", "tools": [TOOL], "tool_choice": "required",
            "messages": [{"role": "user", "content": "Route this lead: " + json.dumps(lead)}],
            "metadata": {"customer": {"email": lead.get("email"), "password": PASSWORD},
                         "aws": AWS_KEY_ID}})
    if not models.is_success or not answer.is_success:
        return JSONResponse({"decision_id": uuid.uuid4().hex, "status": "failed",
                             "action": None, "confidence": None})
    call = answer.json()["choices"][0]["message"]["tool_calls"][0]["function"]
    return JSONResponse({"decision_id": uuid.uuid4().hex, "status": "executed",
                         "action": json.loads(call["arguments"]), "confidence": 0.9})


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/health", health), Route("/invoke", invoke, methods=["POST"])])
