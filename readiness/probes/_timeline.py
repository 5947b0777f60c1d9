"""One invocation's upstream attempts as a timeline: times relative to the first attempt.

The recorder's exchanges carry epoch times; probes judge relative ones. A timeline
entry in evidence is `{"attempt": n, "t_ms": start, "end_ms": end, "fault": name or
None, "status": HTTP status or None}`, with milliseconds since the first attempt
started, so a reader sees at a glance when each retry came and what it met.
"""

from __future__ import annotations

import datetime
import email.utils
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from readiness.chaos.recorder import Exchange

Pairs = Iterable[tuple[str, str]]


@dataclass(frozen=True)
class Attempt:
    """One attempt on the faulted route during one invocation.

    `n` counts from 1 in order of start; `t_s` and `ended_s` are seconds since the
    first attempt started; `status` is None when no response came (reset, never
    answered); `fault` is the catalogue name the proxy injected, None when the call
    went through untouched; `retry_after_s` is the wait the response asked for
    (Retry-After seconds or HTTP-date, or retry-after-ms), counted from `ended_s`.
    """

    n: int
    t_s: float
    ended_s: float
    status: int | None = None
    fault: str | None = None
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        """An untouched 2xx answer."""
        return self.fault is None and self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        """The timeline entry for evidence and charts."""
        entry: dict[str, Any] = {"attempt": self.n, "t_ms": _ms(self.t_s),
                                 "end_ms": _ms(self.ended_s), "fault": self.fault,
                                 "status": self.status}
        if self.retry_after_s is not None:
            entry["retry_after_ms"] = _ms(self.retry_after_s)
        return entry


def attempts(exchanges: Iterable[Exchange]) -> tuple[Attempt, ...]:
    """The exchanges of one invocation as attempts: sorted by start, relative to the first."""
    ordered = sorted(exchanges, key=lambda e: (e.started_at, e.seq))
    if not ordered:
        return ()
    origin = ordered[0].started_at
    return tuple(
        Attempt(n, e.started_at - origin, max(e.ended_at, e.started_at) - origin, e.status,
                e.fault, retry_after(e.response_headers, e.ended_at))
        for n, e in enumerate(ordered, start=1))


def retry_after(headers: Pairs, ended_at: float) -> float | None:
    """The wait in seconds a response asked for, or None when it asked for none.

    Reads `retry-after-ms` (milliseconds, as OpenAI and Azure send it) and
    `Retry-After` as delta-seconds or an HTTP-date (made relative to `ended_at`,
    epoch seconds). When several are present the shortest wins: an agent honouring
    any one of them is honouring the server.
    """
    waits: list[float] = []
    for name, value in headers:
        lowered, value = name.lower(), value.strip()
        if lowered == "retry-after-ms":
            waits += _number(value, 1000.0)
        elif lowered == "retry-after":
            seconds = _number(value, 1.0)
            if not seconds:
                seconds = _http_date(value, ended_at)
            waits += seconds
    return min(waits) if waits else None


def _number(value: str, per_second: float) -> list[float]:
    try:
        number = float(value)
    except ValueError:
        return []
    return [number / per_second] if math.isfinite(number) and number >= 0 else []


def _http_date(value: str, ended_at: float) -> list[float]:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return []
    if when.tzinfo is None:  # "-0000": RFC 9110 dates are GMT whatever the zone says
        when = when.replace(tzinfo=datetime.UTC)
    return [max(0.0, when.timestamp() - ended_at)]


def gaps(trial: Sequence[Attempt]) -> list[float]:
    """End-to-start pauses between consecutive attempts, in seconds (the agent's own wait)."""
    return [later.t_s - earlier.ended_s for earlier, later in itertools.pairwise(trial)]


def retry_gaps(trial: Sequence[Attempt]) -> list[float]:
    """The gaps up to the first attempt that met no fault: later calls are not retries."""
    through = next((i for i, a in enumerate(trial) if a.fault is None), len(trial) - 1)
    return gaps(trial[: through + 1])


def timeline(trial: Sequence[Attempt]) -> list[dict[str, Any]]:
    """The attempts as evidence: [{"attempt", "t_ms", "end_ms", "fault", "status"}, ...]."""
    return [attempt.to_json() for attempt in trial]


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
