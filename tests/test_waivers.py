"""Waivers: file errors, which failures they accept, expiry, and how the scorecard shows them."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from agent_configs import ConfigWriter

from readiness.config import ConfigError, ReadinessUsageError, load_config
from readiness.items import BY_KEY, ITEMS
from readiness.reports import (
    ScorecardSchemaError,
    render_html,
    render_junit,
    render_markdown,
    render_sarif,
    validate_scorecard,
)
from readiness.results import Outcome, ProbeResult
from readiness.scorecard import build
from readiness.scoring import evaluate_gate, score_item
from readiness.waivers import Waiver, WaiverBook, check_probe_ids, load_waivers

TODAY = dt.date(2026, 11, 25)
RETRY = ('[[waiver]]\nprobe = "honours_retry_after"\nreason = "provider sends no Retry-After; '
         'JIRA-123"\nowner = "Priya Raman"\nexpires = 2027-01-31\n')


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "readiness-waivers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _result(probe_id: str, outcome: Outcome, blocking: bool = True) -> ProbeResult:
    return ProbeResult(probe_id, "error_handling", "t", outcome, "m", {}, "fix", 1, blocking)


def _waiver(probe: str | None = "honours_retry_after", item: str | None = None,
            expires: dt.date = dt.date(2027, 1, 31), number: int = 1) -> Waiver:
    return Waiver(number, "accepted for now", "Priya Raman", expires, probe=probe, item=item)


def test_a_waiver_file_is_read_with_its_dates(tmp_path: Path) -> None:
    path = _write(tmp_path, RETRY + '[[waiver]]\nitem = "load"\nreason = " r "\nowner = "o"\n'
                  "expires = 2026-12-01\n")
    first, second = load_waivers(path)
    assert (first.probe, first.item, first.owner, first.expires) == (
        "honours_retry_after", None, "Priya Raman", dt.date(2027, 1, 31))
    assert (second.probe, second.item, second.reason, second.number) == (None, "load", "r", 2)
    assert load_waivers(_write(tmp_path, "")) == ()


ENTRY = '[[waiver]]\nreason = "r"\nowner = "o"\nexpires = 2027-01-31\n'


@pytest.mark.parametrize(("text", "key", "expected", "found", "fix"), [
    pytest.param(ENTRY + 'probe = "x"\nowners = "o"\n', "[[waiver]] #1 owners",
                 "one of the keys probe, item, reason, owner, expires", "the unknown key 'owners'",
                 "rename it to 'owner'", id="did-you-mean"),
    pytest.param(ENTRY, "[[waiver]] #1", "exactly one of probe (one probe) or item", "neither",
                 'add probe = "honours_retry_after" or item = "load"', id="neither"),
    pytest.param(ENTRY + 'probe = "x"\nitem = "load"\n', "[[waiver]] #1", "exactly one of",
                 "both", "add probe", id="both"),
    pytest.param(ENTRY + 'item = "lod"\n', "[[waiver]] #1 item",
                 "an item key of the nine-point scorecard", "'lod' (a string)",
                 "write item = 'load'", id="unknown-item"),
    pytest.param(ENTRY + 'probe = "Honours Retry"\n', "[[waiver]] #1 probe",
                 'a probe id such as "honours_retry_after"', "'Honours Retry' (a string)",
                 "copy the probe id from scorecard.json", id="probe-id-shape"),
    pytest.param('[[waiver]]\nprobe = "x"\nowner = "o"\nexpires = 2027-01-31\n',
                 "[[waiver]] #1 reason", "a non-empty string", "it missing", 'write reason = "..."',
                 id="no-reason"),
    pytest.param('[[waiver]]\nprobe = "x"\nreason = "r"\nowner = " "\nexpires = 2027-01-31\n',
                 "[[waiver]] #1 owner", "a non-empty string", "' ' (a string)",
                 'write owner = "..."', id="blank-owner"),
    pytest.param('[[waiver]]\nprobe = "x"\nreason = "r"\nowner = "o"\nexpires = "2027-01-31"\n',
                 "[[waiver]] #1 expires", "a date (YYYY-MM-DD, no quotes)",
                 "'2027-01-31' (a string)", "write expires = 2027-01-31", id="quoted-date"),
    pytest.param('[[waiver]]\nprobe = "x"\nreason = "r"\nowner = "o"\n',
                 "[[waiver]] #1 expires", "a date", "it missing", "write expires = 2027-01-31",
                 id="no-expiry"),
    pytest.param('[[waiver]]\nprobe = "x"\nreason = "r"\nowner = "o"\n'
                 "expires = 2027-01-31T10:00:00\n", "[[waiver]] #1 expires", "a date",
                 "datetime.datetime(2027, 1, 31, 10, 0) (datetime)", "write expires",
                 id="datetime-not-date"),
    pytest.param(RETRY + ENTRY + 'item = "load"\nexpiry = 1\n', "[[waiver]] #2 expiry",
                 "one of the keys", "the unknown key 'expiry'", "rename it to 'expires'",
                 id="counts-entries-from-one"),
    pytest.param('[waivers]\nprobe = "x"\n', "waivers", "only [[waiver]] entries",
                 "the unknown key 'waivers'", "put each waiver in its own [[waiver]] table",
                 id="wrong-table"),
    pytest.param('waiver = "x"\n', "waiver", "an array of [[waiver]] tables", "'x' (a string)",
                 "write each waiver as [[waiver]]", id="not-an-array"),
    pytest.param("[[waiver]\n", "", "valid TOML", "a syntax error", "correct the TOML syntax",
                 id="syntax"),
])
def test_waiver_file_mistakes_name_file_entry_and_key(tmp_path: Path, text: str, key: str,
                                                     expected: str, found: str, fix: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path)
    error = caught.value
    assert isinstance(error, ReadinessUsageError)
    assert (error.file, error.key) == (str(path), key)
    assert f"expected {expected}" in str(error) and f", found {found}" in str(error)
    assert f"Fix: {fix}" in str(error)


def test_a_missing_waiver_file_says_which_setting_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file\. Fix: create it, or correct the "
                       r"\[gate\] waivers path"):
        load_waivers(tmp_path / "absent.toml")


def test_a_waiver_for_an_unknown_probe_suggests_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    with pytest.raises(ConfigError) as caught:
        check_probe_ids(path, [_waiver("honours_retry_afte")], {"honours_retry_after", "other"})
    assert caught.value.key == "[[waiver]] #1 probe"
    assert str(caught.value).endswith("Fix: write probe = 'honours_retry_after'")
    check_probe_ids(path, [_waiver(None, "load")], set())  # item waivers need no probe


def test_waived_failure_counts_as_passed_and_the_gate_opens() -> None:
    book = WaiverBook([_waiver()], TODAY)
    probes = [_result("honours_retry_after", Outcome.FAIL), _result("other", Outcome.PASS)]
    waived = book.waive("error_handling", probes)
    item = score_item(BY_KEY["error_handling"], probes, 7.0, waived=waived)
    assert (item.status, item.score) == ("pass", 10.0)
    assert item.reason == "1 of 2 probes passed; waived failures: honours_retry_after"
    assert item.waived == {"honours_retry_after": {"reason": "accepted for now",
                                                   "owner": "Priya Raman",
                                                   "expires": "2027-01-31"}}
    assert evaluate_gate([item], ["error_handling"], 7.0).ready
    assert book.report()[0]["status"] == "active"
    assert book.report()[0]["probes"] == ["honours_retry_after"]


@pytest.mark.parametrize(("today", "in_force"), [
    (dt.date(2027, 1, 31), True),   # the expiry date is the last day it holds
    (dt.date(2027, 2, 1), False),
])
def test_an_expired_waiver_fails_the_gate_again_and_says_so(today: dt.date,
                                                            in_force: bool) -> None:
    book = WaiverBook([_waiver()], today)
    probes = [_result("honours_retry_after", Outcome.FAIL)]
    item = score_item(BY_KEY["error_handling"], probes, 7.0,
                      waived=book.waive("error_handling", probes))
    assert item.status == ("pass" if in_force else "fail")
    assert evaluate_gate([item], ["error_handling"], 7.0).ready is in_force
    (entry,) = book.report()
    assert entry["status"] == ("active" if in_force else "expired")
    assert entry["probes"] == ["honours_retry_after"]  # what it accepts, or no longer does


def test_a_waiver_matching_no_failure_is_reported_unused() -> None:
    book = WaiverBook([_waiver(), _waiver(None, "load", number=2)], TODAY)
    book.waive("error_handling", [_result("honours_retry_after", Outcome.PASS)])
    assert [(e["status"], e["probes"]) for e in book.report()] == [("unused", []),
                                                                    ("unused", [])]


def test_an_item_waiver_covers_its_failures_but_never_an_error() -> None:
    book = WaiverBook([_waiver(None, "error_handling")], TODAY)
    probes = [_result("a", Outcome.FAIL), _result("b", Outcome.FAIL, blocking=False),
              _result("c", Outcome.ERROR)]
    waived = book.waive("error_handling", probes)
    assert sorted(waived) == ["a", "b"]
    item = score_item(BY_KEY["error_handling"], probes, 7.0, waived=waived)
    assert item.status == "error"  # what could not be assessed cannot be accepted
    assert item.reason.endswith("could not be assessed: c; waived failures: a, b")
    assert book.waive("load", [_result("a", Outcome.FAIL)]) == {}


def test_a_probe_waiver_wins_over_an_item_waiver_which_then_goes_unused() -> None:
    probe_waiver = _waiver(number=2, expires=dt.date(2027, 3, 1))
    book = WaiverBook([_waiver(None, "error_handling"), probe_waiver], TODAY)
    waived = book.waive("error_handling", [_result("honours_retry_after", Outcome.FAIL)])
    assert waived["honours_retry_after"]["expires"] == "2027-03-01"
    assert [e["status"] for e in book.report()] == ["unused", "active"]


def test_an_expired_waiver_gives_way_to_one_in_force() -> None:
    book = WaiverBook([_waiver(expires=dt.date(2026, 1, 1)),
                       _waiver(number=2, expires=dt.date(2027, 1, 1))], TODAY)
    assert book.waive("error_handling", [_result("honours_retry_after", Outcome.FAIL)])
    assert [e["status"] for e in book.report()] == ["expired", "active"]


def _card(book: WaiverBook, outcome: Outcome) -> dict:
    probes = [_result("honours_retry_after", outcome)]
    items = [score_item(item, probes if item.key == "error_handling" else [], 7.0,
                        waived=book.waive(item.key, probes) if item.key == "error_handling"
                        else None) for item in ITEMS]
    moment = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
    return build(agent_name="a", agent_version="1", components={}, started=moment,
                 finished=moment, items=items, gate=evaluate_gate(items, ["error_handling"], 7.0),
                 incomplete=False, notes=[], run={"config": "c", "only": None, "duration_s": 1},
                 changes=None, waivers=book.report())


def test_the_scorecard_marks_the_waived_probe_and_lists_every_waiver() -> None:
    book = WaiverBook([_waiver(), _waiver(None, "load", number=2),
                       _waiver("other_probe", number=3, expires=dt.date(2026, 1, 1))], TODAY)
    card = _card(book, Outcome.FAIL)
    validate_scorecard(card)
    assert card["verdict"] == "ready"
    probe = card["items"][0]["probes"][0]
    assert probe["outcome"] == "fail"
    assert probe["waived"] == {"reason": "accepted for now", "owner": "Priya Raman",
                               "expires": "2027-01-31"}
    assert [(w["status"], w["probe"], w["item"]) for w in card["waivers"]] == [
        ("active", "honours_retry_after", None), ("unused", None, "load"),
        ("expired", "other_probe", None)]
    markdown = render_markdown(card)
    assert "**Waivers:** 3" in markdown
    assert "#### ❌ fail (waived): " in markdown
    assert "**Waived** by Priya Raman until 2027\\-01\\-31: accepted for now" in markdown
    html = render_html(card)
    assert 'id="waivers"' in html and html.count('class="waiver-row"') == 3
    assert '<span class="badge waived">WAIVED</span>' in html
    junit = ET.fromstring(render_junit(card))
    case = junit.find("testsuite/testcase[@name='honours_retry_after']")
    assert case is not None and case.find("failure") is None
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("type") == "readiness.waived"
    assert skipped.get("message", "").startswith("waived until 2027-01-31 by Priya Raman")
    suite = junit.find("testsuite[@name='readiness.error_handling']")
    assert suite is not None and (suite.get("failures"), suite.get("skipped")) == ("0", "1")
    results = [r for r in render_sarif(card)["runs"][0]["results"]
               if r["properties"].get("probe") == "honours_retry_after"]
    assert [r["suppressions"] for r in results] == [[{
        "kind": "external", "status": "accepted",
        "justification": "accepted for now (owner Priya Raman, until 2027-01-31)"}]]


def test_no_waivers_no_section_and_older_scorecards_still_render() -> None:
    card = _card(WaiverBook((), TODAY), Outcome.PASS)
    assert card["waivers"] == []
    del card["waivers"]  # a scorecard from before waivers existed
    validate_scorecard(card)
    assert "Waivers" not in render_markdown(card) and 'id="waivers"' not in render_html(card)


def test_the_schema_allows_a_waiver_only_on_a_failure() -> None:
    card = _card(WaiverBook((), TODAY), Outcome.PASS)
    card["items"][0]["probes"][0]["waived"] = {"reason": "r", "owner": "o",
                                               "expires": "2027-01-31"}
    with pytest.raises(ScorecardSchemaError, match=r"\$\.items\[0\]\.probes\[0\]\.outcome"):
        validate_scorecard(card)


def test_hostile_waiver_text_is_escaped_in_every_rendering() -> None:
    script = "<script>alert(1)</script>"
    book = WaiverBook([Waiver(1, script + " | x", script, dt.date(2027, 1, 1),
                              probe="honours_retry_after")], TODAY)
    card = _card(book, Outcome.FAIL)
    assert script not in render_html(card) and script not in render_markdown(card)
    assert "&#124; x" in render_markdown(card)  # no table cell can split


# --- the runner: waivers from [gate] waivers, judged on the run's `today` ---------------------

AUDIT_WAIVER = ('[[waiver]]\nprobe = "audit_records_name_version"\nreason = "audit store '
                'migrates in Q1"\nowner = "Priya Raman"\nexpires = 2027-01-31\n'
                '[[waiver]]\nprobe = "versioned_files_committed"\nreason = "tmp_path is no git '
                'checkout"\nowner = "tests"\nexpires = 2099-12-31\n')


@pytest.fixture
def lying_agent(write_config: ConfigWriter, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny agent whose audit records name a wrong version, with a waiver for that."""
    components = tmp_path / "prompts"
    components.mkdir()
    (components / "route.md").write_text("Route the lead.\n")
    monkeypatch.setenv("TINY_COMPONENT_DIR", str(components))
    monkeypatch.setenv("TINY_COMPONENT_BASE", str(tmp_path))
    monkeypatch.setenv("TINY_AUDIT_VERSION", "0.9.0")
    _write(tmp_path, AUDIT_WAIVER)
    return write_config('app = "tiny_agent:app"', '[auth]\ninvoke_token = "invoke"\n'
                        'operator_token = "operator"\n[version]\nfiles = ["prompts/**"]\n'
                        '[gate]\nrequired = ["versioning"]\nwaivers = "readiness-waivers.toml"')


@pytest.mark.parametrize(("today", "verdict", "status"), [
    (dt.date(2026, 11, 25), "ready", "active"),
    (dt.date(2027, 2, 1), "not_ready", "expired"),
])
def test_run_applies_waivers_on_its_today(lying_agent: Path, tmp_path: Path, today: dt.date,
                                          verdict: str, status: str) -> None:
    from readiness.runner import run

    config = load_config(lying_agent)
    assert config.gate.waivers == tmp_path / "readiness-waivers.toml"
    card = run(config, tmp_path / "out", only={"versioning"}, today=today).card
    validate_scorecard(card)
    versioning = next(i for i in card["items"] if i["key"] == "versioning")
    probe = next(p for p in versioning["probes"] if p["id"] == "audit_records_name_version")
    assert probe["outcome"] == "fail"
    assert ("waived" in probe) is (status == "active")
    assert card["verdict"] == verdict
    assert [(w["status"], w["probes"]) for w in card["waivers"]] == [
        (status, ["audit_records_name_version"]), ("active", ["versioned_files_committed"])]


def test_run_refuses_a_waiver_for_a_probe_that_does_not_exist(lying_agent: Path,
                                                              tmp_path: Path) -> None:
    from readiness.runner import run

    _write(tmp_path, AUDIT_WAIVER.replace("audit_records_name_version",
                                          "audit_records_name_versoin"))
    with pytest.raises(ConfigError, match=r"#1 probe: .* Fix: write probe = "
                       r"'audit_records_name_version'"):
        run(load_config(lying_agent), tmp_path / "out", only={"versioning"})
    assert not (tmp_path / "out").exists()  # refused before anything started


def test_cli_reports_a_broken_waiver_file_as_a_usage_error(
        lying_agent: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from readiness.cli import main

    _write(tmp_path, '[[waiver]]\nprobe = "x"\n')
    assert main(["run", "--config", str(lying_agent), "--out", str(tmp_path / "out")]) == 2
    assert "readiness-waivers.toml: [[waiver]] #1 reason" in capsys.readouterr().err
