"""Upstream calls, their failures, metrics and alerts for ops_agent (see its docstring).

`request_upstream` makes one call with retries (429, 5xx and transport errors, full
jitter, a per-attempt timeout) and tells how it gave up. An upstream call that gave
up (retries exhausted, or an unusable answer) extends that upstream's streak; a
success ends it. The third give-up in a row sends one incident alert, the next
success after it one recovery alert. Delivery (Slack-compatible webhook, and mail
when ALERT_SMTP_HOST is set) runs in background tasks with a 5 s budget, so it
never delays or fails an invocation; `Alerts.drain()` awaits them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import os
import random
import re
import smtplib
import time
import traceback
from collections.abc import Awaitable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram

ATTEMPTS = 3
ATTEMPT_TIMEOUT_S = 2.0
BACKOFF_BASE_S = 0.2  # full jitter: uniform(0, 0.2 * 2**retry)
MAX_RETRY_AFTER_S = 5.0  # asked to wait longer: give up rather than retry early
SERVICE_NAMES = {"llm": "the model service", "crm": "the CRM"}
STATUSES = ("executed", "pending_review", "manual", "failed")
THRESHOLD = 3
DELIVERY_BUDGET_S = 5.0
PLAIN_NAMES = {"llm": "the AI model service", "crm": "the CRM"}
log = logging.getLogger("ops_agent.alerts")


@dataclass(frozen=True)
class GaveUp:
    """Why one upstream call gave up: the last status (None without an answer) and error."""

    upstream: str
    status: int | None
    error: BaseException

    def symptom(self) -> str:
        """What the upstream does, and the likely cause, in plain words."""
        if self.status == 429:
            return "it refuses with rate limits, likely our quota at the provider is used up"
        if self.status is not None and self.status >= 500:
            return "it answers with server errors, likely an outage at the provider"
        if self.status is not None:
            return (f"it rejects our requests (HTTP {self.status}), likely a configuration "
                    "or credentials problem on our side")
        if isinstance(self.error, httpx.TransportError | TimeoutError):
            return "it cannot be reached or does not answer in time, likely a network problem"
        return "its answers cannot be used, likely a change on the provider's side"


def _defects() -> set[str]:
    return {d.strip() for d in os.environ.get("OPS_DEFECTS", "").split(",") if d.strip()}


def plain(upstream: str) -> str:
    """The upstream's name in plain words, starting a sentence."""
    name = PLAIN_NAMES.get(upstream, upstream)
    return name[:1].upper() + name[1:]


class Alerts:
    """Streaks per upstream, dedup, and the delivery tasks (kept referenced)."""

    def __init__(self) -> None:
        self.streaks: dict[str, int] = {}
        self.alerted: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sent: list[str] = []  # every text handed to delivery, for tests
        self.last_lead: dict[str, Any] = {}  # the input being handled (for alert_pii)

    def gave_up(self, failure: GaveUp) -> None:
        streak = self.streaks[failure.upstream] = self.streaks.get(failure.upstream, 0) + 1
        storm = "alert_storm" in _defects()
        if not storm and (streak < THRESHOLD or failure.upstream in self.alerted):
            return
        self.alerted.add(failure.upstream)
        self._send(self._incident(failure, streak))

    def succeeded(self, upstream: str) -> None:
        self.streaks[upstream] = 0
        if upstream in self.alerted:
            self.alerted.discard(upstream)
            if "no_recovery" not in _defects():
                name = os.environ.get("OPS_AGENT_NAME", "ops-agent")
                self._send(f"{name}: recovered. {plain(upstream)} is answering "
                           "again; leads are being routed.")

    async def drain(self) -> None:
        """Wait for every delivery started so far (and any they start)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def _incident(self, failure: GaveUp, streak: int) -> str:
        defects = _defects()
        if "alert_traceback" in defects:
            return "".join(traceback.format_exception(failure.error))
        if "alert_json" in defects:
            return json.dumps({"upstream": failure.upstream, "status": failure.status,
                               "exception": type(failure.error).__name__, "streak": streak})
        if "alert_vague" in defects:  # plain English, but says nothing anyone can act on
            return "Heads up: something is not working right now. We are looking into it."
        name = os.environ.get("OPS_AGENT_NAME", "ops-agent")
        owner = os.environ.get("OPS_OWNER",
                               "Dana Whitfield (dana.whitfield@example.com, +1 555 0100)")
        text = (f"{name}: leads are not being routed. {plain(failure.upstream)} "
                f"has failed {streak} leads in a row; {failure.symptom()}. New leads wait in "
                f"the manual queue. Call {owner}.")
        if "alert_pii" in defects:  # "helpful" context that copies a person into chat
            text += " The last lead was " + ", ".join(str(v) for v in self.last_lead.values())
        return text

    def _send(self, text: str) -> None:
        if "no_alerts" in _defects():
            return
        self.sent.append(text)
        if os.environ.get("ALERT_WEBHOOK_URL"):
            self._spawn(_post(text))
        if os.environ.get("ALERT_SMTP_HOST"):
            self._spawn(asyncio.to_thread(_mail, text))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.create_task(_bounded(work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def _bounded(work: Awaitable[None]) -> None:
    try:
        async with asyncio.timeout(DELIVERY_BUDGET_S):
            await work
    except Exception as exc:  # an alert that cannot be delivered must not hurt anything
        log.warning("alert delivery failed: %s: %s", type(exc).__name__, exc)


async def _post(text: str) -> None:
    async with httpx.AsyncClient(timeout=DELIVERY_BUDGET_S) as client:
        response = await client.post(os.environ["ALERT_WEBHOOK_URL"], json={"text": text})
        response.raise_for_status()


def first_sentence(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "alert"
    return re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0][:200]


def _mail(text: str) -> None:
    name = os.environ.get("OPS_AGENT_NAME", "ops-agent")
    message = EmailMessage()
    message["Subject"] = first_sentence(text)
    message["From"] = f"{name}@example.com"
    message["To"] = "oncall@example.com"
    message.set_content(text)
    port = int(os.environ.get("ALERT_SMTP_PORT", "25"))
    with smtplib.SMTP(os.environ["ALERT_SMTP_HOST"], port, timeout=DELIVERY_BUDGET_S) as smtp:
        smtp.send_message(message)


class Metrics:
    """The agent's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ops_agent_requests", "Invocations by final status", ["status"],
                                registry=self.registry)
        self.errors = Counter("ops_agent_errors", "Upstream calls that gave up, by kind",
                              ["kind"], registry=self.registry)
        self.retries = Counter("ops_agent_upstream_retries", "Upstream attempts retried",
                               ["upstream"], registry=self.registry)
        self.seconds = Histogram("ops_agent_request_seconds", "Time to answer an invocation",
                                 registry=self.registry)
        for status in STATUSES:
            self.requests.labels(status)
        for upstream in SERVICE_NAMES:
            self.retries.labels(upstream)


def kind(failure: GaveUp) -> str:
    if failure.status == 429:
        return "rate_limited"
    if failure.status is not None:
        return "server_error" if failure.status >= 500 else "rejected"
    return "unusable" if isinstance(failure.error, ValueError) else "unreachable"


@dataclass
class Call:
    """One upstream call with its retries: every attempt's status, the answer or the failure."""

    response: httpx.Response | None = None
    statuses: list[int | None] = field(default_factory=list)
    failure: GaveUp | None = None
    note: str = ""


def _attempts(attempt: int) -> str:
    return "1 attempt" if attempt == 0 else f"{attempt + 1} attempts"


def _asked_wait(response: httpx.Response) -> float | None:
    """Seconds the upstream asked us to wait: retry-after-ms, else Retry-After (both forms)."""
    with contextlib.suppress(ValueError, TypeError, IndexError, OverflowError):
        if millis := response.headers.get("retry-after-ms"):
            return max(0.0, float(millis) / 1000)
        value = response.headers.get("retry-after", "").strip()
        if value.isdigit():
            return float(value)
        if value:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    return None


async def request_upstream(metrics: Metrics, client: httpx.AsyncClient, upstream: str,
                           method: str, url: str, headers: dict[str, str],
                           body: Any = None) -> Call:
    """Up to ATTEMPTS tries on 429, 5xx and transport errors, with full-jitter backoff."""
    call, name = Call(), SERVICE_NAMES[upstream]
    for attempt in range(ATTEMPTS):
        wait: float | None = None
        try:
            async with asyncio.timeout(ATTEMPT_TIMEOUT_S):
                response = await client.request(method, url, json=body, headers=headers)
        except (httpx.RequestError, TimeoutError) as exc:
            call.statuses.append(None)
            call.failure = GaveUp(upstream, None, exc)
            call.note = (f"{name} could not be reached after {_attempts(attempt)} "
                         f"({type(exc).__name__})")
        else:
            call.statuses.append(response.status_code)
            if response.is_success:
                call.response, call.failure = response, None
                return call
            try:
                response.raise_for_status()
            except httpx.HTTPStatusError as exc:
                call.failure = GaveUp(upstream, response.status_code, exc)
            status = response.status_code
            if status != 429 and status < 500:
                call.note = f"{name} answered {status}; the request was not retried"
                return call
            call.note = f"{name} kept answering {status} after {_attempts(attempt)}"
            wait = _asked_wait(response)
            if wait is not None and wait > MAX_RETRY_AFTER_S:
                call.note = f"{name} answered {status} and asked us to wait {wait:.0f} s"
                return call
        if attempt + 1 < ATTEMPTS:
            metrics.retries.labels(upstream).inc()
            await asyncio.sleep(wait if wait is not None else
                                random.uniform(0, BACKOFF_BASE_S * 2**attempt))
    return call
