"""Item 4 probes as pure functions of constructed metrics, incidents and alerts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from probes_support import ProbeCase, assert_finding, assert_pass_and_fail_cases

from readiness.alert_sink import Alert
from readiness.probes import monitoring as m
from readiness.probes.monitoring import (
    Family,
    Incident,
    MetricsScrape,
    MonitoringObservations,
    content_gaps,
    is_recovery,
    readability_problems,
    signal_families,
)
from readiness.results import Finding, Outcome

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
AGENT = "lead-router"
CONTACTS = ("Ada Lovelace", "ada@corp.io")
STARTED = 1000.0
ENDED = 1060.0
SUMMARY = "Lead router: leads are not being routed."
INCIDENT_TEXT = (f"{SUMMARY} The CRM has failed every call for 30 seconds, likely an outage on "
                 "the CRM side. Call Ada Lovelace.")
RECOVERY_TEXT = ("Lead router has recovered: the CRM is answering again. The outage lasted 60 "
                 "seconds. No action is needed.")
TRACEBACK = ('Traceback (most recent call last):\n  File "router.py", line 3, in route\n'
             "httpx.ConnectError: connection refused")
HARD = ("Consequently, organizational infrastructure interoperability considerations necessitate "
        "comprehensive reconfiguration of authentication intermediaries notwithstanding "
        "operational availability.")
LONG_SENTENCE = "Lead router is failing because " + " ".join(["the CRM"] * 17) + " failed."

PRODUCTION = (
    Family("lead_router_invocations", "counter", ("status",), 4),
    Family("lead_router_invocation_seconds", "histogram", ("le",), 12),
    Family("lead_router_upstream_requests", "counter", ("outcome", "upstream"), 6),
    Family("lead_router_upstream_seconds", "histogram", ("le", "upstream"), 22),
    Family("lead_router_upstream_retries", "counter", ("upstream",), 2),
    Family("lead_router_errors", "counter", ("kind",), 1),
    Family("lead_router_alerts", "counter", ("kind",), 2),
    Family("lead_router_mode", "gauge", ("mode",), 3),
)


def alert(text: str = INCIDENT_TEXT, after_s: float = 10.0, channel: str = "webhook",
          seq: int = 1, problem: str | None = None) -> Alert:
    """An alert received `after_s` seconds after the failure began."""
    subject = None if channel == "webhook" else "Lead router alert"
    return Alert(seq, channel, text, subject, STARTED + after_s, text, problem)


FIRST = alert()
RECOVERED = alert(RECOVERY_TEXT, 65.0, seq=2)
INCIDENT = Incident("crm", "server_error", STARTED, ENDED, within_s=30.0, failed_invocations=12,
                    after_first_alert=5, alerts=(FIRST, RECOVERED), recovery_wait_s=30.0)
SCRAPE = MetricsScrape(200, "text/plain; version=0.0.4; charset=utf-8", PRODUCTION,
                       excerpt="# HELP lead_router_invocations_total Invocations answered")
GOOD = MonitoringObservations(AGENT, metrics=SCRAPE, incident=INCIDENT, contacts=CONTACTS)
EMPTY = MonitoringObservations(AGENT)


def obs(**changes: Any) -> MonitoringObservations:
    """GOOD with some observations replaced."""
    return dataclasses.replace(GOOD, **changes)


def incident(*alerts: Alert, **changes: Any) -> MonitoringObservations:
    """GOOD whose incident received `alerts` (and has other `changes`)."""
    return obs(incident=dataclasses.replace(INCIDENT, alerts=alerts, **changes))


def families(*names: str) -> MonitoringObservations:
    """GOOD whose /metrics holds only the PRODUCTION families named."""
    return obs(metrics=dataclasses.replace(
        SCRAPE, families=tuple(f for f in PRODUCTION if f.name in names)))


CORE = ("lead_router_invocations", "lead_router_errors", "lead_router_upstream_retries",
        "lead_router_invocation_seconds")

CASES: list[tuple[str, ProbeCase]] = [
    ("parsed", (m.metrics_parse_as_prometheus, GOOD, PASS, "/metrics parsed: 8 metric families")),
    ("not-prometheus", (m.metrics_parse_as_prometheus, obs(metrics=dataclasses.replace(
        SCRAPE, problem="line 3: 'ok' is not a metric line")), FAIL,
        "/metrics is not usable Prometheus text: line 3: 'ok' is not a metric line")),
    ("scrape-when-agent-later-down", (m.metrics_parse_as_prometheus, obs(
        unavailable="the agent is down"), PASS, "8 metric families")),
    ("agent-down", (m.metrics_parse_as_prometheus, obs(metrics=None, unavailable="the agent is "
                    "down: refused"), ERROR, "metrics could not be read: the agent is down")),
    ("not-scraped", (m.metrics_parse_as_prometheus, obs(metrics=None), ERROR,
                     "/metrics was not scraped")),

    ("four-signals", (m.metrics_cover_requests_errors_retries_latency, families(*CORE), PASS,
                      "requests, errors, retries and latency are all exported")),
    ("no-retries", (m.metrics_cover_requests_errors_retries_latency, families(
        *CORE[:2], CORE[3]), FAIL, "no retries series in /metrics")),
    ("no-families", (m.metrics_cover_requests_errors_retries_latency, families(), FAIL,
                     "no requests, errors, retries, latency series in /metrics")),
    ("error-label-counts", (m.metrics_cover_requests_errors_retries_latency, obs(
        metrics=dataclasses.replace(SCRAPE, families=(
            Family("agent_requests", "counter", ("error", "route")),
            Family("agent_retried", "counter"), Family("agent_latency", "summary")))), PASS,
        "all exported")),
    ("unreadable-metrics", (m.metrics_cover_requests_errors_retries_latency, obs(
        metrics=dataclasses.replace(SCRAPE, problem="HTTP 404")), FAIL,
        "no series can be read: HTTP 404")),
    ("metrics-missing", (m.metrics_cover_requests_errors_retries_latency, obs(metrics=None),
                         ERROR, "metrics could not be read: not scraped")),

    ("alert-in-time", (m.alert_within_threshold, GOOD, PASS,
                       "alert received by webhook 10.0 s after crm began failing (allowed "
                       "30 s)")),
    ("alert-at-threshold", (m.alert_within_threshold, incident(alert(after_s=30.0)), PASS,
                            "30.0 s after crm began failing")),
    ("email-alert", (m.alert_within_threshold, incident(alert(channel="email", after_s=4.0)),
                     PASS, "alert received by email 4.0 s")),
    ("no-alert", (m.alert_within_threshold, incident(), FAIL,
                  "crm failed every call for 60 s and 12 invocations failed, but no alert "
                  "reached the webhook or the mail server")),
    ("only-a-recovery", (m.alert_within_threshold, incident(RECOVERED), FAIL,
                         "but no alert reached the webhook")),
    ("no-alert-unended", (m.alert_within_threshold, incident(ended_at=None), FAIL,
                          "crm failed every call for the whole check")),
    ("alert-late", (m.alert_within_threshold, incident(alert(after_s=45.0), RECOVERED), FAIL,
                    "the first alert came 45.0 s after the failure began, later than the 30 s "
                    "allowed")),

    ("plain-english", (m.alert_is_plain_english, GOOD, PASS, "1 alert(s) in plain English "
                                                             "(grade 2.3)")),
    ("traceback", (m.alert_is_plain_english, incident(alert(TRACEBACK)), FAIL,
                   "the webhook alert is not plain English: a stack trace: Traceback (most "
                   "recent call last):")),
    ("json-email", (m.alert_is_plain_english, incident(FIRST, alert(
        '{"alert": "crm down", "agent": "lead-router"}', channel="email", seq=2)), FAIL,
        "the email alert is not plain English: a JSON dump")),
    ("unreadable-payload", (m.alert_is_plain_english, incident(alert(
        problem="the body is not a Slack message (invalid_payload)")), FAIL,
        "not plain English: the body is not a Slack message (invalid_payload)")),
    ("jargon", (m.alert_is_plain_english, incident(alert(HARD)), FAIL,
                "(Flesch-Kincaid), above 12")),
    ("nothing-to-read", (m.alert_is_plain_english, incident(RECOVERED), FAIL,
                         "no incident alert arrived, so there was nothing to read")),

    ("complete-alert", (m.alert_names_agent_symptom_cause_contact, GOOD, PASS,
                        "the alert leads with a summary and names the agent, the symptom, a "
                        "likely cause and whom to call")),
    ("no-cause", (m.alert_names_agent_symptom_cause_contact, incident(alert(
        "Lead router: leads are not being routed. Call Ada Lovelace.")), FAIL,
        "the alert falls short: it gives no likely cause")),
    ("nameless", (m.alert_names_agent_symptom_cause_contact, incident(alert(
        "Leads are not being routed, likely a CRM outage. Call Ada Lovelace.")), FAIL,
        "the alert falls short: it does not name the agent 'lead-router'")),
    ("several-gaps", (m.alert_names_agent_symptom_cause_contact, incident(alert(
        "Lead router: leads are not being routed.")), FAIL,
        "it gives no likely cause; it does not say whom to call")),
    ("no-alert-to-read", (m.alert_names_agent_symptom_cause_contact, incident(), FAIL,
                          "no incident alert arrived")),

    ("one-alert", (m.alerts_deduplicated, GOOD, PASS,
                   "one alert per channel while 5 more invocations failed after it")),
    ("webhook-and-email", (m.alerts_deduplicated, incident(
        FIRST, alert(after_s=11.0, channel="email", seq=2), RECOVERED), PASS,
        "one alert per channel")),
    ("storm", (m.alerts_deduplicated, incident(FIRST, alert(after_s=12.0, seq=2), RECOVERED),
               FAIL, "2 incident alerts for one outage (2 by webhook); 5 more invocations "
               "failed after the first")),
    ("nothing-failed-after", (m.alerts_deduplicated, incident(FIRST, after_first_alert=0),
                              ERROR, "the failure ended before more invocations failed")),
    ("no-alert-to-count", (m.alerts_deduplicated, incident(), FAIL,
                           "no incident alert arrived, so deduplication could not be seen")),

    ("recovered", (m.recovery_message_sent, GOOD, PASS, "recovery message received by webhook")),
    ("recovered-unended", (m.recovery_message_sent, incident(FIRST, RECOVERED, ended_at=None),
                           PASS, "recovery message received")),
    ("no-recovery", (m.recovery_message_sent, incident(FIRST), FAIL,
                     "no recovery message within 30 s after crm answered again")),
    ("recovery-too-early", (m.recovery_message_sent, incident(FIRST, alert(
        RECOVERY_TEXT, 50.0, seq=2)), FAIL,
        "a recovery message came while the upstream was still failing")),
    ("recovery-traceback", (m.recovery_message_sent, incident(FIRST, alert(
        "Recovered.\n" + TRACEBACK, 61.0, seq=2)), FAIL,
        "the recovery message is not plain English: a stack trace")),
    ("recovery-without-incident", (m.recovery_message_sent, incident(RECOVERED), FAIL,
                                   "no incident alert arrived, so no recovery could follow one")),
]

Probe = Callable[[MonitoringObservations], Finding]
PROBES = sorted({case[0] for _, case in CASES}, key=lambda p: p.__name__)
ALERT_PROBES = [p for p in PROBES if not p.__name__.startswith("metrics_")]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         [pytest.param(*case, id=f"{case[0].__name__}-{name}")
                          for name, case in CASES])
def test_probe(probe: Probe, observations: MonitoringObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert (len(PROBES), len(ALERT_PROBES)) == (7, 5)
    assert_pass_and_fail_cases([case for _, case in CASES])


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.__name__)
def test_empty_is_an_error(probe: Probe) -> None:
    assert probe(EMPTY).outcome is ERROR


@pytest.mark.parametrize("probe", ALERT_PROBES, ids=lambda p: p.__name__)
@pytest.mark.parametrize(("observations", "fragment"), [
    pytest.param(EMPTY, "no upstream failure could be staged: not run", id="not-run"),
    pytest.param(obs(incident=None, unavailable="the agent is down"),
                 "no upstream failure could be staged: the agent is down", id="agent-down"),
    pytest.param(obs(incident=Incident("crm", "server_error", STARTED,
                                       problem="no upstream of kind 'tool'")),
                 "the upstream failure could not be staged: no upstream of kind 'tool'",
                 id="incident-problem"),
])
def test_unstaged_incident_is_an_error(probe: Probe, observations: MonitoringObservations,
                                       fragment: str) -> None:
    assert_finding(probe(observations), ERROR, fragment)


def test_alert_evidence_is_verbatim_with_its_delay() -> None:
    finding = m.alert_within_threshold(GOOD)
    assert dict(finding.evidence["first_alert"]) == {
        "channel": "webhook", "subject": None, "text": INCIDENT_TEXT, "received_after_s": 10.0,
        "problem": None}


def test_storm_evidence_counts_per_channel() -> None:
    storm = incident(FIRST, alert(after_s=11.0, seq=2), alert(after_s=12.0, channel="email",
                                                              seq=3))
    finding = m.alerts_deduplicated(storm)
    assert dict(finding.evidence["per_channel"]) == {"webhook": 2, "email": 1}
    assert finding.message.startswith("2 incident alerts for one outage (2 by webhook);")


# --- signal_families -----------------------------------------------------------------------


@pytest.mark.parametrize(("found", "expected"), [
    pytest.param(PRODUCTION, {
        "requests": ["lead_router_invocations", "lead_router_upstream_requests"],
        "errors": ["lead_router_errors"], "retries": ["lead_router_upstream_retries"],
        "latency": ["lead_router_invocation_seconds", "lead_router_upstream_seconds"]},
        id="production"),
    pytest.param(tuple(f for f in PRODUCTION if f.name in CORE), {
        "requests": ["lead_router_invocations"], "errors": ["lead_router_errors"],
        "retries": ["lead_router_upstream_retries"],
        "latency": ["lead_router_invocation_seconds"]}, id="four-core-families"),
    pytest.param(tuple(f for f in PRODUCTION if f.name in CORE[:2] + CORE[3:]), {
        "requests": ["lead_router_invocations"], "errors": ["lead_router_errors"],
        "retries": [], "latency": ["lead_router_invocation_seconds"]}, id="no-retries"),
    pytest.param((), {"requests": [], "errors": [], "retries": [], "latency": []}, id="empty"),
    pytest.param((Family("agent_requests", "counter", ("error", "route")),), {
        "requests": ["agent_requests"], "errors": ["agent_requests"], "retries": [],
        "latency": []}, id="error-label-on-requests-counter"),
    pytest.param((Family("agent_calls", "unknown", ("error_type",)),
                  Family("agent_decisions", "gauge", ("exception",))), {
        "requests": ["agent_calls", "agent_decisions"],
        "errors": ["agent_calls", "agent_decisions"], "retries": [], "latency": []},
        id="error-type-and-exception-labels"),
    pytest.param((Family("agent_request_seconds", "counter"),
                  Family("agent_retry_latency", "histogram")), {
        "requests": ["agent_request_seconds"], "errors": [], "retries": [],
        "latency": ["agent_retry_latency"]}, id="latency-needs-a-histogram"),
    pytest.param((Family("agent_errors", "histogram", ("error",)),
                  Family("agent_duration_ms", "summary"), Family("agent_exec_time", "summary")),
                 {"requests": [], "errors": [], "retries": [],
                  "latency": ["agent_duration_ms", "agent_exec_time"]},
                 id="errors-need-a-counter"),
])
def test_signal_families(found: tuple[Family, ...], expected: dict[str, list[str]]) -> None:
    assert signal_families(found) == expected


# --- content_gaps --------------------------------------------------------------------------

GAPS: list[Any] = [
    pytest.param(INCIDENT_TEXT, AGENT, CONTACTS, [], id="complete"),
    pytest.param(INCIDENT_TEXT, "Lead-Router", CONTACTS, [],
                 id="name-matched-across-separators"),
    pytest.param("LEAD_ROUTER: the CRM is down, likely a deploy. Call Ada Lovelace.",
                 "Lead router", CONTACTS, [], id="name-with-underscore-and-case"),
    pytest.param("Lead routers are down, likely a deploy. Call Ada Lovelace.", AGENT, CONTACTS,
                 ["it does not name the agent 'lead-router'"], id="name-must-be-whole-words"),
    pytest.param(LONG_SENTENCE + " Likely a deploy. Call Ada Lovelace.", AGENT, CONTACTS,
                 ["its first sentence is 40 words, not a short summary"],
                 id="forty-word-first-sentence"),
    pytest.param("The CRM is down, likely a deploy. Call Ada Lovelace.", AGENT, CONTACTS,
                 ["it does not name the agent 'lead-router'"], id="agent-not-named"),
    pytest.param("Lead router: please look at the CRM, likely a deploy. Call Ada Lovelace.",
                 AGENT, CONTACTS, ["it does not say what is failing"], id="no-symptom"),
    pytest.param("Lead router: leads are not being routed. Call Ada Lovelace.", AGENT, CONTACTS,
                 ["it gives no likely cause"], id="no-cause"),
    pytest.param("Lead router: leads are not being routed, likely a CRM outage.", AGENT,
                 CONTACTS, ["it does not say whom to call"], id="no-contact"),
    pytest.param("Lead router: leads are not being routed, likely a CRM outage.", AGENT,
                 ("",), ["it does not say whom to call"], id="blank-contact-ignored"),
    pytest.param("Lead router is down, likely a deploy. Ask ada lovelace.", AGENT, CONTACTS, [],
                 id="contact-by-name-any-case"),
    pytest.param("Lead router is down, likely a deploy. Mail oncall@corp.io.", AGENT, (), [],
                 id="contact-by-email-pattern"),
    pytest.param("Lead router is down, likely a deploy. Phone +61 2 9999 0000.", AGENT, (), [],
                 id="contact-by-phone-pattern"),
    pytest.param("Lead router is down, likely a deploy. Ask @sales-oncall.", AGENT, (), [],
                 id="contact-by-handle-pattern"),
    pytest.param("", AGENT, CONTACTS, ["it does not name the agent 'lead-router'",
                                       "it does not say what is failing",
                                       "it gives no likely cause", "it does not say whom to call"],
                 id="empty"),
]


@pytest.mark.parametrize(("text", "agent", "contacts", "gaps"), GAPS)
def test_content_gaps(text: str, agent: str, contacts: tuple[str, ...], gaps: list[str]) -> None:
    assert content_gaps(text, agent, contacts) == gaps


# --- readability_problems and is_recovery ----------------------------------------------------


@pytest.mark.parametrize(("text", "problems", "graded"), [
    pytest.param(INCIDENT_TEXT, [], True, id="plain"),
    pytest.param(RECOVERY_TEXT, [], True, id="plain-recovery"),
    pytest.param("", ["the alert has no words"], False, id="empty"),
    pytest.param("503 503 503", ["the alert has no words"], False, id="only-numbers"),
    pytest.param(TRACEBACK, ["a stack trace: Traceback (most recent call last):",
                             "exception class names: httpx.ConnectError"], True, id="traceback"),
    pytest.param('{"alert": "crm down"}', ['a JSON dump: {"alert": "crm down"}'], True,
                 id="json-dump"),
])
def test_readability_problems(text: str, problems: list[str], graded: bool) -> None:
    found, grade = readability_problems(text)
    assert (found, grade is not None) == (problems, graded)
    assert grade is None or grade <= m.MAX_GRADE


def test_hard_text_is_above_the_grade() -> None:
    found, grade = readability_problems(HARD)
    assert grade is not None and grade > m.MAX_GRADE
    assert found == [f"it reads at grade {grade:.1f} (Flesch-Kincaid), above 12"]


@pytest.mark.parametrize(("text", "recovery"), [
    pytest.param(RECOVERY_TEXT, True, id="recovered"),
    pytest.param("The CRM RECOVERED at 10:05.", True, id="upper-case"),
    pytest.param("Lead router is working again.", True, id="working-again"),
    pytest.param("Incident resolved: leads are routed.", True, id="resolved"),
    pytest.param("The CRM is back.", True, id="is-back"),
    pytest.param("Lead router is back to normal.", True, id="back-to-normal"),
    pytest.param("Service restored.", True, id="restored"),
    pytest.param(INCIDENT_TEXT, False, id="incident"),
    pytest.param("Lead router: the CRM is down.", False, id="down"),
    pytest.param(TRACEBACK, False, id="traceback"),
    pytest.param("", False, id="empty"),
])
def test_is_recovery(text: str, recovery: bool) -> None:
    assert is_recovery(alert(text)) is recovery


def test_incident_alerts_leave_out_recoveries() -> None:
    assert m.incident_alerts(INCIDENT) == [FIRST]


@pytest.mark.parametrize(("text", "recovery"), [
    ("lead-router: recovered. The CRM is accepting assignments again.", True),
    ("lead-router: the model service is working again.", True),
    ("lead-router: the CRM has not recovered yet; leads are queued.", False),
    ("lead-router: CRM errors are up again, likely an outage.", False),
    ("lead-router: the CRM is no longer answering.", False),
], ids=["recovered", "working-again", "not-recovered-yet", "errors-up-again", "no-longer"])
def test_recovery_wording_is_not_fooled_by_negation(text: str, recovery: bool) -> None:
    assert m.is_recovery(alert(text)) is recovery


def test_a_date_is_not_whom_to_call() -> None:
    text = "Lead router: the CRM is down since 2026-01-01, likely a deploy."
    assert "it does not say whom to call" in m.content_gaps(text, "lead-router", ())


def test_two_alerts_on_one_channel_are_a_storm_even_when_nothing_failed_after() -> None:
    found = m.alerts_deduplicated(incident(alert(), alert(after_s=11.0), after_first_alert=0))
    assert found.outcome is Outcome.FAIL
