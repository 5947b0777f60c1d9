"""Item 6, personal data: where did this run's canary person turn up?

The observer plants a canary (`scenarios.canaries`) in invocation inputs, in the
monitoring outage (so alerts are written while it is being handled) and in the
security checks, then searches every place the agent writes to: alerts, /metrics,
error answers, its log, upstream requests and audit records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from readiness.probes.security import ITEM, SecurityObservations
from readiness.registry import probe
from readiness.results import Finding, errored, failed, not_applicable, passed

_SHOWN = 8
INTERNAL_PLACES = ("alert", "metrics", "error answer", "agent log")


@dataclass(frozen=True)
class Sighting:
    """A canary value found somewhere it may or may not belong."""

    place: str  # "alert", "metrics", "error answer", "agent log", "upstream request", "audit"
    where: str  # which alert, which upstream, which field
    values: tuple[str, ...]
    excerpt: str = ""
    allowed: bool = False


@dataclass(frozen=True)
class PiiObservations:
    canary: Mapping[str, str]
    sightings: tuple[Sighting, ...] = ()
    checked: Mapping[str, str] = field(default_factory=dict)  # place -> what was searched
    unchecked: Mapping[str, str] = field(default_factory=dict)  # place -> why not
    redact: tuple[str, ...] = ()
    audited: int = 0  # canary records fetched to check redaction


def _pii(obs: SecurityObservations) -> PiiObservations | Finding:
    if obs.unavailable:
        return errored(f"the agent could not be checked: {obs.unavailable}")
    pii = obs.pii
    if not isinstance(pii, PiiObservations):
        return errored("no canary personal data was sent")
    return pii


def _shown(sightings: list[Sighting]) -> list[dict[str, Any]]:
    return [{"place": s.place, "where": s.where, "values": list(s.values),
             "excerpt": s.excerpt} for s in sightings[:_SHOWN]]


@probe(ITEM, weight=3, title="Personal data stays out of alerts, logs, metrics and error answers",
       why="Alerts go to chat channels, logs to vendors, metrics to dashboards: personal data "
           "copied there escapes its retention, its access rules and the right to erasure.",
       fix="Refer to people by decision or request id in alerts, logs and errors; never log "
           "inputs; keep labels of metrics to fixed sets of values.")
def pii_kept_out_of_alerts_logs_metrics(obs: SecurityObservations) -> Finding:
    pii = _pii(obs)
    if isinstance(pii, Finding):
        return pii
    found = [s for s in pii.sightings if s.place in INTERNAL_PLACES]
    evidence: dict[str, Any] = {"canary": dict(pii.canary), "searched": dict(pii.checked),
                                "not_searched": dict(pii.unchecked)}
    if found:
        places = sorted({s.place for s in found})
        return failed(f"this run's canary personal data turned up in {', '.join(places)} "
                      f"({found[0].where}: {found[0].excerpt})", sightings=_shown(found),
                      **evidence)
    if not pii.checked:
        return errored("nowhere could be searched for the canary", **evidence)
    return passed(f"the canary personal data is in none of: {', '.join(pii.checked)}",
                  **evidence)


@probe(ITEM, weight=2, title="Personal data goes only to the upstreams the data policy allows",
       why="Every system that receives personal data is a processor under GDPR and in scope of "
           "the security review; one the policy does not name is an undeclared transfer.",
       fix="Send tools only the identifiers they need; if an upstream must receive personal "
           "data, declare it in [data] shared_with (and the model's host in [provider]).")
def pii_sent_only_where_declared(obs: SecurityObservations) -> Finding:
    pii = _pii(obs)
    if isinstance(pii, Finding):
        return pii
    sent = [s for s in pii.sightings if s.place == "upstream request"]
    undeclared = [s for s in sent if not s.allowed]
    evidence: dict[str, Any] = {"canary": dict(pii.canary),
                                "declared_recipients": sorted({s.where for s in sent
                                                               if s.allowed})}
    if undeclared:
        return failed(f"the canary personal data was sent to {undeclared[0].where}, which the "
                      "data policy does not allow", undeclared=_shown(undeclared), **evidence)
    if "upstream requests" not in pii.checked:
        return errored("no upstream request was recorded to search", **evidence)
    return passed("personal data reached only declared recipients"
                  + (f" ({', '.join(evidence['declared_recipients'])})"
                     if evidence["declared_recipients"] else ""), **evidence)


@probe(ITEM, title="Audit records redact the fields the data policy says to",
       why="An audit log kept for years must not become the one place every e-mail address "
           "is kept in clear when the policy says it is redacted.",
       fix="Hash or mask the fields listed in [data] redact before the audit record is "
           "written.")
def audit_redacts_declared_pii(obs: SecurityObservations) -> Finding:
    pii = _pii(obs)
    if isinstance(pii, Finding):
        return pii
    if not pii.redact:
        return not_applicable("[data] redact names no field to redact in audit records")
    if pii.audited == 0:
        return errored("no audit record of a canary invocation could be fetched")
    kept = [s for s in pii.sightings if s.place == "audit"]
    if kept:
        return failed(f"{len(kept)} audit record(s) keep {', '.join(kept[0].values)} in clear "
                      f"although [data] redact lists {', '.join(pii.redact)}",
                      records=_shown(kept))
    return passed(f"{pii.audited} audit record(s) hold no redacted field in clear",
                  redact=list(pii.redact))
