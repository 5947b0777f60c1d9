"""The uniform, frozen result every probe returns."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class Outcome(enum.StrEnum):
    """What a probe concluded."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"


class Interrupted(Exception):
    """Ctrl-C stopped an observer part-way; `observations` holds what it gathered.

    An observer raises it in place of the cancellation so that the runner can
    judge the partial observations (the probes see them as cut short) and then
    end the run, marked incomplete.
    """

    def __init__(self, observations: Any) -> None:
        super().__init__("interrupted")
        self.observations = observations


def _frozen(evidence: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(evidence))


@dataclass(frozen=True)
class Finding:
    """What a probe function returns: an outcome, a one-line message and evidence.

    Remediation text comes from the probe's registration unless the finding
    carries a more specific one.
    """

    outcome: Outcome
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    remediation: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", _frozen(self.evidence))


def passed(message: str, **evidence: Any) -> Finding:
    """A passing finding."""
    return Finding(Outcome.PASS, message, evidence)


def failed(message: str, remediation: str | None = None, **evidence: Any) -> Finding:
    """A failing finding; `remediation` overrides the probe's default fix text."""
    return Finding(Outcome.FAIL, message, evidence, remediation)


def not_applicable(message: str, **evidence: Any) -> Finding:
    """The probe does not apply to this agent or this run."""
    return Finding(Outcome.NOT_APPLICABLE, message, evidence)


def errored(message: str, **evidence: Any) -> Finding:
    """The harness could not assess the probe (the agent broke the exchange, a file vanished)."""
    return Finding(Outcome.ERROR, message, evidence)


@dataclass(frozen=True)
class ProbeResult:
    """A finding bound to the probe that produced it, as the scorecard shows it."""

    id: str
    item: str
    title: str
    outcome: Outcome
    message: str
    evidence: Mapping[str, Any]
    remediation: str
    weight: int = 1
    blocking: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", _frozen(self.evidence))

    def to_json(self) -> dict[str, Any]:
        """The probe as it appears in scorecard.json."""
        return {
            "id": self.id,
            "title": self.title,
            "outcome": self.outcome.value,
            "message": self.message,
            "evidence": _plain(self.evidence),
            "remediation": self.remediation,
            "weight": self.weight,
            "blocking": self.blocking,
        }


def _plain(value: Any) -> Any:
    """Evidence as plain JSON-able data (mapping proxies and tuples unwrapped)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
