"""Item 7, load: production volume, with faults, within the thresholds, losing nothing.

The observer (`load_observe`) runs a Locust campaign (`readiness.load`) against the
agent while the proxies inject the `[load] faults` rates into upstream calls, then
checks that every acknowledged decision has its audit record. The probes judge the
campaign's statistics against `[load]`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from readiness.registry import probe
from readiness.results import Finding, errored, failed, not_applicable, passed

ITEM = "load"


@dataclass(frozen=True)
class Thresholds:
    p95_ms: float
    max_error_rate: float
    volume_per_day: int | None
    peak_factor: float

    @property
    def peak_rps(self) -> float | None:
        """The request rate the declared volume implies at its peak."""
        if self.volume_per_day is None:
            return None
        return self.volume_per_day / 86_400 * self.peak_factor


@dataclass(frozen=True)
class AuditCheck:
    """After the campaign: did every acknowledged decision leave its record?"""

    acknowledged: int
    found: int
    missing: tuple[str, ...] = ()
    method: str = ""
    problem: str | None = None


@dataclass(frozen=True)
class CapacityStep:
    users: int
    rps: float
    p95_ms: float | None
    error_rate: float
    held: bool


@dataclass(frozen=True)
class Capacity:
    """A stepped campaign: each step's figures, and the best rate held within thresholds."""

    steps: tuple[CapacityStep, ...]
    best_rps: float | None


@dataclass(frozen=True)
class LoadObservations:
    thresholds: Thresholds
    campaign: Any = None  # readiness.load.CampaignResult
    audit: AuditCheck | None = None
    faults: Mapping[str, float] = field(default_factory=dict)
    capacity: Capacity | None = None  # when [load] capacity asked for a stepped campaign
    unavailable: str | None = None


def _ran(obs: LoadObservations) -> Any:
    if obs.unavailable:
        return errored(f"no load campaign ran: {obs.unavailable}")
    campaign = obs.campaign
    if campaign is None:
        return errored("no load campaign ran")
    if campaign.problem and not campaign.requests:
        return errored(f"the load campaign did not run: {campaign.problem}")
    if not campaign.requests:
        return errored("the load campaign sent no request")
    if campaign.incomplete:  # figures from part of a campaign cannot pass a threshold
        return errored(f"the load campaign was cut short ({campaign.problem or 'stopped'}) "
                       f"after {campaign.duration_s:.0f} s and {campaign.requests} requests, "
                       "so the thresholds were not judged; the figures so far are in the "
                       "evidence", history=_history(campaign), **summary(obs))
    return campaign


def summary(obs: LoadObservations) -> dict[str, Any]:
    """The campaign's figures as evidence."""
    c = obs.campaign
    return {"requests": c.requests, "failures": c.failures, "rps": round(c.rps, 1),
            "p50_ms": c.p50_ms, "p95_ms": c.p95_ms, "p99_ms": c.p99_ms, "max_ms": c.max_ms,
            "error_rate": round(c.error_rate, 4), "duration_s": round(c.duration_s, 1),
            "failures_by_kind": dict(c.failures_by_kind), "faults_injected": dict(obs.faults),
            "incomplete": c.incomplete, "locust": " ".join(c.command)}


def _history(campaign: Any) -> list[dict[str, Any]]:
    """Locust's per-second history (the report draws it as latency over time)."""
    return [{"t": h.t, "users": h.users, "rps": h.rps, "failures_per_s": h.failures_per_s,
             "p50_ms": h.p50_ms, "p95_ms": h.p95_ms} for h in campaign.history]


@probe(ITEM, weight=2, title="p95 latency under load stays within the threshold",
       why="A decision that takes ten seconds at peak is a queue of leads nobody is routing; "
           "slow tails are where timeouts, retries and duplicate work begin.",
       fix="Profile the slow path under load (upstream calls, locks, synchronous I/O on the "
           "event loop); bound upstream timeouts; add workers or concurrency.")
def load_holds_p95(obs: LoadObservations) -> Finding:
    campaign = _ran(obs)
    if isinstance(campaign, Finding):
        return campaign
    limit = obs.thresholds.p95_ms
    if campaign.p95_ms is None:
        return errored("the campaign reported no latency percentiles", **summary(obs))
    if campaign.p95_ms > limit:
        return failed(f"p95 latency was {campaign.p95_ms:.0f} ms at {campaign.rps:.1f} req/s, "
                      f"over the {limit:g} ms allowed", history=_history(campaign),
                      **summary(obs))
    return passed(f"p95 latency {campaign.p95_ms:.0f} ms at {campaign.rps:.1f} req/s "
                  f"(allowed {limit:g} ms)", history=_history(campaign), **summary(obs))


@probe(ITEM, weight=2, title="The error rate under load and faults stays within the threshold",
       why="Under load, with upstreams rate limiting and timing out, every failed invocation "
           "is work someone must redo by hand.",
       fix="Answer every invocation with a decision (manual when an upstream gives up) rather "
           "than an HTTP error; retry transient upstream errors with backoff.")
def load_error_rate_within_limit(obs: LoadObservations) -> Finding:
    campaign = _ran(obs)
    if isinstance(campaign, Finding):
        return campaign
    limit = obs.thresholds.max_error_rate
    if campaign.error_rate > limit:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(campaign.failures_by_kind.items(),
                                                        key=lambda kv: -kv[1])[:3])
        return failed(f"{campaign.error_rate:.2%} of {campaign.requests} invocations failed "
                      f"({kinds}), over the {limit:.2%} allowed", **summary(obs))
    return passed(f"{campaign.error_rate:.2%} of {campaign.requests} invocations failed "
                  f"(allowed {limit:.2%})", **summary(obs))


@probe(ITEM, weight=2, title="Throughput reaches the declared peak volume",
       why="The volume a team expects on its busiest hour is the load the agent must carry "
           "on launch day, not the one a demo sees.",
       fix="Remove serialisation (global locks, one connection, synchronous calls) from the "
           "invoke path, or run more instances; declare the real volume in [scenario].")
def load_meets_peak_throughput(obs: LoadObservations) -> Finding:
    campaign = _ran(obs)
    if isinstance(campaign, Finding):
        return campaign
    peak = obs.thresholds.peak_rps
    if peak is None:
        return not_applicable("[scenario] volume_per_day is not declared, so there is no "
                              "peak rate to reach", **summary(obs))
    evidence = {**summary(obs), "required_rps": round(peak, 2),
                "volume_per_day": obs.thresholds.volume_per_day,
                "peak_factor": obs.thresholds.peak_factor}
    if campaign.rps < peak:
        return failed(f"{campaign.rps:.1f} req/s, under the {peak:.1f} req/s peak that "
                      f"{obs.thresholds.volume_per_day:,} a day at {obs.thresholds.peak_factor:g}x "
                      "implies", **evidence)
    return passed(f"{campaign.rps:.1f} req/s against a {peak:.1f} req/s peak "
                  f"({obs.thresholds.volume_per_day:,} a day at "
                  f"{obs.thresholds.peak_factor:g}x)", **evidence)


@probe(ITEM, weight=3, title="No audit record is lost under load",
       why="Records lost at peak are lost exactly when volume makes them hardest to rebuild.",
       fix="Write audit records in the same transaction as the decision, with a store that "
           "handles concurrent writers (a database, not a file rewritten per request).")
def load_loses_no_audit_record(obs: LoadObservations) -> Finding:
    campaign = _ran(obs)
    if isinstance(campaign, Finding):
        return campaign
    audit = obs.audit
    if audit is None:
        return errored("the audit records were not checked after the campaign")
    if audit.problem and not audit.found:
        return errored(f"the audit records could not be checked: {audit.problem}")
    if audit.acknowledged == 0:
        return errored("the agent acknowledged no invocation during the campaign")
    evidence: dict[str, Any] = {"acknowledged": audit.acknowledged, "found": audit.found,
                "checked_by": audit.method}
    if audit.missing:
        return failed(f"{len(audit.missing)} of {audit.acknowledged} acknowledged decisions "
                      "have no audit record after the campaign",
                      missing=list(audit.missing[:10]), **evidence)
    return passed(f"all {audit.acknowledged} acknowledged decisions have their audit record",
                  **evidence)


@probe(ITEM, blocking=False, title="Measured capacity covers the declared peak",
       why="Knowing the rate where latency or errors break is what lets a team plan headroom "
           "before launch instead of discovering it during the first busy hour.",
       fix="If capacity is under the peak, find the bottleneck the stepped campaign exposed "
           "(the step where p95 or errors broke) or scale out before launch.")
def load_capacity_covers_peak(obs: LoadObservations) -> Finding:
    if obs.capacity is None:
        return not_applicable("no stepped campaign ran (set [load] capacity = true or pass "
                              "--capacity to readiness load)")
    steps = [dataclasses.asdict(s) for s in obs.capacity.steps]
    best, peak = obs.capacity.best_rps, obs.thresholds.peak_rps
    evidence: dict[str, Any] = {"steps": steps, "capacity_rps": best, "peak_rps": peak}
    if best is None:
        return failed("no step of the stepped campaign held the thresholds", **evidence)
    if peak is None:
        return passed(f"the agent held {best:.1f} req/s within the thresholds (no declared "
                      "peak to compare with)", **evidence)
    if best < peak:
        return failed(f"the agent held at most {best:.1f} req/s within the thresholds, under "
                      f"the declared peak of {peak:.1f} req/s", **evidence)
    return passed(f"the agent held {best:.1f} req/s within the thresholds: "
                  f"{best / peak:.1f}x the declared peak of {peak:.1f} req/s", **evidence)
