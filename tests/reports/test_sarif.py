"""scorecard.sarif: rules per item, results per failure, valid against the OASIS schema."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped]  # no py.typed
from reports_cards import NAMES, all_cards, item_json, load_only_card, probe, valid

from readiness.items import ITEMS
from readiness.reports import render_sarif, write_reports

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json")
                    .read_text(encoding="utf-8"))

# jsonschema checks uri, uri-reference and date-time only with optional packages
# installed; these cheap stand-ins make the test independent of them.
_URI_CHARS = r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
_FORMATS = FormatChecker(formats=())
_FORMATS.checks("uri")(lambda v: not isinstance(v, str) or bool(
    re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:" + _URI_CHARS, v)))
_FORMATS.checks("uri-reference")(lambda v: not isinstance(v, str) or bool(
    re.fullmatch(_URI_CHARS, v)))
_FORMATS.checks("date-time", raises=ValueError)(lambda v: not isinstance(v, str) or bool(
    re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", v)
    and datetime.fromisoformat(v)))
VALIDATOR = Draft4Validator(SCHEMA, format_checker=_FORMATS)

FINDINGS = [
    {"file": "src/crm_agent/tools.py", "line": 42, "rule": "B608",
     "message": "SQL built by f-string"},
    {"file": "./src/crm_agent/settings.py", "line": 7, "rule": "aws-access-key",
     "message": "AWS access key"},
    {"file": "src\\crm agent\\é.py", "line": 3, "rule": "B105", "message": "hardcoded password"},
    {"file": "src/crm_agent/settings.py", "line": 0, "rule": "generic", "message": "no line"},
    {"file": 17, "line": 1}, "not a finding", {"line": 3},
]


def _run(card: dict[str, Any]) -> dict[str, Any]:
    log = render_sarif(card)
    assert len(log["runs"]) == 1
    run: dict[str, Any] = log["runs"][0]
    return run


def _findings_card() -> dict[str, Any]:
    """Not ready: the secrets probe fails with located findings (as the security probes report)."""
    card = valid("not_ready")
    card["items"][5]["probes"][0] = probe("no_hardcoded_secrets", "fail",
                                          message="4 findings", evidence={"findings": FINDINGS})
    return card


def _summary(run: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["ruleId"], r["level"], r["message"]["text"].split(":")[0]) for r in run["results"]]


def _errors(log: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(log)]


def test_items_left_out_of_a_run_the_gate_passed_report_nothing() -> None:
    card = load_only_card()
    log = render_sarif(card)
    assert _errors(log) == [] and _run(card)["results"] == []
    card["gate"]["required"] = ["load", "audit"]
    assert [r["ruleId"] for r in _run(card)["results"]] == ["audit"]


def test_the_vendored_schema_is_the_oasis_one() -> None:
    Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert render_sarif(valid("ready"))["$schema"] == SCHEMA["id"]


@pytest.mark.parametrize("name", [*NAMES, "many_failures", "findings"])
def test_validates_against_the_sarif_2_1_0_schema(name: str) -> None:
    card = _findings_card() if name == "findings" else valid(name)
    assert _errors(render_sarif(card)) == []


def test_the_format_checks_bite() -> None:
    log = render_sarif(valid("not_ready"))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"] = "a b.py"
    log["runs"][0]["invocations"][0]["startTimeUtc"] = "yesterday"
    assert len(_errors(log)) == 2


def test_a_passing_card_has_every_rule_and_no_result() -> None:
    run = _run(valid("ready"))
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True,
                                   "startTimeUtc": "2026-11-25T10:00:00Z",
                                   "endTimeUtc": "2026-11-25T10:00:42Z"}]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("agent-readiness", "0.1.0")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [item.key for item in ITEMS]
    assert [r["shortDescription"]["text"] for r in rules] == [item.title for item in ITEMS]
    assert rules[0]["name"] == "ErrorHandling"
    assert "at least 7 of 10" in rules[0]["help"]["text"]
    assert "honours_retry_after" in rules[0]["help"]["text"]
    assert "PROJECTROOT" in run["originalUriBaseIds"]


@pytest.mark.parametrize(("risk", "level", "problem", "security"), [
    ("critical", "error", "error", "9.0"),
    ("high", "error", "error", "7.0"),
    ("medium", "warning", "warning", "4.0"),
    ("low", "note", "recommendation", "1.0"),
])
def test_rule_severity_follows_risk_as_openssf_scorecard_maps_it(
        risk: str, level: str, problem: str, security: str) -> None:
    card = valid("not_ready")
    card["items"][1]["risk"] = risk
    run = _run(card)
    rule = run["tool"]["driver"]["rules"][1]
    assert rule["defaultConfiguration"]["level"] == level
    assert rule["properties"]["problem.severity"] == problem
    assert rule["properties"]["security-severity"] == security
    assert {r["level"] for r in run["results"] if r["ruleId"] == "audit"} == {level}


def test_only_the_security_item_is_tagged_security() -> None:
    rules = _run(valid("ready"))["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules if "security" in r["properties"]["tags"]] == ["security"]


def test_failed_errored_advisory_and_not_run_each_get_their_level() -> None:
    run = _run(valid("not_ready"))
    assert _summary(run) == [
        ("audit", "error", "audit_effects_match_upstream"),  # high risk, blocking failure
        ("audit", "error", "records_version"),
        ("security", "warning", "endpoints_require_auth"),  # could not be assessed
        ("load", "warning", "load is not_run"),  # not assessed: fails the gate all the same
        ("docs", "note", "runbook_actions_work"),  # advisory: does not block release
    ]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    first = run["results"][0]
    assert first["message"]["text"] == (
        "audit_effects_match_upstream: 2 writes reached the CRM but the audit record lists 1\n"
        "Remediation: Make audit effects match upstream hold.")
    assert first["locations"] == [{"physicalLocation": {"artifactLocation": {
        "uri": "readiness.toml", "uriBaseId": "PROJECTROOT"}}}]
    assert first["properties"] == {"probe": "audit_effects_match_upstream", "outcome": "fail",
                                   "blocking": True}


def test_an_item_failing_on_score_alone_still_shows_at_its_risk_level() -> None:
    card = valid("not_ready")
    card["items"][7] = item_json(7, "fail", 5.0, [
        probe("runbook_has_sections"),
        probe("runbook_actions_work", "fail", blocking=False, message="FAQ step 3 is stale"),
    ], reason="score 5 is under the gate's 7")
    docs = [r for r in _run(card)["results"] if r["ruleId"] == "docs"]
    assert [(r["level"], r["message"]["text"]) for r in docs] == [
        ("note", "runbook_actions_work: FAQ step 3 is stale\n"
                 "Remediation: Make runbook actions work hold."),
        ("warning", "docs is fail: score 5 is under the gate's 7"),
    ]


def test_an_incomplete_run_reports_every_not_run_item_and_its_notes() -> None:
    card = valid("incomplete")
    run = _run(card)
    not_run = [r for r in run["results"] if r["properties"].get("status") == "not_run"]
    assert [r["ruleId"] for r in not_run] == [item.key for item in ITEMS[4:]]
    assert {r["level"] for r in not_run} == {"warning"}
    assert not_run[0]["message"]["text"] == "versioning is not_run: run interrupted"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert [n["message"]["text"] for n in invocation["toolExecutionNotifications"]] == card["notes"]


def test_located_findings_become_one_result_each_at_their_file_and_line() -> None:
    results = [r for r in _run(_findings_card())["results"]
               if r["properties"].get("probe") == "no_hardcoded_secrets"]
    located = [(r["locations"][0]["physicalLocation"]["artifactLocation"],
                r["locations"][0]["physicalLocation"].get("region"), r["level"])
               for r in results]
    base = "PROJECTROOT"
    assert located == [
        ({"uri": "src/crm%20agent/%C3%A9.py", "uriBaseId": base}, {"startLine": 3}, "error"),
        ({"uri": "src/crm_agent/settings.py", "uriBaseId": base}, None, "error"),
        ({"uri": "src/crm_agent/settings.py", "uriBaseId": base}, {"startLine": 7}, "error"),
        ({"uri": "src/crm_agent/tools.py", "uriBaseId": base}, {"startLine": 42}, "error"),
    ]
    assert results[3]["message"]["text"] == (
        "no_hardcoded_secrets: SQL built by f-string (B608)\n"
        "Remediation: Make no hardcoded secrets hold.")
    assert results[3]["properties"]["finding"] == "B608"
    fingerprints = [r["partialFingerprints"]["readinessResult/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)


def test_evidence_without_usable_findings_falls_back_to_the_config_file() -> None:
    card = valid("not_ready")
    card["run"]["config"] = "C:\\agents\\crm\\readiness-prod.toml"
    card["items"][1]["probes"][1]["evidence"] = {"findings": [{"line": 3}, "x", {"file": ""}]}
    result = _run(card)["results"][0]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "readiness-prod.toml", "uriBaseId": "PROJECTROOT"}}


def test_fingerprints_survive_a_changed_message_and_score_but_not_a_moved_finding() -> None:
    before = _run(_findings_card())["results"]
    card = _findings_card()
    card["items"][5]["score"] = 2.0
    card["items"][1]["probes"][1]["message"] = "3 writes reached the CRM"
    card["items"][5]["probes"][0]["evidence"]["findings"][0]["line"] = 43
    after = _run(card)["results"]

    def prints(results: list[dict[str, Any]]) -> list[str]:
        return [r["partialFingerprints"]["readinessResult/v1"] for r in results]

    changed = [i for i, (a, b) in enumerate(zip(prints(before), prints(after), strict=True))
               if a != b]
    assert [after[i]["locations"][0]["physicalLocation"].get("region") for i in changed] == [
        {"startLine": 43}]


def test_rendering_is_stable_and_ignores_the_order_of_findings() -> None:
    card = _findings_card()
    first = json.dumps(render_sarif(card))
    assert json.dumps(render_sarif(copy.deepcopy(card))) == first
    card["items"][5]["probes"][0]["evidence"]["findings"].reverse()
    assert json.dumps(render_sarif(card)) == first


def test_agent_text_reaches_the_log_without_controls_or_bidi_overrides() -> None:
    card = all_cards()["hostile"]
    card["items"][1]["probes"][1]["message"] += " \ud800 lone surrogate"
    card["items"][1]["probes"][1]["evidence"]["findings"] = [
        {"file": "src/\x1b[2Jevil\u202e.py", "line": 1, "rule": "\x1b]0;t\x07", "message": "m"}]
    text = json.dumps(render_sarif(card), ensure_ascii=False)
    for bad in ("\x1b", "\\u001b", "\u202e", "\\u202e", "\ud800", "\\u0000", "\x07"):
        assert bad not in text
    assert _errors(render_sarif(card)) == []


def test_timestamps_are_given_in_utc() -> None:
    card = valid("ready")
    card["started_at"] = "2026-11-25T11:00:00+01:00"
    assert _run(card)["invocations"][0]["startTimeUtc"] == "2026-11-25T10:00:00Z"


def test_write_reports_writes_scorecard_sarif(tmp_path: Path) -> None:
    card = valid("not_ready")
    paths = write_reports(card, tmp_path)
    assert paths["sarif"] == tmp_path / "scorecard.sarif"
    text = paths["sarif"].read_text(encoding="utf-8")
    assert text.endswith("}\n") and json.loads(text) == render_sarif(card)
