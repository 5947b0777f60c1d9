"""A small agent honouring the parts of the ops contract items 5, 8 and 9 read.

Configured by environment: TINY_COMPONENT_DIR (files hashed for /version),
TINY_VERSION, TINY_AUDIT_VERSION (to make audit records lie), TINY_HANG_VERSION
(the /version handler waits forever, after setting `version_entered`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

version_entered = asyncio.Event()
_records: dict[str, dict[str, Any]] = {}


def _components() -> dict[str, str]:
    root = Path(os.environ.get("TINY_COMPONENT_DIR", "."))
    base = Path(os.environ.get("TINY_COMPONENT_BASE", root))
    return {p.relative_to(base).as_posix(): "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def version(request: Request) -> Response:
    if os.environ.get("TINY_HANG_VERSION"):
        version_entered.set()
        await asyncio.Event().wait()
    return JSONResponse({"version": os.environ.get("TINY_VERSION", "1.0.0"),
                         "components": _components()})


def _authorised(request: Request, scope: str) -> Response | None:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not token:
        return JSONResponse({"error": "missing token"}, status_code=401)
    if token != os.environ.get(f"TINY_{scope.upper()}_TOKEN", scope):
        return JSONResponse({"error": "wrong token"}, status_code=403)
    return None


async def invoke(request: Request) -> Response:
    if (denied := _authorised(request, "invoke")) is not None:
        return denied
    body = await request.json()
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return JSONResponse({"error": "input must be an object"}, status_code=422)
    decision_id = uuid.uuid4().hex
    _records[decision_id] = {
        "decision_id": decision_id, "request_id": body.get("request_id"),
        "agent_version": os.environ.get("TINY_AUDIT_VERSION",
                                        os.environ.get("TINY_VERSION", "1.0.0")),
        "status": "executed"}
    return JSONResponse({"decision_id": decision_id, "status": "executed", "action": None,
                         "confidence": 0.9})


async def audit(request: Request) -> Response:
    if (denied := _authorised(request, "operator")) is not None:
        return denied
    record = _records.get(request.path_params["decision_id"])
    if record is None:
        return JSONResponse({"error": "no such decision"}, status_code=404)
    return JSONResponse(record)


async def control(request: Request) -> Response:
    if (denied := _authorised(request, "operator")) is not None:
        return denied
    return JSONResponse({"error": "mode must be active, review_only or disabled"},
                        status_code=422)


app = Starlette(routes=[
    Route("/health", health), Route("/version", version),
    Route("/invoke", invoke, methods=["POST"]),
    Route("/audit/{decision_id}", audit),
    Route("/control", control, methods=["GET", "PUT"]),
])
