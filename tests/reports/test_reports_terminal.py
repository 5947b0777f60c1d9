"""The console summary: one line per item, a verdict line, and no hostile escapes."""

from __future__ import annotations

import re

import pytest
from reports_cards import NAMES, SCRIPT, valid

from readiness.items import ITEMS
from readiness.reports import render_terminal

OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("name", NAMES)
def test_without_color_there_are_no_control_characters(name: str) -> None:
    text = render_terminal(valid(name), color=False)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


@pytest.mark.parametrize("name", NAMES)
def test_with_color_the_only_escapes_are_our_colours(name: str) -> None:
    text = render_terminal(valid(name), color=True)
    assert OUR_SGR.search(text)
    assert "\x1b" not in OUR_SGR.sub("", text)


@pytest.mark.parametrize("name", NAMES)
def test_one_line_per_item_then_the_verdict(name: str) -> None:
    card = valid(name)
    lines = render_terminal(card, color=False).splitlines()
    item_lines = lines[1:10]
    for item, line in zip(ITEMS, item_lines, strict=True):
        assert re.match(rf"  (PASS|FAIL|ERROR|NOT RUN) +\d+\.\d  {item.key} ", line), line
    verdict = "READY:" if card["verdict"] == "ready" else "NOT READY:"
    assert lines[-1].startswith(verdict)


def test_status_words_scores_and_reasons() -> None:
    lines = render_terminal(valid("not_ready"), color=False).splitlines()
    assert lines[2] == ("  FAIL     3.3  audit           2 of 3 probes failed: "
                        "audit_effects_match_upstream, records_version")
    assert lines[7].startswith("  NOT RUN  0.0  load            not assessed")
    assert lines[-1] == ("NOT READY: release gate failed on audit, security, load "
                         "(min score 7.0, lowest required 0.0)")


def test_ready_verdict() -> None:
    text = render_terminal(valid("ready"), color=True)
    assert "\x1b[1;32mREADY\x1b[0m: release gate passed" in text


def test_incomplete_and_notes_are_shown() -> None:
    text = render_terminal(valid("incomplete"), color=False)
    assert "note: interrupted by the user (Ctrl-C) at 10:00:12" in text
    assert "INCOMPLETE: the run did not assess every item" in text


def test_hostile_text_stays_on_one_line_and_is_shortened() -> None:
    lines = render_terminal(valid("hostile"), color=False).splitlines()
    assert len(lines) == 1 + 9 + 2 + 1
    assert SCRIPT in lines[1] and all(len(line) < 400 for line in lines)
