"""Which fault hits which request: rules in a thread-safe schedule that is a proxy step.

The harness makes one `FaultSchedule` per run, passes it as the only step of every
recording proxy (and to the in-process injector), and adds and removes rules per
probe:

```python
schedule = FaultSchedule()
proxy = RecordingProxy("llm", target, recorder, steps=[schedule])
with schedule.active(Rule(Fault("rate_limit"), upstream="llm", first=2)):
    ...  # the first two matching requests get a 429, the rest go through
```

A rule matches a request by upstream, route glob (`"POST /v1/chat/*"`), correlation
id (X-Request-ID, else the traceparent trace-id) and time window; among matching
requests it fires for the first N attempts, with a seeded probability, and at most
`times` times. The first rule (in order of adding) that fires wins. With no rule,
a request costs one attribute check.
"""

from __future__ import annotations

import fnmatch
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from readiness.chaos.faults import Fault, inject
from readiness.chaos.messages import Headers, Response
from readiness.chaos.recorder import correlation_id as correlation_of
from readiness.chaos.steps import Forward, StepContext

if TYPE_CHECKING:
    from readiness.chaos.hold import Hold

__all__ = ["FaultSchedule", "Hit", "Rule", "RuleHandle", "parse_route"]

RouteMatcher = Callable[[str, str], bool]
_METHOD = re.compile(r"[A-Za-z]+|\*")


def parse_route(route: str) -> RouteMatcher:
    """`"POST /v1/chat/*"` or `"/v1/*"` -> a matcher of (method, path).

    The glob is fnmatch-style on the path without its query; `*` spans `/` too.
    The method is case-insensitive; none (or `*`) matches every method.
    """
    method, _, glob = route.strip().rpartition(" ")
    method = method.strip()
    if not glob.startswith(("/", "*")) or (method and not _METHOD.fullmatch(method)):
        raise ValueError(
            f"invalid route {route!r}: expected [METHOD ]PATH-GLOB like 'POST /v1/chat/*' "
            "or '/v1/*'"
        )
    pattern = re.compile(fnmatch.translate(glob)).match
    wanted = method.upper() if method and method != "*" else None

    def matches(request_method: str, path: str) -> bool:
        if wanted is not None and request_method.upper() != wanted:
            return False
        return pattern(path.partition("?")[0]) is not None

    return matches


@dataclass(frozen=True)
class Rule:
    """When `fault` hits: every criterion given must hold (None means any).

    `upstream`: the proxy's (or in-process upstream's) name. `route`: `[METHOD ]GLOB`
    on the request path. `correlation_id`: the request's X-Request-ID, else its W3C
    traceparent trace-id. `window`: `(start_s, end_s)` since the rule was added.
    Among the requests matching those, `first` fires on the first N attempts only,
    `probability` on a seeded draw per attempt (the same seed and order of requests
    give the same hits), `times` caps how often it fires in all. `seed` also seeds
    the fault's own randomness (latency jitter).
    """

    fault: Fault
    _: KW_ONLY
    upstream: str | None = None
    route: str | None = None
    correlation_id: str | None = None
    first: int | None = None
    probability: float | None = None
    window: tuple[float, float] | None = None
    times: int | None = None
    seed: int = 0
    matcher: RouteMatcher | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.fault, Fault):
            raise ValueError(f"Rule needs a Fault, got {self.fault!r}: use Rule(Fault(name))")
        if self.first is not None and self.first < 1:
            raise ValueError(f"first must be a whole number >= 1, got {self.first!r}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be a whole number >= 1, got {self.times!r}")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError(f"probability must be from 0 to 1, got {self.probability!r}")
        if self.window is not None:
            start, end = self.window
            if not 0 <= start < end:
                raise ValueError(
                    f"window must be (start_s, end_s) with 0 <= start < end, got {self.window!r}"
                )
        if self.route is not None:
            object.__setattr__(self, "matcher", parse_route(self.route))

    def __str__(self) -> str:
        """The rule as a `--fault` spec."""
        keys = [
            ("upstream", self.upstream),
            ("route", self.route),
            ("id", self.correlation_id),
            ("first", self.first),
            ("p", self.probability),
            ("window", self.window and f"{self.window[0]:g}-{self.window[1]:g}"),
            ("times", self.times),
            ("seed", self.seed or None),
        ]
        extra = [f"{key}={quote(str(value), safe='/*:.-_')}" for key, value in keys if value]
        fault = str(self.fault)
        if not extra:
            return fault
        return fault + ("," if ":" in fault else ":") + ",".join(extra)


class RuleHandle:
    """A rule added to a schedule: pass it to `remove()`; it counts what the rule did.

    `attempts`: requests that matched the rule's upstream, route, id and window;
    `fired`: how many of them got the fault.
    """

    __slots__ = ("_draws", "_jitter", "added_at", "attempts", "fired", "rule")

    def __init__(self, rule: Rule, added_at: float) -> None:
        self.rule = rule
        self.added_at = added_at
        self.attempts = 0
        self.fired = 0
        # Two streams: probability draws stay the same whatever the fault draws.
        self._draws = random.Random(f"{rule.seed}:{rule.fault.name}:p")
        self._jitter = random.Random(f"{rule.seed}:{rule.fault}:fault")

    def __repr__(self) -> str:
        return f"<RuleHandle {self.rule} attempts={self.attempts} fired={self.fired}>"


_UNSET = object()


@dataclass(frozen=True)
class Hit:
    """A rule that fired: its fault, its handle, and a seeded stream for the fault's draws."""

    fault: Fault
    handle: RuleHandle
    rng: random.Random


class FaultSchedule:
    """The run's fault rules; thread-safe; a proxy step (`steps=[schedule]`).

    `clock` (monotonic seconds) times the rules' windows: inject a fake one in tests.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._handles: tuple[RuleHandle, ...] = ()  # replaced, never mutated: lock-free reads
        self._holds: tuple[Hold, ...] = ()
        self.idle = True
        """No rule is armed: a proxy may skip this step (and its per-request task) entirely."""

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The armed rules, in order of adding (the order they are tried)."""
        return tuple(handle.rule for handle in self._handles)

    def add(self, rule: Rule) -> RuleHandle:
        """Arm `rule` after those already armed; its window starts now."""
        handle = RuleHandle(rule, self._clock())
        with self._lock:
            self._handles = (*self._handles, handle)
            self.idle = False
        return handle

    @contextmanager
    def holding(self, upstream: str | None = None, route: str | None = None) -> Iterator[Hold]:
        """Hold matching requests until `release()` (or the end of the block); see `Hold`."""
        from readiness.chaos.hold import Hold

        hold = Hold(upstream, route)
        with self._lock:
            self._holds = (*self._holds, hold)
            self.idle = False
        try:
            yield hold
        finally:
            hold.release()
            with self._lock:
                self._holds = tuple(held for held in self._holds if held is not hold)
                self.idle = not self._handles and not self._holds

    async def pass_holds(self, upstream: str, method: str, path: str) -> None:
        """Wait at every hold the request matches (returns at once when none is set)."""
        for hold in self._holds:
            if hold.matches(upstream, method, path) and not hold.released:
                await hold.wait()

    def remove(self, handle: RuleHandle) -> None:
        """Disarm a rule (no error if it was already removed)."""
        with self._lock:
            self._handles = tuple(armed for armed in self._handles if armed is not handle)
            self.idle = not self._handles and not self._holds

    def clear(self) -> None:
        """Disarm every rule."""
        with self._lock:
            self._handles = ()
            self.idle = not self._holds

    @contextmanager
    def active(self, *rules: Rule) -> Iterator[list[RuleHandle]]:
        """Arm `rules` for the duration of a `with` block."""
        handles = [self.add(rule) for rule in rules]
        try:
            yield handles
        finally:
            for handle in handles:
                self.remove(handle)

    def pick(self, upstream: str, method: str, path: str, headers: Headers) -> Fault | None:
        """The fault of the first rule that fires for this request, counting attempts."""
        hit = self.hit(upstream, method, path, headers)
        return None if hit is None else hit.fault

    def hit(self, upstream: str, method: str, path: str, headers: Headers) -> Hit | None:
        """Like `pick`, with the rule's handle and a seeded random stream for the fault."""
        handles = self._handles
        if not handles:
            return None
        request_id: object = _UNSET
        now: float | None = None
        with self._lock:
            for handle in handles:
                rule = handle.rule
                if rule.upstream is not None and rule.upstream != upstream:
                    continue
                if rule.matcher is not None and not rule.matcher(method, path):
                    continue
                if rule.correlation_id is not None:
                    if request_id is _UNSET:
                        request_id = correlation_of(headers)
                    if request_id != rule.correlation_id:
                        continue
                if rule.window is not None:
                    now = self._clock() if now is None else now
                    if not rule.window[0] <= now - handle.added_at < rule.window[1]:
                        continue
                if _fires(handle):
                    # Drawn under the lock: the n-th firing always gets the same stream.
                    rng = random.Random(handle._jitter.getrandbits(64))
                    return Hit(rule.fault, handle, rng)
        return None

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        """The proxy step: inject the picked fault, or just forward."""
        request = ctx.request
        if self._holds:
            await self.pass_holds(ctx.upstream, request.method, request.target)
        if not self._handles:
            return await forward(request)
        hit = self.hit(ctx.upstream, request.method, request.target, request.headers)
        if hit is None:
            return await forward(request)
        return await inject(hit.fault, ctx, forward, hit.rng)


def _fires(handle: RuleHandle) -> bool:
    """Count a matching attempt and decide it (called under the schedule's lock)."""
    rule = handle.rule
    handle.attempts += 1
    # Draw on every attempt, so attempt k's fate depends only on the seed and k.
    lucky = rule.probability is None or handle._draws.random() < rule.probability
    if not lucky or (rule.first is not None and handle.attempts > rule.first):
        return False
    if rule.times is not None and handle.fired >= rule.times:
        return False
    handle.fired += 1
    return True
