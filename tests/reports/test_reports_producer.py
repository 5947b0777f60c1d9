"""What readiness.scorecard.build produces is what the schema and renderers accept."""

from __future__ import annotations

import datetime as dt

from readiness.items import ITEMS
from readiness.reports import (
    render_html,
    render_junit,
    render_markdown,
    render_terminal,
    validate_scorecard,
)
from readiness.results import Outcome, ProbeResult
from readiness.scorecard import build
from readiness.scoring import evaluate_gate, score_item


def _probe(item: str, probe_id: str, outcome: Outcome) -> ProbeResult:
    return ProbeResult(id=probe_id, item=item, title=probe_id, outcome=outcome,
                       message=f"{probe_id} {outcome.value}", evidence={"n": (1, 2)},
                       remediation="fix it")


def test_a_built_scorecard_validates_and_renders() -> None:
    outcomes = [Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE]
    items = [
        score_item(item, [] if index == 6 else [
            _probe(item.key, f"{item.key}_probe", outcomes[index % 4])], 7.0)
        for index, item in enumerate(ITEMS)
    ]
    gate = evaluate_gate(items, [item.key for item in ITEMS], 7.0)
    started = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    card = build(
        agent_name="lead-router", agent_version="1.4.0",
        components={"prompts/a.md": "sha256:" + "a" * 64},
        started=started, finished=started + dt.timedelta(seconds=42), items=items, gate=gate,
        incomplete=False, notes=["agent restarted once"],
        run={"config": "readiness.toml", "only": None, "duration_s": 42.0},
        changes={"previous_file": None, "previous_version": None,
                 "previous_finished_at": "2026-11-20T10:00:00Z",
                 "changed": [], "added": ["prompts/a.md"], "removed": []},
    )
    validate_scorecard(card)
    assert card["verdict"] == "not_ready"
    for text in (render_html(card), render_markdown(card), render_junit(card),
                 render_terminal(card, color=False)):
        assert all(item.key.split("_")[0] in text for item in ITEMS)
