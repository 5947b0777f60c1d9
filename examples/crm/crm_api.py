"""A small in-memory CRM that the reference lead-routing agents assign leads through.

Run it with ``python crm_api.py --port 9101``; it binds 127.0.0.1 only.

Endpoints (all JSON):

- ``GET /health`` → 200 ``{"status": "ok"}``
- ``GET /reps`` → 200 ``{"reps": [{"id", "name", "territory"}, ...]}``
- ``POST /leads/{lead_id}/assign`` ``{"rep_id": str, "reason": str}``
  → 201 ``{"assignment_id", "lead_id", "rep_id"}``.
  400 when the body is not that shape or the rep is unknown; 409 when the lead
  already has an active (not deleted) assignment made under a different
  ``Idempotency-Key``; 422 when an ``Idempotency-Key`` is reused with a different body.
  A repeat with the same ``Idempotency-Key`` and body replays the first answer and
  creates nothing, so a client may retry a write whose answer it never saw.
- ``DELETE /assignments/{assignment_id}`` → 200 ``{"assignment_id", "status": "deleted"}``;
  deleting twice answers 200 again (the goal state holds); 404 when the id was never issued.
  A deleted assignment frees its lead, which can then be assigned again.
- ``GET /assignments[?lead_id=...]`` → 200 ``{"assignments": [...]}`` for inspection.

Memory is bounded: past ``MAX_RECORDS`` assignments (and idempotency keys) the oldest
are forgotten, which is fine for a test server and keeps long load runs flat.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MAX_RECORDS = 100_000
MAX_BODY_BYTES = 16_384

# The CRM's own sales team. The agent's rules/reps.toml must name a subset of these ids.
REPS: tuple[dict[str, str], ...] = (
    {"id": "rep-emea-enterprise", "name": "Sofia Lindqvist", "territory": "EMEA enterprise"},
    {"id": "rep-emea-midmarket", "name": "Tomasz Nowak", "territory": "EMEA mid-market"},
    {"id": "rep-na-enterprise", "name": "Jordan Ellis", "territory": "North America enterprise"},
    {"id": "rep-na-midmarket", "name": "Grace Whitfield", "territory": "North America mid-market"},
    {"id": "rep-apac", "name": "Hiroshi Tanaka", "territory": "APAC"},
    {"id": "rep-smb-inbound", "name": "Leila Haddad", "territory": "Small business, any region"},
)


@dataclass
class Assignment:
    """One assignment of a lead to a rep; `deleted` marks a reverted one."""

    assignment_id: str
    lead_id: str
    rep_id: str
    reason: str
    idempotency_key: str | None = None
    deleted: bool = False


class CrmStore:
    """The CRM's state. Every method is synchronous, so under one event loop it is atomic."""

    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        self.rep_ids = frozenset(rep["id"] for rep in REPS)
        self.max_records = max_records
        self.assignments: OrderedDict[str, Assignment] = OrderedDict()
        self.active_by_lead: dict[str, str] = {}
        # key -> (fingerprint of the request, assignment id it produced)
        self.idempotency: OrderedDict[str, tuple[tuple[str, str, str], str]] = OrderedDict()
        self._ids = itertools.count(1)

    def assign(
        self, lead_id: str, rep_id: str, reason: str, key: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Assign a lead; returns (HTTP status, body)."""
        fingerprint = (lead_id, rep_id, reason)
        if key is not None and key in self.idempotency:
            seen, assignment_id = self.idempotency[key]
            if seen != fingerprint:
                return 422, {"error": "Idempotency-Key was already used with a different request"}
            return 201, self._created(self.assignments[assignment_id])
        if rep_id not in self.rep_ids:
            return 400, {"error": f"unknown rep_id {rep_id!r}"}
        active = self.active_by_lead.get(lead_id)
        if active is not None:
            return 409, {"error": "lead is already assigned", "assignment_id": active}
        assignment = Assignment(f"asg-{next(self._ids):07d}", lead_id, rep_id, reason, key)
        self.assignments[assignment.assignment_id] = assignment
        self.active_by_lead[lead_id] = assignment.assignment_id
        if key is not None:
            self.idempotency[key] = (fingerprint, assignment.assignment_id)
        self._evict()
        return 201, self._created(assignment)

    def delete(self, assignment_id: str) -> tuple[int, dict[str, Any]]:
        """Delete (revert) an assignment; returns (HTTP status, body)."""
        assignment = self.assignments.get(assignment_id)
        if assignment is None:
            return 404, {"error": f"no assignment {assignment_id!r}"}
        if not assignment.deleted:
            assignment.deleted = True
            if self.active_by_lead.get(assignment.lead_id) == assignment_id:
                del self.active_by_lead[assignment.lead_id]
        return 200, {"assignment_id": assignment_id, "status": "deleted"}

    def _evict(self) -> None:
        while len(self.assignments) > self.max_records:
            _, old = self.assignments.popitem(last=False)
            if self.active_by_lead.get(old.lead_id) == old.assignment_id:
                del self.active_by_lead[old.lead_id]
            # A replayed key must always find its assignment, so keys go with their record.
            if old.idempotency_key is not None:
                self.idempotency.pop(old.idempotency_key, None)

    @staticmethod
    def _created(assignment: Assignment) -> dict[str, Any]:
        return {
            "assignment_id": assignment.assignment_id,
            "lead_id": assignment.lead_id,
            "rep_id": assignment.rep_id,
        }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any] | None:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def create_app(store: CrmStore | None = None) -> Starlette:
    """The CRM as an ASGI app; pass a store to inspect it from tests."""
    crm = store or CrmStore()

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def reps(request: Request) -> JSONResponse:
        return JSONResponse({"reps": list(REPS)})

    async def assign(request: Request) -> JSONResponse:
        data = await _json_object(request)
        if data is None:
            return _error(400, "body must be a JSON object {\"rep_id\": str, \"reason\": str}")
        rep_id, reason = data.get("rep_id"), data.get("reason", "")
        if not isinstance(rep_id, str) or not isinstance(reason, str):
            return _error(400, "rep_id and reason must be strings")
        status, body = crm.assign(
            request.path_params["lead_id"], rep_id, reason, request.headers.get("idempotency-key")
        )
        return JSONResponse(body, status_code=status)

    async def delete(request: Request) -> JSONResponse:
        status, body = crm.delete(request.path_params["assignment_id"])
        return JSONResponse(body, status_code=status)

    async def assignments(request: Request) -> JSONResponse:
        lead_id = request.query_params.get("lead_id")
        rows = [
            asdict(a) for a in crm.assignments.values() if lead_id is None or a.lead_id == lead_id
        ]
        return JSONResponse({"assignments": rows})

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        return _error(status, str(detail))

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/reps", reps, methods=["GET"]),
            Route("/leads/{lead_id}/assign", assign, methods=["POST"]),
            Route("/assignments/{assignment_id}", delete, methods=["DELETE"]),
            Route("/assignments", assignments, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
    )
    app.state.store = crm
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the CRM on 127.0.0.1:--port."""
    import uvicorn

    parser = argparse.ArgumentParser(description="In-memory CRM for the lead-router examples.")
    parser.add_argument("--port", type=int, default=9101)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
