"""junit.xml: the scorecard as CI test results, one testcase per probe."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from typing import Any

from readiness.reports._text import clip, evidence_json, one_line, score_text, xml_safe

_MESSAGE_LIMIT = 1_000  # the `message` attribute CI tools show on one line
_EVIDENCE_LIMIT = 10_000
_ITEM_STATUS_OUTCOMES = {"fail": "fail", "error": "error", "not_run": "fail"}


def render_junit(card: Mapping[str, Any]) -> str:
    """Render a scorecard as JUnit XML: one testsuite per item, one testcase per probe.

    Each testcase is ``classname="readiness.<item key>" name="<probe id>"``. A
    failed probe carries ``<failure>`` (message, remediation and compact
    evidence), an errored one ``<error>``, a not-applicable one ``<skipped>``; a
    failure a waiver accepts is ``<skipped type="readiness.waived">`` naming the
    waiver (as pytest's junitxml shows an xfail).

    An item whose status is not ``pass`` but whose probes show no failure or
    error (above all ``not_run``: no probe ran, or every probe was not
    applicable) gets one synthetic testcase named after its status (``not_run``,
    ``error`` or ``fail``) carrying ``<failure>`` (``<error>`` for ``error``)
    with the item's reason. ``<skipped>`` would be the literal reading of "not
    run", but CI dashboards show skips as harmless, while the gate fails closed
    on an item that was not assessed: the XML must show red wherever the gate
    does. An item the gate does not require that was not run (left out by
    ``--only`` or ``readiness load``) is the exception: its case is ``<skipped>``.

    The scorecard holds no per-probe timings, so testcases and suites report
    ``time="0"`` and the top-level ``<testsuites>`` the run's wall-clock duration.
    Every agent-supplied string is stripped of characters XML 1.0 cannot carry;
    ElementTree escapes the rest.

    Args:
        card: scorecard.json as loaded; it must satisfy the schema (see
            `validate_scorecard`).

    Returns:
        The XML document with its declaration, ending with a newline.
    """
    root = ET.Element("testsuites", name="readiness")
    totals: Counter[str] = Counter()
    required = set(card["gate"]["required"])
    for item in card["items"]:
        suite, counts = _suite(item, card["started_at"], item["key"] in required)
        root.append(suite)
        totals.update(counts)
    _set_counts(root, totals)
    root.set("time", f"{float(card['run']['duration_s']):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(item: Mapping[str, Any], timestamp: str,
           required: bool) -> tuple[ET.Element, Counter[str]]:
    """One item's testsuite and its counts (tests, failures, errors, skipped)."""
    classname = f"readiness.{_attr(item['key'])}"
    suite = ET.Element("testsuite", name=classname, timestamp=_attr(timestamp))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("title", item["title"]), ("risk", item["risk"]),
                        ("status", item["status"]), ("score", score_text(item["score"])),
                        ("reason", item["reason"])):
        ET.SubElement(properties, "property", name=name, value=_attr(value))
    counts: Counter[str] = Counter()
    for probe in item["probes"]:
        suite.append(_testcase(classname, probe))
        counts.update(_outcome_counts("waived" if _waived(probe) else probe["outcome"]))
    synthetic = _ITEM_STATUS_OUTCOMES.get(item["status"])
    if item["status"] == "not_run" and not required:  # left out, and the gate did not need it
        synthetic = "not_applicable"
    if synthetic and not (counts["failures"] or counts["errors"]):
        reason = f"item {item['key']} is {item['status']}: {item['reason']}"
        synthetic_probe = {"id": item["status"], "outcome": synthetic, "message": reason,
                           "remediation": "", "evidence": {}}
        suite.append(_testcase(classname, synthetic_probe))
        counts.update(_outcome_counts(synthetic))
    _set_counts(suite, counts)
    suite.set("time", "0.000")
    return suite, counts


def _testcase(classname: str, probe: Mapping[str, Any]) -> ET.Element:
    """One probe as a testcase, with its failure, error or skip element."""
    case = ET.Element("testcase", classname=classname, name=_attr(probe["id"]), time="0.000")
    outcome = probe["outcome"]
    message = _attr(probe["message"])
    if _waived(probe):  # an accepted failure: shown like pytest's xfail, not red
        waiver = probe["waived"]
        ET.SubElement(case, "skipped", type="readiness.waived", message=_attr(
            f"waived until {waiver.get('expires')} by {waiver.get('owner')}: "
            f"{waiver.get('reason')} ({probe['message']})"))
    elif outcome == "fail":
        detail = ET.SubElement(case, "failure", message=message, type="readiness.fail")
        detail.text = _detail(probe)
    elif outcome == "error":
        detail = ET.SubElement(case, "error", message=message, type="readiness.error")
        detail.text = _detail(probe)
    elif outcome == "not_applicable":
        ET.SubElement(case, "skipped", message=message)
    return case


def _waived(probe: Mapping[str, Any]) -> bool:
    """True for a failed probe a waiver in force accepts."""
    return probe["outcome"] == "fail" and isinstance(probe.get("waived"), Mapping)


def _detail(probe: Mapping[str, Any]) -> str:
    """The element body: message, remediation and compact evidence."""
    parts = [probe["message"]]
    if probe.get("remediation"):
        parts.append(f"Remediation: {probe['remediation']}")
    if probe.get("evidence"):
        parts.append("Evidence: " + evidence_json(probe["evidence"], limit=_EVIDENCE_LIMIT,
                                                  indent=None))
    return xml_safe("\n\n".join(parts))


def _outcome_counts(outcome: str) -> Counter[str]:
    """The counters one testcase with this outcome adds."""
    key = {"fail": "failures", "error": "errors", "not_applicable": "skipped",
           "waived": "skipped"}.get(outcome)
    return Counter({"tests": 1, **({key: 1} if key else {})})


def _set_counts(element: ET.Element, counts: Counter[str]) -> None:
    """Write the tests/failures/errors/skipped attributes JUnit consumers read."""
    for name in ("tests", "failures", "errors", "skipped"):
        element.set(name, str(counts[name]))


def _attr(value: Any) -> str:
    """A single-line attribute value: no controls, no characters XML 1.0 forbids, clipped."""
    return clip(one_line(xml_safe(str(value))), _MESSAGE_LIMIT)
