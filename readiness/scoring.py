"""Scoring: probe results -> item score and status -> fail-closed release gate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from readiness.items import Item
from readiness.results import Outcome, ProbeResult

Status = Literal["pass", "fail", "error", "not_run"]


@dataclass(frozen=True)
class ItemResult:
    """One of the nine items as scored."""

    item: Item
    status: Status
    score: float
    reason: str
    probes: tuple[ProbeResult, ...]
    waived: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # probe id -> waiver


@dataclass(frozen=True)
class GateResult:
    """The release decision: every required item passes and the weakest meets the bar."""

    required: tuple[str, ...]
    min_score: float
    failed: tuple[str, ...]
    min_observed: float | None

    @property
    def ready(self) -> bool:
        return not self.failed


def score_item(item: Item, probes: Sequence[ProbeResult], min_score: float,
               not_run_reason: str | None = None,
               waived: Mapping[str, Mapping[str, Any]] | None = None) -> ItemResult:
    """Score an item as OpenSSF Scorecard does: 0-10 from its weighted probes.

    Only pass/fail probes count toward the score. An item with nothing assessed
    is `not_run`; one whose probes errored is `error`; neither ever passes. A
    failed blocking probe, or a score under `min_score`, fails the item. A failed
    probe in `waived` (probe id -> the waiver accepting it) counts as passed.
    """
    accepted = {p.id: waived[p.id] for p in probes
                if waived and p.outcome is Outcome.FAIL and p.id in waived}
    assessed = [p for p in probes if p.outcome in (Outcome.PASS, Outcome.FAIL)]
    errors = [p for p in probes if p.outcome is Outcome.ERROR]
    failures = [p for p in probes if p.outcome is Outcome.FAIL and p.id not in accepted]
    total = sum(p.weight for p in assessed)
    counted = sum(p.weight for p in assessed if p.outcome is Outcome.PASS or p.id in accepted)
    score = round(10.0 * counted / total, 1) if total else 0.0
    note = f"; waived failures: {', '.join(accepted)}" if accepted else ""

    if not probes:
        return ItemResult(item, "not_run", 0.0,
                          not_run_reason or "not assessed: no probes for this item ran", ())
    blocking_failed = [p for p in failures if p.blocking]
    if blocking_failed or (assessed and score < min_score):
        return ItemResult(item, "fail", score,
                          _fail_reason(probes, failures, errors, score, min_score) + note,
                          tuple(probes), accepted)
    if errors:
        return ItemResult(item, "error", score,
                          f"{len(errors)} of {len(probes)} probes could not be assessed: "
                          + _ids(errors) + note, tuple(probes), accepted)
    if not assessed:
        return ItemResult(item, "not_run", 0.0,
                          "not assessed: every probe was not applicable to this agent",
                          tuple(probes))
    passed = len(assessed) - len(failures) - len(accepted)
    reason = f"{passed} of {len(assessed)} probes passed{note}"
    if failures:
        reason += f"; advisory probes failed: {_ids(failures)}"
    return ItemResult(item, "pass", score, reason, tuple(probes), accepted)


def _fail_reason(probes: Sequence[ProbeResult], failures: Sequence[ProbeResult],
                 errors: Sequence[ProbeResult], score: float, min_score: float) -> str:
    if failures:
        reason = f"{len(failures)} of {len(probes)} probes failed: {_ids(failures)}"
    else:
        reason = "no probe failed outright"
    if score < min_score:
        reason += f" (score {score:g} is under the gate's {min_score:g})"
    if errors:  # the score counts only what was assessed: say what was not
        reason += f"; {len(errors)} could not be assessed: {_ids(errors)}"
    return reason


def _ids(results: Iterable[ProbeResult]) -> str:
    return ", ".join(p.id for p in results)


def evaluate_gate(items: Sequence[ItemResult], required: Sequence[str],
                  min_score: float) -> GateResult:
    """Fail closed: a required item that is not `pass`, or under `min_score`, blocks release.

    The gate takes the minimum across required items, as Google's ML Test Score
    does, so one weak point blocks release however strong the rest are.
    """
    by_key = {result.item.key: result for result in items}
    failed = []
    scores = []
    for key in required:
        result = by_key.get(key)
        if result is None or result.status != "pass" or result.score < min_score:
            failed.append(key)
        scores.append(result.score if result is not None else 0.0)
    return GateResult(tuple(required), min_score, tuple(failed), min(scores) if scores else None)
