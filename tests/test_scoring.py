"""Scoring and the gate, table-driven over probe outcomes; no agent involved."""

from __future__ import annotations

import pytest

from readiness.items import BY_KEY, ITEMS
from readiness.results import Outcome, ProbeResult
from readiness.scoring import evaluate_gate, score_item

P, F, E, NA = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE


def _result(outcome: Outcome, weight: int = 1, blocking: bool = True, n: int = 0) -> ProbeResult:
    return ProbeResult(f"probe_{n}", "docs", "t", outcome, "m", {}, "fix", weight, blocking)


def _results(*spec: tuple[Outcome, int, bool]) -> list[ProbeResult]:
    return [_result(o, w, b, n) for n, (o, w, b) in enumerate(spec)]


@pytest.mark.parametrize(("spec", "status", "score"), [
    ((), "not_run", 0.0),
    (((NA, 1, True),), "not_run", 0.0),
    (((P, 1, True), (P, 2, True)), "pass", 10.0),
    (((P, 1, True), (F, 1, True)), "fail", 5.0),
    (((P, 3, True), (F, 1, False)), "pass", 7.5),      # advisory failure above the bar
    (((P, 1, True), (F, 1, False)), "fail", 5.0),      # advisory failure pulls under the bar
    (((P, 1, True), (E, 1, True)), "error", 10.0),     # partly assessed is never a pass
    (((E, 1, True), (F, 1, True)), "fail", 0.0),       # a real failure outranks an error
    (((P, 2, True), (NA, 5, True)), "pass", 10.0),     # not applicable does not count
])
def test_item_status_and_score(spec: tuple[tuple[Outcome, int, bool], ...], status: str,
                               score: float) -> None:
    result = score_item(BY_KEY["docs"], _results(*spec), min_score=7.0)
    assert (result.status, result.score) == (status, score)


def test_fail_reason_names_the_failed_probes() -> None:
    result = score_item(BY_KEY["docs"], _results((P, 1, True), (F, 1, True), (F, 1, True)), 7.0)
    assert result.reason == "2 of 3 probes failed: probe_1, probe_2 (score 3.3 is under the " \
                            "gate's 7)"


def test_a_failure_beside_unassessed_probes_says_both() -> None:
    result = score_item(BY_KEY["docs"], _results((P, 3, True), (F, 1, True), (E, 1, True),
                                                 (E, 1, True)), 7.0)
    assert (result.status, result.score) == ("fail", 7.5)  # the score counts what was assessed
    assert result.reason == "1 of 4 probes failed: probe_1; 2 could not be assessed: probe_2, " \
                            "probe_3"


def _scored(statuses: dict[str, tuple[str, float]]) -> list:
    items = []
    for item in ITEMS:
        status, score = statuses.get(item.key, ("pass", 10.0))
        probes = [] if status == "not_run" else _results(
            (P if status == "pass" else F, 1, True))
        result = score_item(item, probes, 0.0)
        items.append(result.__class__(item, status, score, "", result.probes))  # type: ignore[arg-type]
    return items


def test_gate_takes_the_minimum_and_fails_closed() -> None:
    keys = [item.key for item in ITEMS]
    assert evaluate_gate(_scored({}), keys, 7.0).ready
    weak = evaluate_gate(_scored({"owner": ("pass", 6.9)}), keys, 7.0)
    assert weak.failed == ("owner",) and weak.min_observed == 6.9
    unrun = evaluate_gate(_scored({"load": ("not_run", 0.0)}), keys, 7.0)
    assert unrun.failed == ("load",) and not unrun.ready
    errored = evaluate_gate(_scored({"audit": ("error", 9.0)}), keys, 7.0)
    assert errored.failed == ("audit",)
    # an item outside `required` cannot block release
    assert evaluate_gate(_scored({"load": ("fail", 0.0)}), ["docs"], 7.0).ready
