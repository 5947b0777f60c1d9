"""Judging a retry policy from the pauses between attempts, over several trials.

Input: for each trial (one invocation under the same fault), the gaps between
consecutive attempts on the faulted route, in seconds, measured **end to start**:
from the moment the failed attempt's answer ended (or the connection was reset or
abandoned) to the start of the next attempt. That is the time the agent chose to
wait, without the upstream's latency or the fault's own duration (a timeout).

Method, robust to few samples (5-8 trials x 3-4 retries) and timing noise of about
+-10 ms on a loaded machine:

1. Immediate: the 90th percentile of all gaps is under `IMMEDIATE_S`.
2. Jitter: the gaps are lined up by retry number (the k-th gap of every trial).
   Without jitter they differ only by timing noise, whatever their size; with
   jitter they spread in proportion to the delay. A retry number is *spread* when
   the range of its gaps, with the single most extreme one dropped once there are
   four or more (so one scheduling hiccup cannot fake jitter), exceeds
   `NOISE_S + RELATIVE_NOISE * median`. One spread retry number is enough.
3. Growth: the per-retry level is the envelope (the largest gap at that retry
   number) when jittered, the median otherwise. The delay grows when the
   least-squares factor per retry of the log levels is at least `GROWTH`, or when
   a later level reaches `CAPPED_GROWTH` times the first (growth up to a cap).
4. Without jitter, the shape is named for the message: fixed (levels within
   `FIXED_RATIO`), else linear or exponential, whichever fits the levels better.

Exponential growth with jitter (full, equal, decorrelated, proportional) passes;
immediate, fixed, linear and plain exponential fail, each with its own reason.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

IMMEDIATE_S = 0.050
NOISE_S = 0.030
RELATIVE_NOISE = 0.03
GROWTH = 1.3
CAPPED_GROWTH = 1.8
FIXED_RATIO = 1.25
MIN_SPREAD_SAMPLES = 3


class Policy(enum.StrEnum):
    """The retry policy the gaps show."""

    NO_RETRIES = "no_retries"
    UNDETERMINED = "undetermined"
    IMMEDIATE = "immediate"
    FIXED = "fixed"
    LINEAR = "linear"
    GROWING = "growing"  # grows without jitter; too few retries to tell linear from exponential
    NO_JITTER = "no_jitter"  # the same delay every time, growth not judged (one retry per trial)
    EXPONENTIAL = "exponential"
    JITTER_WITHOUT_GROWTH = "jitter_without_growth"
    JITTERED = "jittered"  # jittered, one retry per trial: growth not judged
    EXPONENTIAL_JITTER = "exponential_jitter"


_ONE = "most trials retried only once"
PASSING = frozenset({Policy.EXPONENTIAL_JITTER, Policy.JITTERED})


@dataclass(frozen=True)
class RetryGaps:
    """The gaps before retry number `retry` (1 = first retry) across trials, in seconds."""

    retry: int
    gaps: tuple[float, ...]
    spread: float | None  # None: fewer than MIN_SPREAD_SAMPLES trials reached this retry
    allowance: float

    @property
    def jittered(self) -> bool:
        return self.spread is not None and self.spread > self.allowance

    def to_json(self) -> dict[str, Any]:
        """Milliseconds, rounded, for evidence."""
        return {"retry": self.retry, "trials": len(self.gaps),
                "min_ms": _ms(min(self.gaps)), "median_ms": _ms(statistics.median(self.gaps)),
                "max_ms": _ms(max(self.gaps)),
                "spread_ms": None if self.spread is None else _ms(self.spread),
                "noise_allowance_ms": _ms(self.allowance), "jittered": self.jittered}


@dataclass(frozen=True)
class BackoffVerdict:
    """What the gaps show: the policy, whether it passes, why, and the numbers behind it."""

    policy: Policy
    reason: str
    retries: tuple[RetryGaps, ...] = ()
    growth: float | None = None

    @property
    def ok(self) -> bool:
        return self.policy in PASSING

    @property
    def jittered(self) -> bool:
        return any(r.jittered for r in self.retries)

    def to_json(self) -> dict[str, Any]:
        """The verdict as evidence."""
        return {"policy": self.policy.value,
                "growth_per_retry": None if self.growth is None else round(self.growth, 2),
                "per_retry": [r.to_json() for r in self.retries]}


def classify(trials: Sequence[Sequence[float]]) -> BackoffVerdict:
    """Classify the retry policy from end-to-start gaps (seconds), one sequence per trial."""
    clean = [[max(0.0, g) for g in gaps] for gaps in trials]
    every = sorted(g for gaps in clean for g in gaps)
    if not every:
        return BackoffVerdict(Policy.NO_RETRIES, "no trial retried, so there is no backoff to time")
    retries = _retry_gaps(clean)
    p90 = every[min(len(every) - 1, math.ceil(0.9 * len(every)) - 1)]
    if p90 < IMMEDIATE_S:
        return BackoffVerdict(Policy.IMMEDIATE,
                              f"retries are immediate: 90% of the {len(every)} gaps are at most "
                              f"{_ms(p90)} ms (under {_ms(IMMEDIATE_S)} ms), so the agent hammers "
                              "a failing upstream",
                              retries)
    jittered = any(r.jittered for r in retries)
    if not jittered and all(r.spread is None for r in retries):
        return BackoffVerdict(Policy.UNDETERMINED,
                              f"too few trials retried to judge jitter (need {MIN_SPREAD_SAMPLES} "
                              "trials reaching the same retry)", retries)
    usable = _levels(retries, jittered)
    growth = _growth_factor(usable) if len(usable) >= 2 else None
    if jittered:
        return _jittered(retries, usable, growth)
    return _not_jittered(retries, usable, growth)


def _jittered(retries: tuple[RetryGaps, ...], levels: list[tuple[int, float]],
              growth: float | None) -> BackoffVerdict:
    spread = max((r for r in retries if r.jittered), key=lambda r: r.spread or 0.0)
    shown = (f"gaps before retry {spread.retry} spread over {_ms(spread.spread or 0.0)} ms "
             f"across {len(spread.gaps)} trials")
    if growth is None:
        return BackoffVerdict(Policy.JITTERED, f"jittered ({shown}); growth not judged: {_ONE}",
                              retries)
    if _grows(levels, growth):
        return BackoffVerdict(Policy.EXPONENTIAL_JITTER,
                              f"exponential backoff with jitter: the longest gap grows x"
                              f"{growth:.1f} per retry ({_levels_text(levels)}); {shown}",
                              retries, growth)
    return BackoffVerdict(Policy.JITTER_WITHOUT_GROWTH,
                          f"jittered but not backing off: the longest gap stays at "
                          f"{_levels_text(levels)} (x{growth:.2f} per retry), so a longer outage "
                          f"gets no more room; {shown}", retries, growth)


def _not_jittered(retries: tuple[RetryGaps, ...], levels: list[tuple[int, float]],
                  growth: float | None) -> BackoffVerdict:
    noise = (f"retries at the same retry number differ by at most "
             f"{_ms(max(r.spread for r in retries if r.spread is not None))} ms across trials")
    herd = "no jitter: every client that failed together retries together (thundering herd)"
    if growth is None:
        return BackoffVerdict(Policy.NO_JITTER, f"{herd}; {noise}; growth not judged: {_ONE}",
                              retries)
    values = [v for _, v in levels]
    if max(values) <= FIXED_RATIO * max(min(values), 1e-3):
        return BackoffVerdict(Policy.FIXED, f"fixed interval ({_levels_text(levels)}) and {herd}; "
                              f"{noise}", retries, growth)
    if len(levels) < 3:
        return BackoffVerdict(Policy.GROWING, f"the delay grows ({_levels_text(levels)}) but with "
                              f"{herd}; {noise}", retries, growth)
    if _linear_fits_better(levels):
        return BackoffVerdict(Policy.LINEAR, f"linear spacing ({_levels_text(levels)}), not "
                              f"exponential, and {herd}; {noise}", retries, growth)
    return BackoffVerdict(Policy.EXPONENTIAL, f"exponential backoff ({_levels_text(levels)}, "
                          f"x{growth:.1f} per retry) but {herd}; {noise}", retries, growth)


def _retry_gaps(trials: list[list[float]]) -> tuple[RetryGaps, ...]:
    """The gaps lined up by retry number, with their spread and the noise allowance."""
    longest = max(len(gaps) for gaps in trials)
    out = []
    for k in range(longest):
        gaps = tuple(gaps[k] for gaps in trials if len(gaps) > k)
        allowance = NOISE_S + RELATIVE_NOISE * statistics.median(gaps)
        out.append(RetryGaps(k + 1, gaps, _spread(gaps), allowance))
    return tuple(out)


def _spread(gaps: tuple[float, ...]) -> float | None:
    """The range, with the single most extreme value dropped once there are 4 or more."""
    if len(gaps) < MIN_SPREAD_SAMPLES:
        return None
    ordered = sorted(gaps)
    if len(ordered) >= 4:
        return min(ordered[-2] - ordered[0], ordered[-1] - ordered[1])
    return ordered[-1] - ordered[0]


def _levels(retries: tuple[RetryGaps, ...], jittered: bool) -> list[tuple[int, float]]:
    """(retry, level) for retry numbers most trials reached: envelope if jittered, else median."""
    needed = max(2, math.ceil(len(retries[0].gaps) / 2))
    return [(r.retry, max(r.gaps) if jittered else statistics.median(r.gaps))
            for r in retries if len(r.gaps) >= needed]


def _growth_factor(levels: list[tuple[int, float]]) -> float:
    """exp of the least-squares slope of log(level) over the retry number."""
    xs = [float(k) for k, _ in levels]
    ys = [math.log(max(v, 1e-3)) for _, v in levels]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)
    return math.exp(slope)


def _grows(levels: list[tuple[int, float]], growth: float) -> bool:
    """Geometric growth overall, or up to a cap: a later level well above the first."""
    first = max(levels[0][1], 1e-3)
    return growth >= GROWTH or max(v for _, v in levels[1:]) >= CAPPED_GROWTH * first


def _linear_fits_better(levels: list[tuple[int, float]]) -> bool:
    """Whether a straight line fits the levels better than a geometric curve (relative error)."""
    xs = [float(k) for k, _ in levels]
    ys = [max(v, 1e-3) for _, v in levels]
    a, b = _line(xs, ys)
    la, lb = _line(xs, [math.log(y) for y in ys])
    linear = sum(((a + b * x) - y) ** 2 / y**2 for x, y in zip(xs, ys, strict=True))
    geometric = sum((math.exp(la + lb * x) - y) ** 2 / y**2 for x, y in zip(xs, ys, strict=True))
    return linear < geometric


def _line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares intercept and slope."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)
    return my - slope * mx, slope


def _levels_text(levels: list[tuple[int, float]]) -> str:
    return ", ".join(f"{_ms(v)} ms" for _, v in levels)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
