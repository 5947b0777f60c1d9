"""readiness diff: items, probes and components compared; files or history ids; exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reports.reports_cards import HOSTILE, probe, ready_card

from readiness.diff import DiffError, diff_cards, diff_command, load_card, render_diff
from readiness.history import HistoryError, record_run
from readiness.reports import dump_scorecard

DIGEST_B = "sha256:" + "cd" * 32


def _regressed_retry() -> dict[str, Any]:
    """The ready card with honours_retry_after failing, its item failing, the verdict down."""
    card = ready_card()
    card["finished_at"] = "2026-11-26T10:00:00Z"
    item = card["items"][0]
    item["probes"][0] = probe("honours_retry_after", "fail",
                              message="retried after 0.1 s although Retry-After said 2 s")
    item.update(status="fail", score=8.0, reason="1 of 5 probes failed: honours_retry_after")
    card["verdict"] = "not_ready"
    card["gate"].update(failed=["error_handling"])
    return card


def _write(path: Path, card: dict[str, Any]) -> str:
    path.write_text(dump_scorecard(card), encoding="utf-8")
    return str(path)


def test_diff_on_a_pair_where_one_probe_regressed_shows_exactly_that_probe() -> None:
    diff = diff_cards(ready_card(), _regressed_retry())
    worse = [c for c in diff.probes if c.direction == "worse"]
    assert [(c.item, c.id, c.old, c.new) for c in worse] == [
        ("error_handling", "honours_retry_after", "pass", "fail")]
    assert len(diff.probes) == 1 and diff.regressed
    assert [(c.key, c.old_status, c.new_status, c.direction) for c in diff.items] == [
        ("error_handling", "pass", "fail", "worse")]
    text = render_diff(diff)
    assert text.splitlines()[1] == "verdict: ready -> not_ready"
    assert "worse (2):\n  item  error_handling: pass 10.0 -> fail 8.0\n" \
           "  probe error_handling/honours_retry_after: pass -> fail: retried after 0.1 s" in text
    others = {p["id"] for item in ready_card()["items"] for p in item["probes"]}
    assert [pid for pid in others - {"honours_retry_after"} if pid in text] == []


def test_an_identical_pair_changes_nothing() -> None:
    diff = diff_cards(ready_card(), ready_card())
    assert (diff.items, diff.probes, diff.regressed) == ((), (), False)
    assert render_diff(diff).endswith("verdict: ready (unchanged)\n\n"
                                      "no item, probe or versioned component changed\n")


def test_a_fix_is_better_and_worse_comes_first() -> None:
    old = _regressed_retry()
    new = ready_card()
    new["items"][1]["probes"][2] = probe("records_version", "error")  # pass -> error: worse
    new["items"][1].update(status="error", score=10.0)
    diff = diff_cards(old, new)
    assert {(c.id, c.direction) for c in diff.probes} == {("honours_retry_after", "better"),
                                                          ("records_version", "worse")}
    text = render_diff(diff)
    assert text.index("worse (2):") < text.index("better (2):")
    assert "  item  audit: pass 10.0 -> error 10.0" in text
    assert diff.regressed


@pytest.mark.parametrize(("old", "new", "direction"), [
    ("pass", "not_applicable", "changed"),
    ("fail", "error", "changed"),
    ("error", "pass", "better"),
    ("not_applicable", "fail", "worse"),
])
def test_outcome_changes_are_classed(old: str, new: str, direction: str) -> None:
    before, after = ready_card(), ready_card()
    before["items"][0]["probes"][0]["outcome"] = old
    after["items"][0]["probes"][0]["outcome"] = new
    (change,) = diff_cards(before, after).probes
    assert change.direction == direction


def test_losing_a_waiver_is_worse_and_gaining_one_is_better() -> None:
    waived = _regressed_retry()
    waived["items"][0]["probes"][0]["waived"] = {"reason": "r", "owner": "o",
                                                 "expires": "2027-01-31"}
    (lost,) = diff_cards(waived, _regressed_retry()).probes
    assert (lost.old, lost.new, lost.direction) == ("fail (waived)", "fail", "worse")
    (gained,) = diff_cards(_regressed_retry(), waived).probes
    assert gained.direction == "better"
    (accepted,) = diff_cards(ready_card(), waived).probes
    assert accepted.direction == "worse"  # a regression, even one the team accepted


def test_new_and_removed_probes_and_changed_components() -> None:
    old, new = ready_card(), ready_card()
    new["items"][8]["probes"].append(probe("owner_on_call_rota", "fail"))
    del new["items"][7]["probes"][1]
    new["agent"]["components"] = {"lead_router/prompts/route_lead.md": DIGEST_B,
                                  "lead_router/tools.py": DIGEST_B}
    diff = diff_cards(old, new)
    assert {(c.id, c.direction) for c in diff.probes} == {("owner_on_call_rota", "new"),
                                                          ("runbook_actions_work", "removed")}
    assert not diff.regressed  # a new probe is the harness growing, not the agent regressing
    assert dict(diff.components) == {"changed": ("lead_router/prompts/route_lead.md",),
                                     "added": ("lead_router/tools.py",),
                                     "removed": ("lead_router/rules/routing.yaml",)}
    text = render_diff(diff)
    assert "new probes (1):\n  probe owner/owner_on_call_rota: absent -> fail" in text
    assert "removed probes (1):\n  probe docs/runbook_actions_work: pass -> absent" in text
    assert "components (3):\n  changed  lead_router/prompts/route_lead.md\n" in text


def test_a_lower_score_on_a_passing_item_is_worse() -> None:
    new = ready_card()
    new["items"][2]["score"] = 7.5
    (change,) = diff_cards(ready_card(), new).items
    assert (change.key, change.direction) == ("rollback", "worse")


def test_hostile_text_is_made_inert() -> None:
    new = _regressed_retry()
    new["agent"]["name"] = HOSTILE
    new["items"][0]["probes"][0]["message"] = HOSTILE
    new["agent"]["components"] = {HOSTILE: DIGEST_B}
    text = render_diff(diff_cards(ready_card(), new))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert all(len(line) < 400 for line in text.splitlines())


def test_diff_command_takes_files_and_history_ids_and_exits_by_regression(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.db"
    old_id = record_run(db, ready_card())
    new_file = _write(tmp_path / "new.json", _regressed_retry())
    assert diff_command(str(old_id), new_file, db) == 1
    assert "probe error_handling/honours_retry_after: pass -> fail" in capsys.readouterr().out
    assert diff_command(new_file, str(old_id), db) == 0
    assert diff_command(new_file, new_file, db) == 0


def test_a_numeric_name_that_is_a_file_is_read_as_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "1", _regressed_retry())
    assert load_card("1", tmp_path / "no-history.db")["verdict"] == "not_ready"


def test_arguments_that_are_neither_file_nor_run_are_usage_errors(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    with pytest.raises(DiffError, match=r"'old\.json' is neither a scorecard file \(no such "
                       r"file\) nor a run id"):
        load_card("old.json", db)
    with pytest.raises(HistoryError, match="no run history there yet"):
        load_card("3", db)
    record_run(db, ready_card())
    with pytest.raises(HistoryError, match="no run 3 in the history"):
        load_card("3", db)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(DiffError, match=r"broken\.json: not a readable scorecard\.json"):
        load_card(str(broken), db)
    broken.write_text(json.dumps({"schema": "something else"}), encoding="utf-8")
    with pytest.raises(DiffError, match=r"does not match the readiness\.scorecard/v1 schema"):
        load_card(str(broken), db)
