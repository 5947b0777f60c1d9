"""Item 6 personal-data probes as pure functions of constructed canary sightings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from probes_support import ProbeCase, assert_finding, assert_pass_and_fail_cases

from readiness.probes import security_pii as p
from readiness.probes.security import SecurityObservations
from readiness.probes.security_pii import INTERNAL_PLACES, PiiObservations, Sighting
from readiness.results import Finding, Outcome

PASS, FAIL, ERROR, NA = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE
NAME, EMAIL, PHONE = "Ada Brafenlom", "ada.brafenlom.a1b2c3@example.com", "+1 555 0142 7731"
CANARY = {"name": NAME, "email": EMAIL, "phone": PHONE}
CHECKED = {"alerts": "3 alert(s)", "metrics": "GET /metrics", "error answers": "2 error answer(s)",
           "agent log": "/tmp/agent.log", "upstream requests": "12 recorded request(s)"}
TO_MODEL = Sighting("upstream request", "openai", (NAME, EMAIL),
                    f"POST /v1/chat/completions: …lead from {NAME} <{EMAIL}>…", allowed=True)
TO_ENRICHER = Sighting("upstream request", "enricher", (EMAIL,), f"GET /people?email={EMAIL}")
IN_AUDIT = Sighting("audit", "record d-7", (EMAIL,), f'…"email": "{EMAIL}"…')
WHERE = {"alert": "webhook alert #2", "metrics": "GET /metrics",
         "error answer": "invoke with a wrong-typed field", "agent log": "/tmp/agent.log"}
PII = PiiObservations(CANARY, sightings=(TO_MODEL,), checked=CHECKED, redact=("email",),
                      audited=2)
GOOD = SecurityObservations(pii=PII)
UNAVAILABLE = SecurityObservations(unavailable="the agent is down: connection refused", pii=PII)


def seen(place: str, values: tuple[str, ...] = (EMAIL,)) -> Sighting:
    """The canary found in one of the internal places."""
    return Sighting(place, WHERE[place], values, f"…lead {values[0]} failed…")


def obs(**changes: Any) -> SecurityObservations:
    """GOOD whose canary observations have some fields replaced."""
    return SecurityObservations(pii=dataclasses.replace(PII, **changes))


CASES: list[tuple[str, ProbeCase]] = [
    ("kept-out", (p.pii_kept_out_of_alerts_logs_metrics, GOOD, PASS,
                  "the canary personal data is in none of: alerts, metrics, error answers, agent "
                  "log, upstream requests")),
    ("upstream-and-audit-not-internal", (p.pii_kept_out_of_alerts_logs_metrics, obs(
        sightings=(TO_MODEL, TO_ENRICHER, IN_AUDIT)), PASS, "is in none of")),
    ("in-alert", (p.pii_kept_out_of_alerts_logs_metrics, obs(sightings=(seen("alert"),)), FAIL,
                  f"this run's canary personal data turned up in alert (webhook alert #2: …lead "
                  f"{EMAIL} failed…)")),
    ("in-metrics", (p.pii_kept_out_of_alerts_logs_metrics, obs(sightings=(seen("metrics"),)),
                    FAIL, "turned up in metrics (GET /metrics: ")),
    ("in-error-answer", (p.pii_kept_out_of_alerts_logs_metrics, obs(sightings=(
        seen("error answer"),)), FAIL,
        "turned up in error answer (invoke with a wrong-typed field: ")),
    ("in-agent-log", (p.pii_kept_out_of_alerts_logs_metrics, obs(sightings=(
        seen("agent log", (NAME,)),)), FAIL,
        f"turned up in agent log (/tmp/agent.log: …lead {NAME} failed…)")),
    ("places-named-in-order", (p.pii_kept_out_of_alerts_logs_metrics, obs(sightings=(
        TO_MODEL, seen("metrics"), seen("alert"), seen("agent log"))), FAIL,
        "turned up in agent log, alert, metrics (GET /metrics: ")),
    ("found-though-little-searched", (p.pii_kept_out_of_alerts_logs_metrics, obs(
        sightings=(seen("alert"),), checked={}), FAIL, "turned up in alert")),
    ("nowhere-searched", (p.pii_kept_out_of_alerts_logs_metrics, obs(
        checked={}, unchecked={"agent log": "the harness did not start the agent"}), ERROR,
        "nowhere could be searched for the canary")),

    ("declared-recipient", (p.pii_sent_only_where_declared, GOOD, PASS,
                            "personal data reached only declared recipients (openai)")),
    ("no-recipient", (p.pii_sent_only_where_declared, obs(sightings=()), PASS,
                      "personal data reached only declared recipients")),
    ("undeclared-recipient", (p.pii_sent_only_where_declared, obs(
        sightings=(TO_MODEL, TO_ENRICHER)), FAIL,
        "the canary personal data was sent to enricher, which the data policy does not allow")),
    ("no-upstream-request-searched", (p.pii_sent_only_where_declared, obs(
        checked={k: v for k, v in CHECKED.items() if k != "upstream requests"}), ERROR,
        "no upstream request was recorded to search")),

    ("redacted", (p.audit_redacts_declared_pii, GOOD, PASS,
                  "2 audit record(s) hold no redacted field in clear")),
    ("kept-in-clear", (p.audit_redacts_declared_pii, obs(sightings=(IN_AUDIT,)), FAIL,
                       f"1 audit record(s) keep {EMAIL} in clear although [data] redact lists "
                       "email")),
    ("several-fields-kept", (p.audit_redacts_declared_pii, obs(
        redact=("email", "phone"), sightings=(dataclasses.replace(IN_AUDIT, values=(
            EMAIL, PHONE)), dataclasses.replace(IN_AUDIT, where="record d-8"))), FAIL,
        f"2 audit record(s) keep {EMAIL}, {PHONE} in clear although [data] redact lists email, "
        "phone")),
    ("nothing-to-redact", (p.audit_redacts_declared_pii, obs(redact=(), sightings=(IN_AUDIT,)),
                           NA, "[data] redact names no field to redact in audit records")),
    ("no-record-fetched", (p.audit_redacts_declared_pii, obs(audited=0, sightings=(IN_AUDIT,)),
                           ERROR, "no audit record of a canary invocation could be fetched")),
]

Probe = Callable[[SecurityObservations], Finding]
PROBES = sorted({case[0] for _, case in CASES}, key=lambda probe: probe.__name__)


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         [pytest.param(*case, id=f"{case[0].__name__}-{name}")
                          for name, case in CASES])
def test_probe(probe: Probe, observations: SecurityObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert len(PROBES) == 3
    assert_pass_and_fail_cases([case for _, case in CASES])


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.__name__)
@pytest.mark.parametrize(("observations", "fragment"), [
    pytest.param(UNAVAILABLE, "the agent could not be checked: the agent is down: connection "
                 "refused", id="unavailable"),
    pytest.param(SecurityObservations(), "no canary personal data was sent", id="empty"),
    pytest.param(SecurityObservations(pii={"name": NAME}), "no canary personal data was sent",
                 id="not-pii-observations"),
])
def test_unassessable_is_an_error(probe: Probe, observations: SecurityObservations,
                                  fragment: str) -> None:
    assert_finding(probe(observations), ERROR, fragment)


@pytest.mark.parametrize("place", INTERNAL_PLACES)
def test_each_internal_place_fails_by_name(place: str) -> None:
    finding = p.pii_kept_out_of_alerts_logs_metrics(obs(sightings=(seen(place),)))
    assert_finding(finding, FAIL, f"turned up in {place} ({WHERE[place]}: ")
    assert [(s["place"], s["where"], s["values"]) for s in finding.evidence["sightings"]] == [
        (place, WHERE[place], [EMAIL])]


def test_kept_out_evidence_shows_what_was_and_was_not_searched() -> None:
    unchecked = {"agent log": "the harness did not start the agent, so it has no log to read"}
    finding = p.pii_kept_out_of_alerts_logs_metrics(obs(unchecked=unchecked))
    assert {k: finding.evidence[k] for k in ("canary", "searched", "not_searched")} == {
        "canary": CANARY, "searched": CHECKED, "not_searched": unchecked}


def test_sightings_shown_are_capped() -> None:
    many = tuple(dataclasses.replace(seen("alert"), where=f"webhook alert #{n}")
                 for n in range(12))
    finding = p.pii_kept_out_of_alerts_logs_metrics(obs(sightings=many))
    assert len(finding.evidence["sightings"]) == 8


def test_recipient_evidence_lists_declared_and_undeclared_recipients() -> None:
    finding = p.pii_sent_only_where_declared(obs(sightings=(TO_MODEL, TO_ENRICHER)))
    assert finding.evidence["declared_recipients"] == ["openai"]
    assert [(s["where"], s["values"], s["excerpt"]) for s in finding.evidence["undeclared"]] == [
        ("enricher", [EMAIL], f"GET /people?email={EMAIL}")]


def test_allowed_recipient_is_listed_in_the_pass() -> None:
    to_crm = dataclasses.replace(TO_ENRICHER, where="crm", allowed=True)
    finding = p.pii_sent_only_where_declared(obs(sightings=(to_crm, TO_MODEL)))
    assert_finding(finding, PASS, "personal data reached only declared recipients (crm, openai)")
    assert finding.evidence["declared_recipients"] == ["crm", "openai"]


def test_redaction_evidence_names_the_records_and_fields() -> None:
    failed = p.audit_redacts_declared_pii(obs(sightings=(IN_AUDIT,)))
    passed = p.audit_redacts_declared_pii(GOOD)
    assert [(r["where"], r["values"]) for r in failed.evidence["records"]] == [
        ("record d-7", [EMAIL])]
    assert passed.evidence["redact"] == ["email"]
