"""The demo: one happy path, no safety net.

Deliberately demo-grade, as a contrast to examples/production. Do not copy it: the
comments marked DEMO say what a production agent does instead.
"""

import json
import os
import pathlib
import uuid

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PROMPT = (pathlib.Path(__file__).parent / "prompt.md").read_text()
TOOL = {
    "type": "function",
    "function": {
        "name": "assign_lead",
        "parameters": {
            "type": "object",
            "properties": {
                "rep_id": {
                    "type": "string",
                    "enum": [
                        "rep-emea-enterprise", "rep-emea-midmarket", "rep-na-enterprise",
                        "rep-na-midmarket", "rep-apac", "rep-smb-inbound",
                    ],
                },
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "reason": {"type": "string"},
            },
            "required": ["rep_id", "confidence", "reason"],
        },
    },
}


def client() -> httpx.AsyncClient:
    # DEMO: no timeout, so a hung upstream hangs the request forever.
    return httpx.AsyncClient(timeout=None)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def version(request: Request) -> JSONResponse:
    # DEMO: no content hashes; nobody can tell which prompt is running.
    return JSONResponse({"version": "dev"})


async def invoke(request: Request) -> JSONResponse:
    # DEMO: no authentication, no input validation.
    body = await request.json()
    lead = body["input"]
    print("routing lead", lead)  # DEMO: personal data straight into the logs
    async with client() as http:
        # DEMO: one attempt; a 429 or a 503 is a 500 for the caller.
        llm = await http.post(
            os.environ["LLM_BASE_URL"] + "/chat/completions",
            json={
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": PROMPT},
                    {"role": "user", "content": json.dumps(lead)},
                ],
                "tools": [TOOL],
            },
        )
        call = llm.json()["choices"][0]["message"]["tool_calls"][0]["function"]
        args = json.loads(call["arguments"])  # DEMO: trusts whatever the model says
        lead_id = body["request_id"]
        crm = await http.post(
            os.environ["CRM_BASE_URL"] + f"/leads/{lead_id}/assign",
            json={"rep_id": args["rep_id"], "reason": args["reason"]},
        )
    # DEMO: no audit record; the only trace of this decision is the print above.
    return JSONResponse({
        "decision_id": str(uuid.uuid4()),
        "status": "executed" if crm.status_code < 300 else "failed",
        "action": {"type": "assign_lead", "lead_id": lead_id, "rep_id": args["rep_id"]},
        "confidence": args["confidence"],
    })


# DEMO: debug=True sends stack traces to whoever triggers an error.
app = Starlette(
    debug=True,
    routes=[
        Route("/health", health),
        Route("/version", version),
        Route("/invoke", invoke, methods=["POST"]),
    ],
)
