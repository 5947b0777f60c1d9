"""junit.xml: parses, counts match, and CI shows red wherever the gate does."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from reports_cards import NAMES, SCRIPT, item_json, load_only_card, probe, valid

from readiness.items import ITEMS
from readiness.reports import render_junit, validate_scorecard

COUNTED = {"failures": "failure", "errors": "error", "skipped": "skipped"}
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse(name: str) -> ET.Element:
    return ET.fromstring(render_junit(valid(name)).encode("utf-8"))


def case(root: ET.Element, key: str, name: str) -> ET.Element:
    found = root.find(f"testsuite/testcase[@classname='readiness.{key}'][@name='{name}']")
    assert found is not None, (key, name)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_one_suite_per_item_and_counts_match_the_elements(name: str) -> None:
    root = parse(name)
    assert root.tag == "testsuites" and root.get("name") == "readiness"
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == [f"readiness.{i.key}" for i in ITEMS]
    for element, cases in [(root, root.findall("testsuite/testcase")),
                           *((suite, suite.findall("testcase")) for suite in suites)]:
        assert element.get("tests") == str(len(cases))
        for attribute, child in COUNTED.items():
            assert element.get(attribute) == str(sum(c.find(child) is not None for c in cases))
        assert all(c.get("classname", "").startswith("readiness.") for c in cases)


@pytest.mark.parametrize("name", NAMES)
def test_every_probe_is_a_testcase(name: str) -> None:
    card = valid(name)
    root = parse(name)
    for item in card["items"]:
        for entry in item["probes"]:
            case(root, item["key"], entry["id"])


def test_outcomes_map_to_failure_error_and_skipped() -> None:
    root = parse("not_ready")
    failure = case(root, "audit", "audit_effects_match_upstream").find("failure")
    assert failure is not None
    assert failure.get("message") == "2 writes reached the CRM but the audit record lists 1"
    assert "Remediation: Make audit effects match upstream hold." in (failure.text or "")
    assert 'Evidence: {"calls":[{"method":"POST"' in (failure.text or "")
    assert case(root, "security", "endpoints_require_auth").find("error") is not None
    skipped = case(root, "security", "writes_stay_in_allow_list").find("skipped")
    assert skipped is not None and skipped.get("message") == "no tool upstream"
    assert list(case(root, "audit", "one_record_per_decision")) == []


def test_not_run_item_is_a_failure_not_a_skip() -> None:
    root = parse("not_ready")
    failure = case(root, "load", "not_run").find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("item load is not_run: not assessed")


def test_items_left_out_of_a_run_the_gate_passed_are_skips_not_failures() -> None:
    card = load_only_card()
    validate_scorecard(card)
    root = ET.fromstring(render_junit(card).encode("utf-8"))
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("0", "0", "8")
    skipped = case(root, "audit", "not_run").find("skipped")
    assert skipped is not None and "left out of this run" in (skipped.get("message") or "")
    card["gate"]["required"] = ["load", "audit"]  # a required item left out still fails
    root = ET.fromstring(render_junit(card).encode("utf-8"))
    assert case(root, "audit", "not_run").find("failure") is not None
    assert root.get("failures") == "1"


def test_incomplete_run_shows_every_unreached_item_as_failed() -> None:
    root = parse("incomplete")
    for key in ("versioning", "security", "load", "docs", "owner"):
        assert case(root, key, "not_run").find("failure") is not None


def test_advisory_failure_in_a_passing_item_adds_no_synthetic_case() -> None:
    root = parse("not_ready")
    docs = root.find("testsuite[@name='readiness.docs']")
    assert docs is not None and docs.get("failures") == "1" and docs.get("tests") == "2"


def test_item_error_or_fail_without_failing_probes_gets_a_synthetic_case() -> None:
    card = valid("ready")
    card["verdict"] = "not_ready"
    card["gate"]["failed"] = ["audit", "rollback"]
    card["items"][1] = item_json(1, "error", 0.0, [], reason="observer crashed")
    card["items"][2] = item_json(2, "fail", 6.0, [probe("revert_compensates")],
                                 reason="score under the gate")
    card["items"][3] = item_json(3, "not_run", 0.0, [probe("exposes_metrics", "not_applicable")],
                                 reason="not assessed: every probe was not applicable")
    validate_scorecard(card)
    root = ET.fromstring(render_junit(card))
    assert case(root, "audit", "error").find("error") is not None
    assert case(root, "rollback", "fail").find("failure") is not None
    assert case(root, "monitoring", "not_run").find("failure") is not None
    assert root.get("failures") == "2" and root.get("errors") == "1"


def test_ready_card_has_no_failures_and_reports_the_duration() -> None:
    root = parse("ready")
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("0", "0", "0")
    assert root.get("tests") == str(sum(len(suite) - 1 for suite in root))
    assert root.get("time") == "41.700"


def test_hostile_strings_are_escaped_and_illegal_characters_stripped() -> None:
    text = render_junit(valid("hostile"))
    assert not XML_ILLEGAL.search(text)
    root = ET.fromstring(text)
    failure = case(root, "audit", "records_version").find("failure")
    assert failure is not None
    assert SCRIPT in failure.get("message", "") and "\n" not in failure.get("message", "")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert len(failure.text or "") < 25_000


def test_declaration_and_trailing_newline() -> None:
    text = render_junit(valid("ready"))
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>\n<testsuites")
    assert text.endswith("</testsuites>\n")
