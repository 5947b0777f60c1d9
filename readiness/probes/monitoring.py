"""Item 4, monitoring: metrics a dashboard can use, and alerts a person can act on.

The observer (`monitoring_observe`) scrapes /metrics, then makes an upstream fail
on every attempt while it keeps invoking the agent, and listens at the harness's
alert sink (webhook and SMTP). The probes judge what arrived, verbatim.

Readability is the Flesch-Kincaid grade level (`_readability.grade_level`), on the
text without addresses; an operator alert should read at grade 12 or below.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from readiness.alert_sink import Alert
from readiness.probes._readability import first_sentence, grade_level, machine_text
from readiness.probes._text import contacts as contacts_in
from readiness.registry import probe
from readiness.results import Finding, errored, failed, passed

ITEM = "monitoring"
MAX_GRADE = 12.0
SUMMARY_WORDS = 25  # the first sentence is the summary a phone notification shows

RECOVERY = re.compile(
    r"\b(recover(ed|y|ing)?|resolved|back to normal|(working|answering|accepting|running|"
    r"healthy|ok|available) again|restored|is back)\b", re.IGNORECASE)
_NOT_YET = re.compile(r"\b(not|n't|never|yet to|no longer)\s+(\w+\s+)?(recover|resolved|restored|"
                      r"back|working|answering|healthy|available)", re.IGNORECASE)
SYMPTOM = re.compile(
    r"\b(fail\w*|error\w*|down|not|unavailable|outage|time[sd]? ?out|timing out|slow\w*|"
    r"unreachable|stopp\w*|cannot|can't|isn't|aren't|no longer|degraded|broken|rejecting)\b",
    re.IGNORECASE)
CAUSE = re.compile(
    r"\b(likely|probably|because|caused by|due to|cause|suspect\w*|looks like|appears|"
    r"seems)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Family:
    """One metric family as prometheus_client parsed it."""

    name: str
    type: str
    labels: tuple[str, ...] = ()
    samples: int = 0


@dataclass(frozen=True)
class MetricsScrape:
    status: int | None
    content_type: str | None = None
    families: tuple[Family, ...] = ()
    problem: str | None = None
    excerpt: str = ""


@dataclass(frozen=True)
class Incident:
    """A sustained upstream failure and what reached the sink during and after it."""

    upstream: str
    fault: str
    started_at: float  # epoch seconds the fault was armed
    ended_at: float | None = None
    within_s: float = 30.0
    failed_invocations: int = 0
    after_first_alert: int = 0  # failed invocations completed after the first alert
    alerts: tuple[Alert, ...] = ()  # every alert from the start to the end of listening
    recovery_wait_s: float = 0.0
    problem: str | None = None


@dataclass(frozen=True)
class MonitoringObservations:
    agent_name: str
    metrics: MetricsScrape | None = None
    incident: Incident | None = None
    contacts: tuple[str, ...] = ()  # names and addresses of whom to call, from [owner]
    unavailable: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def is_recovery(alert: Alert) -> bool:
    """Says the trouble is over ("recovered", "working again"), and not that it is not yet."""
    return RECOVERY.search(alert.text) is not None and _NOT_YET.search(alert.text) is None


def incident_alerts(incident: Incident) -> list[Alert]:
    return [a for a in incident.alerts if not is_recovery(a)]


def shown(alert: Alert, incident: Incident) -> dict[str, Any]:
    """An alert as evidence: verbatim text, channel, when it came."""
    return {"channel": alert.channel, "subject": alert.subject, "text": alert.text,
            "received_after_s": round(alert.received_at - incident.started_at, 2),
            "problem": alert.problem}


# --- metrics -----------------------------------------------------------------------------

SIGNALS: Mapping[str, re.Pattern[str]] = {
    "requests": re.compile(r"request|invocation|invoke|decision|call", re.IGNORECASE),
    "errors": re.compile(r"error|fail|exception", re.IGNORECASE),
    "retries": re.compile(r"retr(y|ies|ied)", re.IGNORECASE),
    "latency": re.compile(r"latency|duration|seconds|_ms$|_time$", re.IGNORECASE),
}
_COUNTING = ("counter", "unknown", "gauge")
_TIMING = ("histogram", "summary", "gaugehistogram")


def signal_families(families: tuple[Family, ...]) -> dict[str, list[str]]:
    """Which families carry each signal: requests, errors, retries (counters) and latency."""
    found: dict[str, list[str]] = {key: [] for key in SIGNALS}
    for family in families:
        for key, pattern in SIGNALS.items():
            if key == "latency":
                hit = family.type in _TIMING and pattern.search(family.name) is not None
            else:
                hit = family.type in _COUNTING and pattern.search(family.name) is not None
            if key == "errors" and family.type in _COUNTING and any(
                    label in ("error", "errors", "error_type", "exception")
                    for label in family.labels):
                hit = True
            if hit:
                found[key].append(family.name)
    return found


@probe(ITEM, title="/metrics is valid Prometheus text",
       why="Dashboards and alert rules scrape the agent; if its metrics cannot be parsed, "
           "nobody sees the agent degrade.",
       fix="Serve GET /metrics with a Prometheus client library's exposition "
           "(prometheus_client.generate_latest), content type text/plain; version=0.0.4.")
def metrics_parse_as_prometheus(obs: MonitoringObservations) -> Finding:
    scrape = obs.metrics
    if obs.unavailable and scrape is None:
        return errored(f"metrics could not be read: {obs.unavailable}")
    if scrape is None:
        return errored("/metrics was not scraped")
    evidence: dict[str, Any] = {"http_status": scrape.status, "content_type": scrape.content_type,
                "excerpt": scrape.excerpt}
    if scrape.problem:
        return failed(f"/metrics is not usable Prometheus text: {scrape.problem}", **evidence)
    return passed(f"/metrics parsed: {len(scrape.families)} metric families",
                  families=[f"{f.name} ({f.type})" for f in scrape.families][:40], **evidence)


@probe(ITEM, title="Metrics carry requests, errors, retries and latency",
       why="These four series answer 'is it working, how often does it fail, is it fighting "
           "its upstreams, is it slow': the minimum for an on-call dashboard.",
       fix="Export a request counter, an error counter, a retry counter and a latency "
           "histogram, named for what they count (e.g. agent_requests_total, "
           "agent_errors_total, agent_upstream_retries_total, agent_request_seconds).")
def metrics_cover_requests_errors_retries_latency(obs: MonitoringObservations) -> Finding:
    scrape = obs.metrics
    if scrape is None:
        return errored(f"metrics could not be read: {obs.unavailable or 'not scraped'}")
    if scrape.problem:
        return failed(f"no series can be read: {scrape.problem}")
    found = signal_families(scrape.families)
    missing = [key for key, names in found.items() if not names]
    if missing:
        return failed(f"no {', '.join(missing)} series in /metrics (looked for counters named "
                      "like requests/errors/retries and a histogram or summary of latency)",
                      found=found, families=[f"{f.name} ({f.type})" for f in scrape.families])
    return passed("requests, errors, retries and latency are all exported", found=found)


# --- alerts ------------------------------------------------------------------------------


def _incident_or_error(obs: MonitoringObservations) -> Incident | Finding:
    if obs.incident is None:
        return errored(f"no upstream failure could be staged: {obs.unavailable or 'not run'}")
    if obs.incident.problem:
        return errored(f"the upstream failure could not be staged: {obs.incident.problem}")
    return obs.incident


def _alerted(obs: MonitoringObservations, nothing: str) -> tuple[Incident, list[Alert]] | Finding:
    """The incident and its incident alerts; a failure saying `nothing` when none came."""
    incident = _incident_or_error(obs)
    if isinstance(incident, Finding):
        return incident
    alerts = incident_alerts(incident)
    if not alerts:
        return failed(f"no incident alert arrived, so {nothing}")
    return incident, alerts


@probe(ITEM, weight=2, title="A sustained upstream failure raises an alert within the threshold",
       why="An outage nobody hears about becomes a quarter of silently lost work; the alert "
           "is what turns a failure into an incident someone handles.",
       fix="Count failed upstream calls; when they persist (e.g. 3 in a row, or 10 s of "
           "nothing but failures) post to the webhook in the variable [alerts] env names.")
def alert_within_threshold(obs: MonitoringObservations) -> Finding:
    incident = _incident_or_error(obs)
    if isinstance(incident, Finding):
        return incident
    alerts = incident_alerts(incident)
    evidence: dict[str, Any] = {"upstream": incident.upstream, "fault": incident.fault,
                                "failed_invocations": incident.failed_invocations,
                                "within_s": incident.within_s}
    if not alerts:
        return failed(f"{incident.upstream} failed every call for "
                      f"{_lasted(incident)} and {incident.failed_invocations} invocations failed, "
                      "but no alert reached the webhook or the mail server", **evidence)
    first = alerts[0]
    after = first.received_at - incident.started_at
    evidence["first_alert"] = shown(first, incident)
    if after > incident.within_s:
        return failed(f"the first alert came {after:.1f} s after the failure began, later than "
                      f"the {incident.within_s:g} s allowed", **evidence)
    return passed(f"alert received by {first.channel} {after:.1f} s after {incident.upstream} "
                  f"began failing (allowed {incident.within_s:g} s)", **evidence)


def _lasted(incident: Incident) -> str:
    if incident.ended_at is None:
        return "the whole check"
    return f"{incident.ended_at - incident.started_at:.0f} s"


def readability_problems(text: str) -> tuple[list[str], float | None]:
    """Why an alert text is not plain English, and its grade level."""
    problems = list(machine_text(text))
    grade = grade_level(text)
    if grade is None:
        problems.append("the alert has no words")
    elif grade > MAX_GRADE:
        problems.append(f"it reads at grade {grade:.1f} (Flesch-Kincaid), above {MAX_GRADE:g}")
    return problems, grade


@probe(ITEM, title="Alerts are plain English, not stack traces or JSON",
       why="The person paged may be an operator, not the engineer who wrote the code; a stack "
           "trace or a JSON dump in the middle of the night gets ignored or misread.",
       fix="Compose the alert text for people: say what is happening in sentences; keep "
           "exception names, stack traces and payloads in the logs, linked if needed.")
def alert_is_plain_english(obs: MonitoringObservations) -> Finding:
    found = _alerted(obs, "there was nothing to read")
    if isinstance(found, Finding):
        return found
    incident, alerts = found
    verdicts = []
    for alert in alerts[:4]:
        problems, grade = readability_problems(alert.text)
        if alert.problem:
            problems.insert(0, alert.problem)
        verdicts.append({**shown(alert, incident), "grade_level": grade, "problems": problems})
    bad = [v for v in verdicts if v["problems"]]
    if bad:
        return failed(f"the {bad[0]['channel']} alert is not plain English: "
                      f"{'; '.join(bad[0]['problems'])}", alerts=verdicts)
    return passed(f"{len(verdicts)} alert(s) in plain English (grade "
                  f"{', '.join(str(round(v['grade_level'], 1)) for v in verdicts)})",
                  alerts=verdicts)


def content_gaps(text: str, agent_name: str, contacts: tuple[str, ...]) -> list[str]:
    """What an incident alert fails to say: summary, agent, symptom, cause, whom to call."""
    gaps = []
    summary = first_sentence(text)
    if len(summary.split()) > SUMMARY_WORDS:
        gaps.append(f"its first sentence is {len(summary.split())} words, not a short summary")
    if _words(agent_name) not in _words(text):
        gaps.append(f"it does not name the agent {agent_name!r}")
    if SYMPTOM.search(text) is None:
        gaps.append("it does not say what is failing")
    if CAUSE.search(text) is None:
        gaps.append("it gives no likely cause")
    named = [c for c in contacts if c and c.lower() in text.lower()]
    if not named and not contacts_in(text):
        gaps.append("it does not say whom to call")
    return gaps


def _words(text: str) -> str:
    """Lower case with runs of separators as one space: "Lead router" names "lead-router"."""
    return " " + re.sub(r"[\W_]+", " ", text.lower()).strip() + " "


@probe(ITEM, title="The alert names the agent, the symptom, the likely cause and whom to call",
       why="An alert is the first page of the runbook: the reader must know at once which "
           "agent, what is wrong, the probable reason, and who owns it.",
       fix="Lead with a one-line summary ('<agent>: leads are not being routed'), then the "
           "symptom, the likely cause, and the owner's name and contact.")
def alert_names_agent_symptom_cause_contact(obs: MonitoringObservations) -> Finding:
    found = _alerted(obs, "there was nothing to read")
    if isinstance(found, Finding):
        return found
    incident, alerts = found
    first = alerts[0]
    gaps = content_gaps(first.text, obs.agent_name, obs.contacts)
    evidence: dict[str, Any] = {"alert": shown(first, incident),
                                "summary": first_sentence(first.text)}
    if gaps:
        return failed("the alert falls short: " + "; ".join(gaps), **evidence)
    return passed("the alert leads with a summary and names the agent, the symptom, a likely "
                  "cause and whom to call", **evidence)


@probe(ITEM, title="One alert per incident, not a storm",
       why="An alert per failed request buries the one message that matters and trains people "
           "to mute the channel.",
       fix="Open an incident once per upstream outage, alert once, and stay quiet until it "
           "recovers (or escalate on a timer, not per request).")
def alerts_deduplicated(obs: MonitoringObservations) -> Finding:
    found = _alerted(obs, "deduplication could not be seen")
    if isinstance(found, Finding):
        return found
    incident, alerts = found
    per_channel = Counter(a.channel for a in alerts)
    evidence: dict[str, Any] = {"per_channel": dict(per_channel), "failed_after_first_alert":
                incident.after_first_alert, "alerts": [shown(a, incident) for a in alerts[:6]]}
    storm = {channel: n for channel, n in per_channel.items() if n > 1}
    if not storm and incident.after_first_alert == 0:
        return errored("the failure ended before more invocations failed, so a repeat alert "
                       "could not have shown", **evidence)
    if storm:
        return failed(f"{sum(storm.values())} incident alerts for one outage "
                      f"({', '.join(f'{n} by {c}' for c, n in storm.items())}); "
                      f"{incident.after_first_alert} more invocations failed after the first",
                      **evidence)
    return passed(f"one alert per channel while {incident.after_first_alert} more invocations "
                  "failed after it", **evidence)


@probe(ITEM, title="A recovery message follows when the failure ends",
       why="Without an all-clear, people keep working the incident, or learn to ignore alerts "
           "because they never know when one is over.",
       fix="When the failing upstream answers again after an alert, send one message saying "
           "it recovered, how long it lasted and what is left to do.")
def recovery_message_sent(obs: MonitoringObservations) -> Finding:
    found = _alerted(obs, "no recovery could follow one")
    if isinstance(found, Finding):
        return found
    incident, _ = found
    recoveries = [a for a in incident.alerts if is_recovery(a)]
    evidence: dict[str, Any] = {"waited_s": incident.recovery_wait_s}
    if not recoveries:
        return failed(f"no recovery message within {incident.recovery_wait_s:.0f} s after "
                      f"{incident.upstream} answered again", **evidence)
    early = [a for a in recoveries if incident.ended_at is not None
             and a.received_at < incident.ended_at]
    evidence["recovery"] = shown(recoveries[0], incident)
    if early:
        return failed("a recovery message came while the upstream was still failing",
                      **evidence)
    problems, grade = readability_problems(recoveries[0].text)
    if problems:
        return failed(f"the recovery message is not plain English: {'; '.join(problems)}",
                      grade_level=grade, **evidence)
    return passed(f"recovery message received by {recoveries[0].channel}", **evidence)
