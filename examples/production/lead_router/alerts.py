"""Operator alerts in plain English: one when an upstream keeps failing, one when it recovers.

An incident opens when, with no success in between, either `after_failures` calls to an
upstream gave up (retries exhausted, or an answer that could not be used), or failures
have gone on for `after_s` seconds. Single rate-limited attempts during normal traffic
never get there, because any success closes the streak.

Sending is fire-and-forget with a timeout: a slow or dead alert sink must never delay
or break the invocation that happened to notice the trouble.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from lead_router.components import Escalation
from lead_router.metrics import Metrics
from lead_router.upstream import FailureKind

log = logging.getLogger("lead_router.alerts")

# What operators are told, per upstream: the symptom, and what the agent does meanwhile.
SYMPTOMS = {
    "llm": ("leads are not being routed", "the AI model service", "is answering again"),
    "crm": ("leads are not being assigned", "the CRM", "is accepting assignments again"),
}
CAUSES: dict[FailureKind, str] = {
    "rate_limited": "it is rate limiting us, likely traffic above our quota at the provider",
    "server_error": "it answers with server errors, likely an outage on its side",
    "timeout": "it stops answering, likely an outage or a network problem",
    "unreachable": "it cannot be reached, likely an outage or a network problem",
    "refused": "it refuses our credentials, likely an expired or revoked access key",
    "bad_reply": "its answers cannot be used, likely a change or fault on its side",
    "deadline": "it is too slow to answer in time, likely overload on its side",
}


@dataclass
class _Streak:
    started_at: float
    failed_calls: int = 0
    failed_attempts: int = 0
    last_kind: FailureKind = "server_error"
    alerted: bool = False


class AlertMonitor:
    """Watches upstream outcomes and sends deduplicated incident and recovery alerts."""

    def __init__(
        self,
        escalation: Escalation,
        metrics: Metrics,
        *,
        http: httpx.AsyncClient,
        monotonic: Callable[[], float],
        webhook_url: str | None = None,
        smtp_host: str | None = None,
        smtp_port: int = 25,
        email_to: str | None = None,
        email_from: str = "lead-router@brightfield-sales.io",
        after_failures: int = 3,
        after_s: float = 10.0,
        timeout_s: float = 5.0,
    ) -> None:
        self.escalation = escalation
        self.metrics = metrics
        self.http = http
        self.monotonic = monotonic
        self.webhook_url = webhook_url
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.email_to = email_to or escalation.owner_email
        self.email_from = email_from
        self.after_failures = after_failures
        self.after_s = after_s
        self.timeout_s = timeout_s
        self._streaks: dict[str, _Streak] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent: list[str] = []  # every alert text, newest last; handy for operators and tests

    def failure(self, upstream: str, kind: FailureKind, gave_up: bool, began: float) -> None:
        """Record a failed attempt that began at `began`; `gave_up` when the whole call failed."""
        now = self.monotonic()
        streak = self._streaks.setdefault(upstream, _Streak(started_at=began))
        streak.last_kind = kind
        streak.failed_attempts += 1
        streak.failed_calls += int(gave_up)
        lasted = now - streak.started_at
        if streak.alerted:
            return
        # Two failed attempts with nothing but failures for after_s seconds is an outage,
        # even when each call is slow enough (timeouts) that few of them finish.
        if streak.failed_calls >= self.after_failures or (
            lasted >= self.after_s and streak.failed_attempts >= 2
        ):
            streak.alerted = True
            self._send("incident", self.incident_text(upstream, kind, lasted, streak.failed_calls))

    def success(self, upstream: str) -> None:
        """Record a usable answer: closes the streak, and announces recovery if we alerted."""
        streak = self._streaks.pop(upstream, None)
        if streak is not None and streak.alerted:
            lasted = self.monotonic() - streak.started_at
            self._send("recovery", self.recovery_text(upstream, lasted))

    def incident_text(self, upstream: str, kind: FailureKind, lasted: float, calls: int) -> str:
        """The incident message: summary first, then symptom, likely cause, and whom to call."""
        symptom, service, _ = SYMPTOMS.get(upstream, ("leads are not being handled", upstream, ""))
        affected = f" ({calls} lead{'s' if calls != 1 else ''} affected)" if calls else ""
        return (
            f"{self.escalation.agent}: {symptom}. {_sentence(service)} has failed every "
            f"attempt for {_duration(lasted)}{affected}; {CAUSES[kind]}. New leads are "
            f"queued for manual routing, so none are lost. {self.escalation.who_to_call()}"
        )

    def recovery_text(self, upstream: str, lasted: float) -> str:
        """The recovery message, sent once after an incident alert."""
        _, service, back = SYMPTOMS.get(upstream, ("", upstream, "is working again"))
        return (
            f"{self.escalation.agent}: recovered. {_sentence(service)} {back} and the agent "
            f"is routing leads; the trouble lasted about {_duration(lasted)}. Leads queued "
            "during it are waiting in the manual queue for someone to route by hand."
        )

    def _send(self, kind: str, text: str) -> None:
        self.sent.append(text)
        self.metrics.alerts.labels(kind).inc()
        log.warning("alert sent", extra={"fields": {"alert": kind}})
        if self.webhook_url:
            self._spawn(self._post_webhook(self.webhook_url, text))
        if self.smtp_host:
            self._spawn(asyncio.to_thread(self._send_mail, self.smtp_host, text))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        async def bounded() -> None:
            try:
                async with asyncio.timeout(self.timeout_s):
                    await work
            except Exception as exc:  # an alert sink failure must never reach an invocation
                log.error("alert delivery failed", extra={"fields": {"why": type(exc).__name__}})

        task = asyncio.get_running_loop().create_task(bounded())
        self._tasks.add(task)  # keep a reference, or the task may be collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _post_webhook(self, url: str, text: str) -> None:
        response = await self.http.post(url, json={"text": text})
        response.raise_for_status()

    def _send_mail(self, host: str, text: str) -> None:
        message = EmailMessage()
        message["Subject"] = text.split(". ", 1)[0]
        message["From"] = self.email_from
        message["To"] = self.email_to
        message.set_content(text)
        with smtplib.SMTP(host, self.smtp_port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)

    async def drain(self) -> None:
        """Wait for alerts in flight (used at shutdown and by tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _sentence(text: str) -> str:
    """`text` with a capital first letter (str.capitalize would lower-case "CRM")."""
    return text[:1].upper() + text[1:]


def _duration(seconds: float) -> str:
    if seconds < 90:
        whole = max(1, round(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{round(seconds / 60)} minutes"
