"""Item 7's probes as pure functions: tables of campaign results, no agent, no Locust."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from readiness.load import CampaignResult, HistoryPoint
from readiness.probes.load import (
    AuditCheck,
    Capacity,
    CapacityStep,
    LoadObservations,
    Thresholds,
    load_capacity_covers_peak,
    load_error_rate_within_limit,
    load_holds_p95,
    load_loses_no_audit_record,
    load_meets_peak_throughput,
)
from readiness.results import Outcome

LIMITS = Thresholds(p95_ms=500, max_error_rate=0.01, volume_per_day=864_000, peak_factor=3)
CAMPAIGN = CampaignResult(
    requests=1000, failures=2, rps=50.0, p50_ms=40, p95_ms=120, p99_ms=300, max_ms=900,
    error_rate=0.002, history=(HistoryPoint(1, 8, 50, 0, 40, 120),),
    failures_by_kind={"HTTP 500": 2}, acknowledged=Path("ack.jsonl"), acknowledged_count=998,
    duration_s=20, incomplete=False, problem=None, command=("locust",))
GOOD = LoadObservations(LIMITS, CAMPAIGN, AuditCheck(998, 998, method="list"))


def changed(**campaign: Any) -> LoadObservations:
    return dataclasses.replace(GOOD, campaign=dataclasses.replace(CAMPAIGN, **campaign))


CASES = [
    (load_holds_p95, GOOD, Outcome.PASS, "p95 latency 120 ms"),
    (load_holds_p95, changed(p95_ms=900.0), Outcome.FAIL, "over the 500 ms allowed"),
    (load_holds_p95, changed(p95_ms=None), Outcome.ERROR, "no latency percentiles"),
    (load_error_rate_within_limit, GOOD, Outcome.PASS, "0.20% of 1000"),
    (load_error_rate_within_limit, changed(error_rate=0.05, failures=50), Outcome.FAIL,
     "5.00% of 1000 invocations failed (HTTP 500 x2)"),
    (load_meets_peak_throughput, GOOD, Outcome.PASS, "50.0 req/s against a 30.0 req/s peak"),
    (load_meets_peak_throughput, changed(rps=12.0), Outcome.FAIL, "under the 30.0 req/s peak"),
    (load_meets_peak_throughput,
     dataclasses.replace(GOOD, thresholds=dataclasses.replace(LIMITS, volume_per_day=None)),
     Outcome.NOT_APPLICABLE, "volume_per_day is not declared"),
    (load_loses_no_audit_record, GOOD, Outcome.PASS, "all 998 acknowledged decisions"),
    (load_loses_no_audit_record,
     dataclasses.replace(GOOD, audit=AuditCheck(998, 990, ("d1", "d2"), "list")), Outcome.FAIL,
     "2 of 998 acknowledged decisions have no audit record"),
    (load_loses_no_audit_record, dataclasses.replace(GOOD, audit=AuditCheck(0, 0)),
     Outcome.ERROR, "acknowledged no invocation"),
    (load_loses_no_audit_record,
     dataclasses.replace(GOOD, audit=AuditCheck(10, 0, problem="GET /audit answered 404")),
     Outcome.ERROR, "could not be checked: GET /audit answered 404"),
    (load_capacity_covers_peak, GOOD, Outcome.NOT_APPLICABLE, "no stepped campaign ran"),
    (load_capacity_covers_peak, dataclasses.replace(GOOD, capacity=Capacity(
        (CapacityStep(2, 40.0, 100, 0, True), CapacityStep(4, 60.0, 900, 0, False)), 40.0)),
     Outcome.PASS, "1.3x the declared peak"),
    (load_capacity_covers_peak, dataclasses.replace(GOOD, capacity=Capacity(
        (CapacityStep(2, 20.0, 100, 0, True),), 20.0)), Outcome.FAIL, "under the declared peak"),
    (load_capacity_covers_peak, dataclasses.replace(GOOD, capacity=Capacity(
        (CapacityStep(2, 20.0, 900, 0, False),), None)), Outcome.FAIL, "no step"),
]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"), CASES,
                         ids=[f"{c[0].__name__}-{n}" for n, c in enumerate(CASES)])
def test_load_probe(probe: Any, observations: LoadObservations, outcome: Outcome,
                    fragment: str) -> None:
    finding = probe(observations)
    assert finding.outcome is outcome, finding.message
    assert fragment in finding.message


UNASSESSABLE = [
    (LoadObservations(LIMITS, unavailable="in-process agent"), "in-process agent"),
    (LoadObservations(LIMITS), "no load campaign ran"),
    (changed(requests=0, problem="locust did not start"), "locust did not start"),
    (changed(requests=0), "sent no request"),
    (changed(incomplete=True, problem="the campaign was cancelled before it ended"),
     "cut short (the campaign was cancelled before it ended) after 20 s and 1000 requests"),
    (changed(incomplete=True, problem="worker 2 exited with 1"), "cut short (worker 2 exited"),
]


@pytest.mark.parametrize("probe", [load_holds_p95, load_error_rate_within_limit,
                                   load_meets_peak_throughput, load_loses_no_audit_record])
@pytest.mark.parametrize(("observations", "fragment"), UNASSESSABLE,
                         ids=["unavailable", "empty", "problem", "no-requests", "cancelled",
                              "worker-died"])
def test_a_campaign_that_did_not_run_is_an_error(probe: Any, observations: LoadObservations,
                                                 fragment: str) -> None:
    finding = probe(observations)
    assert finding.outcome is Outcome.ERROR and fragment in finding.message


def test_the_peak_rate_is_the_daily_volume_at_its_peak_factor() -> None:
    assert LIMITS.peak_rps == pytest.approx(864_000 / 86_400 * 3)


def test_p95_evidence_carries_the_history_for_the_chart() -> None:
    history = load_holds_p95(GOOD).evidence["history"]
    assert history == [{"t": 1, "users": 8, "rps": 50, "failures_per_s": 0, "p50_ms": 40,
                        "p95_ms": 120}]
