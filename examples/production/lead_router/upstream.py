"""Calling upstreams without falling over: timeouts, bounded retries, backoff, Retry-After.

Every call runs inside the invocation's deadline: an attempt never gets more time than
is left, and a wait that would outlast the deadline ends the call instead of sleeping.
Retryable means the request may succeed unchanged later: 408, 429, 5xx gateways and
transport failures. Anything else (400, 401, 403, 404, 409, 422...) is returned at once,
because sending the same request again can only fail the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from lead_router.metrics import Metrics

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BODY_BYTES = 1_048_576

FailureKind = Literal[
    "rate_limited", "server_error", "timeout", "unreachable", "refused", "rejected",
    "bad_reply", "deadline",
]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS Architecture Blog, 2015)."""

    max_attempts: int = 4
    base_s: float = 0.25
    cap_s: float = 4.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number `retry` (0-based): uniform in [0, min(cap, base*2^retry)]."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2**retry))


@dataclass
class Clock:
    """Time sources, injectable so tests run retries without really sleeping."""

    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Sleep = asyncio.sleep


@dataclass
class Deadline:
    """The moment, on the monotonic clock, by which an invocation must have its answer."""

    clock: Clock
    at: float

    @classmethod
    def after(cls, clock: Clock, seconds: float) -> Deadline:
        return cls(clock, clock.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - self.clock.monotonic()

    def sooner(self, seconds: float) -> Deadline:
        """A deadline `seconds` before this one (to keep time for a later step)."""
        return Deadline(self.clock, self.at - seconds)


def retry_after_s(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the server asked us to wait, from `retry-after-ms` or `Retry-After`.

    When both are present the longer wins: waiting less than either would be too soon.
    """
    asked: list[float] = []
    millis = headers.get("retry-after-ms")
    if millis is not None:
        with contextlib.suppress(ValueError):
            asked.append(float(millis) / 1000)
    value = headers.get("retry-after")
    if value is not None:
        value = value.strip()
        if value.isdigit():
            asked.append(float(value))
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                asked.append((when - now).total_seconds())
    finite = [seconds for seconds in asked if math.isfinite(seconds)]
    return max(0.0, *finite) if finite else None


@dataclass(frozen=True)
class Reply:
    """A complete upstream answer."""

    status: int
    headers: httpx.Headers
    body: bytes


@dataclass
class Attempt:
    """What one attempt saw: a status, or the transport failure that replaced it."""

    status: int | None
    failure: FailureKind | None


@dataclass
class CallResult:
    """The last reply (if any), every attempt, and why the call failed (None when it did not)."""

    reply: Reply | None
    attempts: list[Attempt] = field(default_factory=list)
    failure: FailureKind | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


class BodyTooLarge(Exception):
    """The upstream sent more than MAX_BODY_BYTES; we stop reading rather than buffer it."""


# (upstream, what went wrong, whether the call gave up, when the attempt began)
FailureHook = Callable[[str, FailureKind, bool, float], None]


class UpstreamClient:
    """Sends requests with the retry policy, feeding metrics and the failure hook."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        metrics: Metrics,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_failure: FailureHook | None = None,
    ) -> None:
        self.http = http
        self.metrics = metrics
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        # Jitter needs no reproducibility in production; tests pass a seeded Random.
        self.rng = rng or random.SystemRandom()
        self.on_failure = on_failure

    async def call(
        self,
        upstream: str,
        method: str,
        url: str,
        *,
        deadline: Deadline,
        attempt_timeout_s: float,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        readable: Callable[[Reply], bool] | None = None,
    ) -> CallResult:
        """Send until success, a non-retryable answer, the attempt limit or the deadline.

        `readable` marks a successful reply the caller cannot use (an HTML page with
        status 200, a cut-off body) as a `bad_reply`, which is then retried too. Pass it
        only for requests that are safe to repeat, like writes with an Idempotency-Key.
        """
        result = CallResult(reply=None)
        for attempt_no in range(self.policy.max_attempts):
            remaining = deadline.remaining()
            if remaining <= 0:
                result.failure = result.failure or "deadline"
                break
            began = self.clock.monotonic()
            reply, failure = await self._attempt(
                method, url, min(attempt_timeout_s, remaining), headers, json_body
            )
            if failure is None and readable is not None and reply and not readable(reply):
                failure = "bad_reply"
            self.metrics.upstream_seconds.labels(upstream).observe(self.clock.monotonic() - began)
            self.metrics.upstream_requests.labels(upstream, failure or "ok").inc()
            result.attempts.append(Attempt(reply.status if reply else None, failure))
            result.reply, result.failure = reply, failure
            if failure is None:
                return result
            delay = self._retry_delay(attempt_no, reply, failure, deadline, readable is not None)
            if self.on_failure is not None and failure != "rejected":
                # A client error (400, 404, 409, 422) is our request's fault, not an outage.
                self.on_failure(upstream, failure, delay is None, began)
            if delay is None:
                break
            self.metrics.retries.labels(upstream).inc()
            await self.clock.sleep(delay)
        return result

    def _retry_delay(
        self,
        attempt_no: int,
        reply: Reply | None,
        failure: FailureKind,
        deadline: Deadline,
        retry_unreadable: bool,
    ) -> float | None:
        """How long to wait before the next attempt, or None to give up now."""
        if failure in ("refused", "rejected") or (failure == "bad_reply" and not retry_unreadable):
            return None
        if attempt_no >= self.policy.max_attempts - 1:
            return None
        delay = self.policy.backoff(attempt_no, self.rng)
        if reply is not None:
            asked = retry_after_s(reply.headers, self.clock.now())
            if asked is not None:
                delay = max(delay, asked)  # never sooner than the server asked
        # A wait that would outlast the deadline is pointless: give up and let the caller
        # fall back while there is still time to answer.
        return delay if delay < deadline.remaining() else None

    async def _attempt(
        self,
        method: str,
        url: str,
        timeout_s: float,
        headers: Mapping[str, str] | None,
        json_body: Any,
    ) -> tuple[Reply | None, FailureKind | None]:
        """One request, bounded by `timeout_s` from connect to the body's last byte."""
        reply: Reply | None = None
        failure: FailureKind | None
        try:
            # The outer timeout also bounds a body that trickles in byte by byte.
            async with asyncio.timeout(timeout_s):
                async with self.http.stream(
                    method, url, headers=headers, json=json_body, timeout=timeout_s
                ) as response:
                    body = await _read_capped(response)
                    reply = Reply(response.status_code, response.headers, body)
        except (TimeoutError, httpx.TimeoutException):
            failure = "timeout"
        except BodyTooLarge:
            failure = "bad_reply"
        except httpx.TransportError:
            failure = "unreachable"
        else:
            failure = _classify(reply.status)
        return reply, failure


def _classify(status: int) -> FailureKind | None:
    if status < 400:
        return None
    if status == 429:
        return "rate_limited"
    if status in RETRYABLE_STATUSES:
        return "timeout" if status == 408 else "server_error"
    if status in (401, 403):
        return "refused"
    return "rejected"


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
