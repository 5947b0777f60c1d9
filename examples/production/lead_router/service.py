"""The lead router's decisions: route with the model, assign in the CRM, approve, revert.

Every path through `invoke` ends in exactly one stored decision, whatever fails: the
model, the CRM, or this code. A lead that is not assigned is queued for people, so
nothing is dropped. The operating mode is read again just before the CRM write, so an
operator who pulls the kill switch while a call is in flight still stops the write.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from lead_router import __version__
from lead_router.alerts import AlertMonitor
from lead_router.components import Components
from lead_router.llm import Routing, UnusableAnswer, chat_request, parse_routing
from lead_router.metrics import Metrics
from lead_router.settings import Settings
from lead_router.store import Decision, Mode, Store, rfc3339
from lead_router.upstream import CallResult, Clock, Deadline, Reply, UpstreamClient
from lead_router.validation import InvokeRequest

log = logging.getLogger("lead_router.decisions")

# What operators read in the audit record when a call gives up, by failure kind.
UPSTREAM_TROUBLE = {
    "rate_limited": "kept rate limiting us",
    "server_error": "kept answering with server errors",
    "timeout": "did not answer in time",
    "unreachable": "could not be reached",
    "refused": "refused our credentials",
    "rejected": "rejected the request",
    "bad_reply": "sent a reply that could not be read",
    "deadline": "ran out of time for this lead",
}


WriteOutcome = Literal["assigned", "rejected", "unavailable"]


class NotFound(Exception):
    """No decision with that id."""


class Conflict(Exception):
    """The decision is not in a state that allows the action; the message says why."""


class UpstreamUnavailable(Exception):
    """An operator action could not be completed because the CRM did not do its part."""


def lead_id_for(request_id: str) -> str:
    """A stable CRM lead id: the same request always names the same lead."""
    return "lead-" + hashlib.sha256(request_id.encode("utf-8")).hexdigest()[:20]


def _trouble(service: str, result: CallResult) -> str:
    status = f" (last status {result.reply.status})" if result.reply is not None else ""
    attempts = len(result.attempts)
    return (
        f"{service} {UPSTREAM_TROUBLE.get(result.failure or '', 'failed')}{status} "
        f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    )


def _assignment_id(reply: Reply) -> str | None:
    try:
        data = json.loads(reply.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    value = data.get("assignment_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


class LeadRouter:
    """Decides, records and carries out lead assignments."""

    def __init__(
        self,
        settings: Settings,
        components: Components,
        store: Store,
        upstream: UpstreamClient,
        alerts: AlertMonitor,
        metrics: Metrics,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.components = components
        self.store = store
        self.upstream = upstream
        self.alerts = alerts
        self.metrics = metrics
        self.clock = clock
        self._mode: Mode = store.mode()
        metrics.set_mode(self._mode)
        self._inflight: dict[str, asyncio.Task[Decision]] = {}
        # Operator actions are rare; one at a time rules out a double approve or revert.
        self._operator_lock = asyncio.Lock()

    # -- mode -----------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        """Persist first, so a restart right after the answer keeps the new mode."""
        previous = self._mode
        self.store.set_mode(mode)
        self._mode = mode
        self.metrics.set_mode(mode)
        log.warning("mode changed", extra={"fields": {"from": previous, "to": mode}})

    # -- invoke ---------------------------------------------------------------------

    async def invoke(self, request: InvokeRequest, headers: Mapping[str, str]) -> Decision:
        """The decision for this request_id: a new one, or the one already made."""
        existing = self.store.by_request(request.request_id)
        if existing is None:
            task = self._inflight.get(request.request_id)
            if task is None:
                task = asyncio.get_running_loop().create_task(self._decide(request, headers))
                self._inflight[request.request_id] = task
                task.add_done_callback(lambda _: self._inflight.pop(request.request_id, None))
            # Shielded: a caller that hangs up must not cancel a decision halfway through.
            existing = await asyncio.shield(task)
        if existing.input != request.input:
            raise Conflict("request_id was already used for a different lead; use a new one")
        return existing

    async def _decide(self, request: InvokeRequest, headers: Mapping[str, str]) -> Decision:
        started = self.clock.monotonic()
        deadline = Deadline.after(self.clock, self.settings.deadline_s)
        decision = Decision(
            decision_id=str(uuid.uuid4()),
            request_id=request.request_id,
            timestamp=rfc3339(self.clock.now()),
            agent_version=__version__,
            mode=self.mode,
            input=request.input,
        )
        queue_reason: str | None = None
        try:
            queue_reason = await self._route_and_assign(decision, deadline, headers)
        except Exception as exc:  # a bug here must still leave a record and an answer
            log.exception("decision failed unexpectedly", extra={"fields": {
                "decision_id": decision.decision_id, "why": type(exc).__name__}})
            decision.status = "manual"
            decision.errors.append("the agent hit an internal error; the lead was queued")
            queue_reason = "internal error"
            self.metrics.errors.labels("internal").inc()
        self.store.insert(decision, queue_reason)
        self.metrics.invocations.labels(decision.status).inc()
        self.metrics.invocation_seconds.observe(self.clock.monotonic() - started)
        log.info("decision", extra={"fields": {
            "decision_id": decision.decision_id, "status": decision.status,
            "mode": decision.mode, "errors": len(decision.errors),
            "writes": len(decision.effects), "ms": round((self.clock.monotonic() - started) * 1000),
        }})
        return decision

    async def _route_and_assign(
        self, decision: Decision, deadline: Deadline, headers: Mapping[str, str]
    ) -> str | None:
        """Fill in the decision; returns why it was queued for people, or None."""
        if decision.mode == "disabled":
            decision.status = "manual"
            return "the agent is disabled"
        # Keep time for the CRM write, unless the whole deadline is shorter than that.
        reserve = min(self.settings.crm_reserve_s, self.settings.deadline_s / 2)
        routing = await self._ask_model(decision, deadline.sooner(reserve), headers)
        if routing is None:
            decision.status = "manual"
            return "the model could not route it"
        decision.reasoning = routing.reason
        decision.confidence = routing.confidence
        decision.action = {
            "type": "assign_lead",
            "lead_id": lead_id_for(decision.request_id),
            "rep_id": routing.rep_id,
        }
        # The operator may have changed the mode while the model was thinking.
        decision.mode = self.mode
        if decision.mode == "disabled":
            decision.status = "manual"
            decision.errors.append("the agent was disabled before the assignment was written")
            return "the agent is disabled"
        if decision.mode == "review_only":
            decision.status = "pending_review"
            return None
        outcome = await self._assign(decision, deadline, headers)
        if outcome == "assigned":
            decision.status = "executed"
            return None
        if outcome == "rejected":
            decision.status = "failed"
            return "the CRM rejected the assignment"
        decision.status = "manual"
        return "the CRM did not confirm the assignment; check it before routing by hand"

    async def _ask_model(
        self, decision: Decision, deadline: Deadline, headers: Mapping[str, str]
    ) -> Routing | None:
        body = chat_request(self.components, self.settings.llm_model, decision.input)
        llm_headers = dict(headers)
        if self.settings.llm_api_key:
            llm_headers["Authorization"] = f"Bearer {self.settings.llm_api_key}"
        result = await self.upstream.call(
            "llm", "POST", self.settings.llm_base_url.rstrip("/") + "/chat/completions",
            deadline=deadline, attempt_timeout_s=self.settings.llm_timeout_s,
            headers=llm_headers, json_body=body,
        )
        if not result.ok or result.reply is None:
            decision.errors.append(_trouble("the model service", result))
            self.metrics.errors.labels("llm_unavailable").inc()
            return None
        try:
            routing = parse_routing(result.reply, self.components)
        except UnusableAnswer as exc:
            decision.errors.append(str(exc))
            self.metrics.errors.labels("llm_unusable").inc()
            self.alerts.failure("llm", "bad_reply", True, self.clock.monotonic())
            return None
        self.alerts.success("llm")
        return routing

    async def _assign(
        self, decision: Decision, deadline: Deadline, headers: Mapping[str, str]
    ) -> WriteOutcome:
        """Write the assignment, recording every attempt as an effect."""
        action = decision.action
        if action is None:
            raise Conflict("the decision has no assignment to carry out")
        path = f"/leads/{action['lead_id']}/assign"
        result = await self.upstream.call(
            "crm", "POST", self.settings.crm_base_url.rstrip("/") + path,
            deadline=deadline, attempt_timeout_s=self.settings.crm_timeout_s,
            # One key per decision: a retry after a lost answer cannot assign twice.
            headers={**headers, "Idempotency-Key": f"lead-router-{decision.decision_id}"},
            json_body={"rep_id": action["rep_id"], "reason": decision.reasoning or ""},
            readable=lambda reply: _assignment_id(reply) is not None,
        )
        # Every attempt counts: one that timed out may still have reached the CRM.
        decision.effects.extend(
            {"upstream": "crm", "method": "POST", "path": path, "status": attempt.status}
            for attempt in result.attempts
        )
        if result.ok and result.reply is not None:
            decision.assignment_id = _assignment_id(result.reply)
            self.alerts.success("crm")
            return "assigned"
        decision.errors.append(_trouble("the CRM", result))
        self.metrics.errors.labels("crm_" + (result.failure or "failed")).inc()
        # A rejection (already assigned, unknown rep) is final: retrying cannot fix it.
        return "rejected" if result.failure == "rejected" else "unavailable"

    # -- operator actions -------------------------------------------------------------

    def _get(self, decision_id: str) -> Decision:
        decision = self.store.get(decision_id)
        if decision is None:
            raise NotFound(f"no decision {decision_id!r}")
        return decision

    async def approve(
        self, decision_id: str, approver: str, headers: Mapping[str, str]
    ) -> Decision:
        """Carry out a decision held for review, recording who approved it."""
        async with self._operator_lock:
            decision = self._get(decision_id)
            if decision.status != "pending_review":
                raise Conflict(f"decision is {decision.status}, not pending_review")
            if self.mode == "disabled":
                raise Conflict("the agent is disabled; enable it (PUT /control) to approve")
            deadline = Deadline.after(self.clock, self.settings.deadline_s)
            outcome = await self._assign(decision, deadline, headers)
            queue_reason = None
            if outcome == "assigned":
                decision.status, decision.approver = "executed", approver
            elif outcome == "rejected":
                decision.status = "failed"
                queue_reason = "the CRM rejected the approved assignment"
            # Unavailable: the decision stays pending, with the attempt in its record.
            self.store.update(decision, queue_reason)
            log.info("approval", extra={"fields": {"decision_id": decision_id,
                                                   "outcome": outcome}})
            if outcome == "unavailable":
                raise UpstreamUnavailable(
                    "the CRM did not take the assignment; the decision is still pending review, "
                    "try again in a few minutes"
                )
            if outcome == "rejected":
                raise Conflict("the CRM rejected the assignment; the lead was queued for people")
            return decision

    async def revert(self, decision_id: str, headers: Mapping[str, str]) -> Decision:
        """Undo an executed decision with a compensating DELETE in the CRM."""
        async with self._operator_lock:
            decision = self._get(decision_id)
            if decision.reverted:
                return decision  # reverting twice is a no-op, not an error
            if decision.status != "executed" or decision.assignment_id is None:
                raise Conflict(f"only executed decisions can be reverted; this one is "
                               f"{decision.status}")
            path = f"/assignments/{decision.assignment_id}"
            result = await self.upstream.call(
                "crm", "DELETE", self.settings.crm_base_url.rstrip("/") + path,
                deadline=Deadline.after(self.clock, self.settings.deadline_s),
                attempt_timeout_s=self.settings.crm_timeout_s, headers=dict(headers),
            )
            decision.effects.extend(
                {"upstream": "crm", "method": "DELETE", "path": path, "status": attempt.status}
                for attempt in result.attempts
            )
            gone = result.reply is not None and result.reply.status == 404
            if not result.ok and not gone:
                decision.errors.append(_trouble("the CRM", result) + " while reverting")
                self.store.update(decision)
                raise UpstreamUnavailable(
                    "the CRM did not remove the assignment; nothing was reverted, try again"
                )
            if gone:
                decision.errors.append("the CRM no longer had the assignment when reverting")
            else:
                self.alerts.success("crm")
            decision.reverted = True
            self.store.update(decision, "reverted by an operator; route this lead by hand")
            log.warning("decision reverted", extra={"fields": {"decision_id": decision_id}})
            return decision

    def manual_queue(self) -> list[dict[str, Any]]:
        """Leads waiting for a person, oldest first, with why they are there."""
        return [
            {"decision_id": d.decision_id, "queued_at": queued_at, "reason": reason,
             "input": d.input, "action": d.action, "status": d.status}
            for d, queued_at, reason in self.store.manual_queue()
        ]
