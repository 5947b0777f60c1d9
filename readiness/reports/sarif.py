"""scorecard.sarif: the scorecard as SARIF 2.1.0, one rule per item, for code-scanning tools."""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from readiness.reports._text import clip, one_line, printable

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
BASE_ID = "PROJECTROOT"
_FINGERPRINT = "readinessResult/v1"
_TEXT_LIMIT = 2_000

# Risk to severity as OpenSSF Scorecard maps a check's risk, pkg/scorecard/sarif.go
# (ossf/scorecard 0c205a0): calculateSeverityLevel gives `security-severity`
# (Critical 9.0, High 7.0, Medium 4.0, Low 1.0, on GitHub's CVSS-like scale) and
# generateProblemSeverity gives `problem.severity` (error, error, warning, recommendation).
# Scorecard sets every rule's defaultConfiguration.level to "error"; here the level follows
# problem.severity instead ("recommendation" is no SARIF level: its nearest is "note"),
# because GitHub reads security-severity only on rules tagged "security" and shows the
# others by level, so a constant level would flatten eight of the nine items.
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_PROBLEM_SEVERITY = {"critical": "error", "high": "error", "medium": "warning",
                     "low": "recommendation"}
_SECURITY_SEVERITY = {"critical": "9.0", "high": "7.0", "medium": "4.0", "low": "1.0"}
# A probe or an item the harness could not assess proved no defect, so it is not "error";
# but the gate fails closed on it, so it must not read as a minor "note" either.
_UNASSESSED_LEVEL = "warning"


def render_sarif(card: Mapping[str, Any]) -> dict[str, Any]:
    """Render a scorecard as a SARIF 2.1.0 log (a JSON-ready dict).

    Every item is a rule (id = the item key, in scorecard order), present whether it
    passed or not, so a code-scanning tool sees which checks ran and closes alerts that
    a later run no longer reports. Results:

    - one per failed or errored probe, or one per entry of its ``evidence["findings"]``
      (``{"file", "line", "rule", "message"}``, paths relative to the agent's project)
      located at that file and line; other results are located at the config file;
    - one per item that is not ``pass`` but has no blocking failure or error to show
      for it (above all ``not_run``), because the gate fails on it; an item the gate
      does not require that was not run (left out by ``--only`` or ``readiness load``)
      gets none.

    Levels: a blocking failure takes its item's risk level, an advisory (non-blocking)
    failure is ``note``, an error or an unassessed item is ``warning``. Output is a pure
    function of the card: two renders of the same card are equal.

    Args:
        card: scorecard.json as loaded; it must satisfy the schema.
    """
    config = _path(str(card["run"]["config"])).rsplit("/", 1)[-1]
    if config in ("", ".", ".."):
        config = "readiness.toml"  # a location is required; this is the config's default name
    required = set(card["gate"]["required"])
    results = [result
               for index, item in enumerate(card["items"])
               for result in _item_results(index, item, config, item["key"] in required)]
    invocation: dict[str, Any] = {
        "executionSuccessful": not card["incomplete"],
        "startTimeUtc": _utc(card["started_at"]),
        "endTimeUtc": _utc(card["finished_at"]),
    }
    if card["notes"]:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": _text(note)}} for note in card["notes"]]
    driver = {"name": "agent-readiness", "version": str(card["harness"]["version"]),
              "rules": [_rule(item, card["gate"]["min_score"]) for item in card["items"]]}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation],
            "originalUriBaseIds": {BASE_ID: {"description": {
                "text": "The agent's project root: the directory holding the readiness config."}}},
            "results": results,
        }],
    }


def _rule(item: Mapping[str, Any], min_score: float) -> dict[str, Any]:
    """One item as a reportingDescriptor."""
    risk = item["risk"]
    probes = ", ".join(str(p["id"]) for p in item["probes"]) or "none ran"
    help_text = (f"{item['question']} A pass means: every blocking probe passes and the item "
                 f"scores at least {min_score:g} of 10. A probe that cannot be assessed, or an "
                 f"item that does not run, fails the release gate. Probes: {probes}.")
    # GitHub applies security-severity only to rules tagged "security" (its SARIF docs,
    # reportingDescriptor object); the other items are readiness, not security, checks.
    tags = ["agent-readiness", item["key"]] if item["key"] != "security" else [
        "agent-readiness", "security"]
    return {
        "id": item["key"],
        "name": "".join(part.capitalize() for part in item["key"].split("_")),
        "shortDescription": {"text": item["title"]},
        "fullDescription": {"text": item["question"] or item["title"]},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVEL[risk]},
        "properties": {"tags": tags, "precision": "high",
                       "problem.severity": _PROBLEM_SEVERITY[risk],
                       "security-severity": _SECURITY_SEVERITY[risk]},
    }


def _item_results(index: int, item: Mapping[str, Any], config: str,
                  required: bool) -> Iterator[dict[str, Any]]:
    """The results of one item: its failed and errored probes, or its status."""
    key, risk = item["key"], item["risk"]
    shown = False
    for probe in item["probes"]:
        outcome = probe["outcome"]
        if outcome not in ("fail", "error"):
            continue
        blocking = bool(probe.get("blocking", True))
        shown = shown or blocking or outcome == "error"
        level = (_UNASSESSED_LEVEL if outcome == "error"
                 else _LEVEL[risk] if blocking else "note")
        remediation = f"\nRemediation: {probe['remediation']}" if probe.get("remediation") else ""
        properties = {"probe": probe["id"], "outcome": outcome, "blocking": blocking}
        findings = _findings(probe.get("evidence"))
        results = []
        if not findings:
            text = f"{probe['id']}: {_text(probe['message'])}{_text(remediation)}"
            results.append(_result(key, index, level, text, properties, config, None,
                                   probe["id"]))
        for file, line, rule, message in findings:
            label = (_text(message) or _text(probe["message"])) + (f" ({rule})" if rule else "")
            text = f"{probe['id']}: {label}{_text(remediation)}"
            results.append(_result(key, index, level, text, {**properties, "finding": rule},
                                   file, line, probe["id"], rule))
        waived = probe.get("waived")
        for result in results:
            if isinstance(waived, Mapping):  # accepted by a waiver: shown, marked suppressed
                result["suppressions"] = [{
                    "kind": "external", "status": "accepted",
                    "justification": _text(f"{waived.get('reason', '')} (owner "
                                           f"{waived.get('owner', '')}, until "
                                           f"{waived.get('expires', '')})")}]
            yield result
    if item["status"] != "pass" and not shown and (required or item["status"] != "not_run"):
        level = _LEVEL[risk] if item["status"] == "fail" else _UNASSESSED_LEVEL
        text = f"{key} is {item['status']}: {_text(item['reason'])}"
        yield _result(key, index, level, text, {"status": item["status"]}, config, None,
                      item["status"])


def _result(rule_id: str, index: int, level: str, text: str, properties: dict[str, Any],
            file: str, line: int | None, *identity: str) -> dict[str, Any]:
    """A SARIF result located at `file` (relative to PROJECTROOT), at `line` if known."""
    uri = quote(file, safe="/", errors="replace")  # a lone surrogate becomes %3F
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": BASE_ID}}
    if line is not None:
        physical["region"] = {"startLine": line}
    # Stable across runs (no message, no score) so code scanning matches an alert to
    # its earlier self; the line is in it so that two findings in one file stay apart.
    parts = [rule_id, *identity, file, "" if line is None else str(line)]
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()
    return {"ruleId": rule_id, "ruleIndex": index, "level": level, "message": {"text": text},
            "locations": [{"physicalLocation": physical}],
            "partialFingerprints": {_FINGERPRINT: digest}, "properties": properties}


def _findings(evidence: Any) -> list[tuple[str, int | None, str, str]]:
    """Evidence findings as sorted (file, line, rule, message); malformed entries dropped."""
    entries = evidence.get("findings") if isinstance(evidence, Mapping) else None
    if not isinstance(entries, list):
        return []
    found: set[tuple[str, int | None, str, str]] = set()
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("file"), str):
            continue
        file = _path(entry["file"])
        line = entry.get("line")
        if not file or file == ".":
            continue
        valid_line = line if type(line) is int and line >= 1 else None
        found.add((file, valid_line, one_line(str(entry.get("rule") or "")),
                   str(entry.get("message") or "")))
    return sorted(found, key=lambda f: (f[0], f[1] or 0, f[2], f[3]))


def _path(raw: str) -> str:
    """A path with forward slashes, normalised (so `./a.py` and `a.py` are one file)."""
    path = printable(raw).replace("\\", "/").strip()
    return posixpath.normpath(path) if path else ""


def _text(value: Any) -> str:
    """Agent-supplied text without controls or bidi overrides, cut to a sane length."""
    return clip(printable(str(value)), _TEXT_LIMIT)


def _utc(stamp: str) -> str:
    """An RFC 3339 timestamp in UTC with a Z suffix, as SARIF's *TimeUtc properties want."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:  # a leap second (:60) is valid RFC 3339 but not for datetime
        return stamp
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
